import { Button, Card, Group, Progress, SimpleGrid, Table, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMutation } from "../components/mutation";
import { useEffect, useRef } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { useCan } from "../auth";
import type { Operation } from "../api/types";
import { operationSummary } from "../components/operationData";
import { EntityLink, ErrorAlert, Loading, PageTitle, StatusBadge } from "../components/common";
import { duration, formatNumber, formatTime } from "../lib";

/** Share of containers done, 0..100 (100 once the operation ended). */
export function progressOf(op: Operation): number {
  if (op.end_time) return 100;
  const total = op.status?.total_containers ?? 0;
  const done = op.status?.containers_analyzed ?? 0;
  return total > 0 ? Math.min(100, Math.round((done / total) * 100)) : 0;
}

export function OperationPage() {
  const id = Number(useParams().id);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const op = useQuery({
    queryKey: ["operation", id],
    queryFn: () => unwrap<Operation>(api.GET("/api/operations/{operation_id}", { params: { path: { operation_id: id } } })),
    // live progress: poll while it runs
    refetchInterval: (q) => (q.state.data && !q.state.data.end_time ? 1000 : false),
  });
  // when a watched operation ends, what it changed (containers, profiles, checks, anomalies) is stale
  const wasRunning = useRef(false);
  const ended = !!op.data?.end_time;
  useEffect(() => {
    if (op.data && !ended) wasRunning.current = true;
    if (ended && wasRunning.current) {
      wasRunning.current = false;
      queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] !== "operation" });
    }
  }, [op.data, ended, queryClient]);
  const control = useMutation({
    mutationFn: (action: "abort" | "resume" | "rerun") => {
      const params = { params: { path: { operation_id: id } } };
      if (action === "abort") return unwrap<Operation>(api.PUT("/api/operations/abort/{operation_id}", params));
      if (action === "resume") return unwrap<Operation>(api.PUT("/api/operations/run/{operation_id}", params));
      return unwrap<Operation>(api.PUT("/api/operations/rerun/{operation_id}", params));
    },
    onSuccess: (next, action) => {
      queryClient.invalidateQueries({ queryKey: ["operation"] });
      queryClient.invalidateQueries({ queryKey: ["operations"] });
      notifications.show({ message: `Operation ${next.id}: ${action} requested` });
      if (next.id !== id) navigate(`/operations/${next.id}`);
    },
  });
  const can = useCan(op.data?.datastore_id);
  if (op.isLoading) return <Loading />;
  if (!op.data) return <ErrorAlert error={op.error ?? "not found"} />;
  const o = op.data;
  const running = !o.end_time;
  const pct = progressOf(o);
  return (
    <>
      <PageTitle title={`Operation ${o.id}: ${o.type}`}>
        <StatusBadge value={o.queued ? "queued" : o.result} />
        {can.edit && running && (
          <Button color="red.9" onClick={() => control.mutate("abort")} loading={control.isPending && control.variables === "abort"} disabled={control.isPending}>
            Abort
          </Button>
        )}
        {can.edit && !running && o.type === "scan" && (o.result === "aborted" || o.result === "failure") && (
          <Button variant="default" onClick={() => control.mutate("resume")} loading={control.isPending && control.variables === "resume"} disabled={control.isPending}>
            Resume
          </Button>
        )}
        {can.edit && !running && (
          <Button variant="default" onClick={() => control.mutate("rerun")} loading={control.isPending && control.variables === "rerun"} disabled={control.isPending}>
            Rerun
          </Button>
        )}
      </PageTitle>
      <ErrorAlert error={control.error} />
      <Card withBorder mb="md">
        <Group justify="space-between" mb={6}>
          <Text size="sm">
            {o.datastore ? <EntityLink to={`/datastores/${o.datastore.id}`}>{o.datastore.name}</EntityLink> : "—"} · started{" "}
            {formatTime(o.start_time ?? o.created)} · {duration(o.start_time, o.end_time)}
          </Text>
          <Text size="sm" fw={600}>
            {running
              ? `${o.status?.containers_analyzed ?? 0} of ${o.status?.total_containers ?? "?"} containers`
              : `finished ${formatTime(o.end_time)}`}
          </Text>
        </Group>
        <Progress value={pct} animated={running} size="lg" aria-label={`Progress ${pct}%`} color={o.result === "failure" ? "red" : undefined} />
        {o.message && (
          <Text size="sm" mt="sm" c={o.result === "failure" ? "red.8" : undefined}>
            {o.message}
          </Text>
        )}
      </Card>
      {o.status && (
        <SimpleGrid cols={{ base: 2, sm: 4 }} mb="md">
          {operationSummary(o).map(([label, v]) => (
            <Card withBorder padding="sm" key={label}>
              <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                {label}
              </Text>
              <Text fw={600}>{formatNumber(v)}</Text>
            </Card>
          ))}
        </SimpleGrid>
      )}
      {o.container_scans && o.container_scans.length > 0 && (
        <>
          <Title order={2} size="h3" mb="xs">
            Containers scanned
          </Title>
          <div className="table-scroll">
            <Table striped miw={640}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Container</Table.Th>
                  <Table.Th>Result</Table.Th>
                  <Table.Th>Records</Table.Th>
                  <Table.Th>Checks passed / failed</Table.Th>
                  <Table.Th>Anomalies</Table.Th>
                  <Table.Th>Duration</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {o.container_scans.map((cs) => {
                  const failed = cs.quality_checks.filter((c) => c.result !== "passed").length;
                  return (
                    <Table.Tr key={cs.id}>
                      <Table.Td>{cs.container ? <EntityLink to={`/containers/${cs.container.id}`}>{cs.container.name}</EntityLink> : "—"}</Table.Td>
                      <Table.Td>
                        <StatusBadge value={cs.result} />
                        {cs.message && <Text size="xs">{cs.message}</Text>}
                      </Table.Td>
                      <Table.Td>{formatNumber(cs.records_processed)}</Table.Td>
                      <Table.Td>
                        {cs.quality_checks.length - failed} / {failed}
                      </Table.Td>
                      <Table.Td>
                        {cs.anomaly_count && cs.container ? (
                          <EntityLink to={`/anomalies?container=${cs.container.id}&datastore=${o.datastore_id}`}>{cs.anomaly_count}</EntityLink>
                        ) : (
                          formatNumber(cs.anomaly_count)
                        )}
                      </Table.Td>
                      <Table.Td>{duration(cs.start_time, cs.end_time)}</Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </div>
        </>
      )}
      {o.container_profiles && o.container_profiles.length > 0 && (
        <>
          <Title order={2} size="h3" mb="xs">
            Containers profiled
          </Title>
          <div className="table-scroll">
            <Table striped miw={560}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Container</Table.Th>
                  <Table.Th>Result</Table.Th>
                  <Table.Th>Records</Table.Th>
                  <Table.Th>Fields profiled</Table.Th>
                  <Table.Th>Checks inferred</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {o.container_profiles.map((cp) => (
                  <Table.Tr key={cp.id}>
                    <Table.Td>{cp.container ? <EntityLink to={`/containers/${cp.container.id}`}>{cp.container.name}</EntityLink> : "—"}</Table.Td>
                    <Table.Td>
                      <StatusBadge value={cp.result} />
                    </Table.Td>
                    <Table.Td>{formatNumber(cp.records_processed)}</Table.Td>
                    <Table.Td>{cp.field_profiles_count}</Table.Td>
                    <Table.Td>{formatNumber(cp.checks_added)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </div>
        </>
      )}
    </>
  );
}
