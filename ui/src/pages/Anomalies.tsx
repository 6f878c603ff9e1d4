import { Button, Checkbox, Group, MultiSelect, Select, Table, Text, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMutation } from "../components/mutation";
import { useState } from "react";
import { api, unwrap } from "../api/client";
import { hasPermission, hasPermissionSomewhere, useMe } from "../auth";
import { ARCHIVED_STATUSES, OPEN_STATUSES, type Anomaly, type Page } from "../api/types";
import { ACTION_LABELS, setAnomalyStatus, type AnomalyAction } from "../components/anomalyActions";
import { EntityLink, ErrorAlert, Loading, PageTitle, Pager, StatusBadge } from "../components/common";
import { ContainerFilter, DatastoreFilter } from "../components/Filters";
import { definedParams, formatNumber, formatTime, useQueryState } from "../lib";
import { useRuleSpecs } from "./CheckForm";

const KEYS = [
  "datastore",
  "container",
  "quality_check",
  "status",
  "rule_type",
  "anomaly_type",
  "start_date",
  "end_date",
  "page",
  "size",
] as const;

export function AnomaliesPage() {
  const [q, setQ] = useQueryState(KEYS);
  const page = Number(q.page ?? 1);
  const size = Number(q.size ?? 25);
  const specs = useRuleSpecs();
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState<number[]>([]);
  const me = useMe().data;
  const triage = hasPermissionSomewhere(me, "Editor"); // bulk status changes take Editor
  const query = { ...definedParams(q, ["datastore", "container", "quality_check", "page", "size"]), page, size };
  const list = useQuery({
    queryKey: ["anomalies", query],
    queryFn: () => unwrap<Page<Anomaly>>(api.GET("/api/anomalies", { params: { query: query as never } })),
  });
  const act = useMutation({
    mutationFn: ({ ids, status }: { ids: number[]; status: AnomalyAction }) => setAnomalyStatus(ids, status),
    onSuccess: (_d, { ids, status }) => {
      notifications.show({ color: "green", message: `${ids.length} anomal${ids.length === 1 ? "y" : "ies"}: ${status}` });
      setSelected([]);
      queryClient.invalidateQueries({ queryKey: ["anomalies"] });
      queryClient.invalidateQueries({ queryKey: ["anomaly"] });
    },
  });
  const items = list.data?.items ?? [];
  const allSelected = items.length > 0 && items.every((a) => selected.includes(a.id));
  const statuses = q.status ? q.status.split(",") : [];
  return (
    <>
      <PageTitle title="Anomalies" />
      <Group gap="sm" mb="md" align="flex-end" wrap="wrap">
        <DatastoreFilter value={q.datastore} onChange={(v) => setQ({ datastore: v, container: null })} />
        <ContainerFilter datastore={q.datastore} value={q.container} onChange={(v) => setQ({ container: v })} />
        <MultiSelect
          label="Status"
          placeholder={statuses.length ? undefined : "Open (active, acknowledged)"}
          clearable
          w={260}
          data={[...OPEN_STATUSES, ...ARCHIVED_STATUSES]}
          value={statuses}
          onChange={(v) => setQ({ status: v.join(",") })}
        />
        <Select
          label="Rule type"
          placeholder="Any"
          clearable
          searchable
          w={190}
          data={(specs.data ?? []).map((s) => s.rule)}
          value={q.rule_type}
          onChange={(v) => setQ({ rule_type: v })}
        />
        <Select
          label="Type"
          placeholder="Any"
          clearable
          w={120}
          data={["record", "shape"]}
          value={q.anomaly_type}
          onChange={(v) => setQ({ anomaly_type: v })}
        />
        <TextInput label="From" type="date" w={160} value={q.start_date ?? ""} onChange={(e) => setQ({ start_date: e.currentTarget.value })} />
        <TextInput label="To" type="date" w={160} value={q.end_date ?? ""} onChange={(e) => setQ({ end_date: e.currentTarget.value })} />
        {q.quality_check && (
          <Button variant="default" size="sm" onClick={() => setQ({ quality_check: null })}>
            Check #{q.quality_check} ✕
          </Button>
        )}
      </Group>
      {triage && (
      <Group gap="xs" mb="sm" aria-label="Bulk actions" role="group">
        <Text size="sm">{selected.length} selected</Text>
        {(Object.keys(ACTION_LABELS) as AnomalyAction[]).map((s) => (
          <Button
            key={s}
            size="xs"
            variant="default"
            disabled={selected.length === 0 || act.isPending}
            loading={act.isPending && act.variables?.status === s}
            onClick={() => act.mutate({ ids: selected, status: s })}
          >
            {ACTION_LABELS[s]} selected
          </Button>
        ))}
      </Group>
      )}
      <ErrorAlert error={list.error ?? act.error} />
      {list.isLoading && <Loading />}
      {list.data && (
        <>
          {list.data.total === 0 && <Text>No anomalies match these filters.</Text>}
          <div className="table-scroll">
            <Table striped highlightOnHover miw={820}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={40}>
                    {triage && (
                    <Checkbox
                      aria-label="Select all on this page"
                      checked={allSelected}
                      indeterminate={!allSelected && items.some((a) => selected.includes(a.id))}
                      onChange={() => setSelected(allSelected ? [] : items.map((a) => a.id))}
                    />
                    )}
                  </Table.Th>
                  <Table.Th>Anomaly</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Rule</Table.Th>
                  <Table.Th>Container</Table.Th>
                  <Table.Th>Records</Table.Th>
                  <Table.Th>Detected</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((a) => (
                  <Table.Tr key={a.id}>
                    <Table.Td>
                      {hasPermission(me, a.datastore?.id, "Editor") && (
                      <Checkbox
                        aria-label={`Select anomaly ${a.id}`}
                        checked={selected.includes(a.id)}
                        onChange={() =>
                          setSelected((s) => (s.includes(a.id) ? s.filter((x) => x !== a.id) : [...s, a.id]))
                        }
                      />
                      )}
                    </Table.Td>
                    <Table.Td>
                      <EntityLink to={`/anomalies/${a.id}`}>#{a.id}</EntityLink>
                      <Text size="xs" lineClamp={2} maw={360}>
                        {a.message}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge value={a.status} />
                    </Table.Td>
                    <Table.Td>{a.type}</Table.Td>
                    <Table.Td>{a.failed_checks.map((f) => f.quality_check?.rule_type ?? `#${f.quality_check_id}`).join(", ")}</Table.Td>
                    <Table.Td>{a.container ? <EntityLink to={`/containers/${a.container.id}`}>{a.container.name}</EntityLink> : "—"}</Table.Td>
                    <Table.Td>{formatNumber(a.anomalous_records_count)}</Table.Td>
                    <Table.Td>{formatTime(a.created)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </div>
          <Pager page={page} size={size} total={list.data.total} onPage={(p) => setQ({ page: p })} onSize={(s) => setQ({ size: s })} />
        </>
      )}
    </>
  );
}
