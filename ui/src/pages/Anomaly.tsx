import { Button, Card, Group, SimpleGrid, Table, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMutation } from "../components/mutation";
import { useParams } from "react-router-dom";
import { api, unwrap } from "../api/client";
import type { Anomaly } from "../api/types";
import { useCan } from "../auth";
import { AnomalyComments, AnomalyTriage, userLabel } from "../components/AnomalyTriage";
import { ACTION_LABELS, setAnomalyStatus, type AnomalyAction } from "../components/anomalyActions";
import { EntityLink, ErrorAlert, Loading, PageTitle, StatusBadge } from "../components/common";
import { formatNumber, formatTime } from "../lib";

/** Source records of an anomaly: each is a JSON object (a string in the API's answer). */
export function parseSourceRecords(raw: { source_record: unknown }[]): Record<string, unknown>[] {
  return raw.map((r) => {
    if (typeof r.source_record === "string") {
      try {
        return JSON.parse(r.source_record) as Record<string, unknown>;
      } catch {
        return { source_record: r.source_record };
      }
    }
    return (r.source_record ?? {}) as Record<string, unknown>;
  });
}

export function SourceRecordsTable({
  records,
  highlight,
  label = "Failing source records",
}: {
  records: Record<string, unknown>[];
  highlight: string[];
  label?: string;
}) {
  const columns = Array.from(new Set(records.flatMap((r) => Object.keys(r))));
  // the fields the failed checks are about come first
  columns.sort((a, b) => Number(highlight.includes(b)) - Number(highlight.includes(a)));
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={label}>
      <Table striped withTableBorder fz="xs" miw={columns.length * 90}>
        <Table.Thead>
          <Table.Tr>
            {columns.map((c) => (
              <Table.Th key={c} bg={highlight.includes(c) ? "var(--mantine-color-red-light)" : undefined}>
                {c}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {records.map((r, i) => (
            <Table.Tr key={i}>
              {columns.map((c) => (
                <Table.Td key={c} bg={highlight.includes(c) ? "var(--mantine-color-red-light)" : undefined}>
                  {r[c] === null || r[c] === undefined ? <Text span c="dimmed" fz="xs">null</Text> : String(r[c])}
                </Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </div>
  );
}

export function AnomalyPage() {
  const id = Number(useParams().id);
  const queryClient = useQueryClient();
  const anomaly = useQuery({
    queryKey: ["anomaly", id],
    queryFn: () => unwrap<Anomaly>(api.GET("/api/anomalies/{anomaly_id}", { params: { path: { anomaly_id: id } } })),
  });
  const can = useCan(anomaly.data?.datastore?.id);
  const canReadRecords = can.view; // a Reporter sees counts, not the rows
  const records = useQuery({
    queryKey: ["anomaly", id, "source-record"],
    enabled: canReadRecords,
    queryFn: () =>
      unwrap<{ source_record: unknown }[]>(
        api.GET("/api/anomalies/{anomaly_id}/source-record", { params: { path: { anomaly_id: id } } }),
      ),
  });
  const act = useMutation({
    mutationFn: (status: AnomalyAction) => setAnomalyStatus([id], status),
    onSuccess: (_d, status) => {
      notifications.show({ color: "green", message: `Anomaly ${id}: ${status}` });
      queryClient.invalidateQueries({ queryKey: ["anomaly", id] });
      queryClient.invalidateQueries({ queryKey: ["anomalies"] });
    },
  });
  if (anomaly.isLoading) return <Loading />;
  if (!anomaly.data) return <ErrorAlert error={anomaly.error ?? "not found"} />;
  const a = anomaly.data;
  const highlight = a.failed_checks.flatMap((f) => f.quality_check?.fields.map((x) => x.name) ?? []);
  const parsed = parseSourceRecords(records.data ?? []);
  const open = a.status === "Active" || a.status === "Acknowledged";
  return (
    <>
      <PageTitle title={`Anomaly ${a.id}`}>
        <StatusBadge value={a.status} />
        {(Object.keys(ACTION_LABELS) as AnomalyAction[])
          .filter((s) => can.edit && s !== a.status && (s !== "Active" || !open))
          .map((s) => (
            <Button key={s} variant={s === "Acknowledged" ? "filled" : "default"} onClick={() => act.mutate(s)} loading={act.isPending && act.variables === s} disabled={act.isPending}>
              {ACTION_LABELS[s]}
            </Button>
          ))}
      </PageTitle>
      <ErrorAlert error={act.error} />
      <Card withBorder mb="md">
        <Text fw={600} mb="xs">
          {a.message}
        </Text>
        <Group gap="lg" wrap="wrap">
          <Text size="sm">
            Datastore: {a.datastore ? <EntityLink to={`/datastores/${a.datastore.id}`}>{a.datastore.name}</EntityLink> : "—"}
          </Text>
          <Text size="sm">
            Container: {a.container ? <EntityLink to={`/containers/${a.container.id}`}>{a.container.name}</EntityLink> : "—"}
          </Text>
          <Text size="sm">Type: {a.type}</Text>
          <Text size="sm">Records: {formatNumber(a.anomalous_records_count)}</Text>
          <Text size="sm">Detected: {formatTime(a.created)}</Text>
          {a.operation_id && (
            <Text size="sm">
              By scan <EntityLink to={`/operations/${a.operation_id}`}>#{a.operation_id}</EntityLink>
            </Text>
          )}
        </Group>
      </Card>
      <SimpleGrid cols={{ base: 1, md: 2 }} mb="md">
        <AnomalyTriage anomaly={a} canChange={can.edit} key={`${a.id}-${a.assignee_ids.join()}-${a.description}`} />
        <AnomalyComments anomaly={a} meId={can.me?.id} canComment={can.view} />
      </SimpleGrid>
      <Title order={2} size="h3" mb="xs">
        History
      </Title>
      <div className="table-scroll">
        <Table mb="md" miw={420} aria-label="Status history">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>By</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            <Table.Tr>
              <Table.Td>{formatTime(a.created)}</Table.Td>
              <Table.Td>detected (Active)</Table.Td>
              <Table.Td>{a.operation_id ? `scan #${a.operation_id}` : "—"}</Table.Td>
            </Table.Tr>
            {(a.status_changes ?? []).map((c, i) => (
              <Table.Tr key={i}>
                <Table.Td>{formatTime(c.created)}</Table.Td>
                <Table.Td>
                  {c.previous ?? "—"} → {c.status}
                </Table.Td>
                <Table.Td>{c.user ? userLabel(c.user) : "a scan"}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </div>
      <Title order={2} size="h3" mb="xs">
        Failed checks
      </Title>
      <div className="table-scroll">
        <Table mb="md" miw={520}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Check</Table.Th>
              <Table.Th>Rule</Table.Th>
              <Table.Th>Fields</Table.Th>
              <Table.Th>Message</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {a.failed_checks.map((f) => (
              <Table.Tr key={f.quality_check_id}>
                <Table.Td>
                  <EntityLink to={`/checks/${f.quality_check_id}`}>#{f.quality_check_id}</EntityLink>
                </Table.Td>
                <Table.Td>{f.quality_check?.rule_type}</Table.Td>
                <Table.Td>{f.quality_check?.fields.map((x) => x.name).join(", ") || "—"}</Table.Td>
                <Table.Td>{f.message}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </div>
      <Title order={2} size="h3" mb="xs">
        Source records
      </Title>
      {!canReadRecords && can.me && (
        <Text size="sm">Reading source records takes the Viewer permission on this datastore.</Text>
      )}
      <ErrorAlert error={records.error} />
      {records.isLoading && <Loading label="Reading the enrichment datastore" />}
      {records.data && parsed.length === 0 && (
        <Text size="sm">
          {a.source_enriched
            ? "No source records were kept for this anomaly."
            : "No source records: the datastore had no enrichment datastore when it was scanned."}
        </Text>
      )}
      {parsed.length > 0 && <SourceRecordsTable records={parsed} highlight={highlight} />}
    </>
  );
}
