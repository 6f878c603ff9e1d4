import { Group, Select, Table, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { Operation, Page } from "../api/types";
import { EntityLink, ErrorAlert, Loading, PageTitle, Pager, StatusBadge } from "../components/common";
import { DatastoreFilter } from "../components/Filters";
import { definedParams, duration, formatTime, useQueryState } from "../lib";

const KEYS = ["datastore", "operation_type", "result", "page", "size"] as const;

export function OperationsPage() {
  const [q, setQ] = useQueryState(KEYS);
  const page = Number(q.page ?? 1);
  const size = Number(q.size ?? 25);
  const query = { ...definedParams(q, ["datastore", "page", "size"]), page, size };
  const list = useQuery({
    queryKey: ["operations", query],
    queryFn: () => unwrap<Page<Operation>>(api.GET("/api/operations", { params: { query: query as never } })),
    refetchInterval: (qq) => (qq.state.data?.items.some((o) => !o.end_time) ? 1500 : false),
  });
  return (
    <>
      <PageTitle title="Operations" />
      <Group gap="sm" mb="md" align="flex-end" wrap="wrap">
        <DatastoreFilter value={q.datastore} onChange={(v) => setQ({ datastore: v })} />
        <Select label="Type" placeholder="Any" clearable w={150} data={["sync", "profile", "scan", "export"]} value={q.operation_type} onChange={(v) => setQ({ operation_type: v })} />
        <Select
          label="Result"
          placeholder="Any"
          clearable
          w={150}
          data={["queued", "running", "success", "failure", "aborted"]}
          value={q.result}
          onChange={(v) => setQ({ result: v })}
        />
      </Group>
      <ErrorAlert error={list.error} />
      {list.isLoading && <Loading />}
      {list.data && (
        <>
          {list.data.total === 0 && <Text>No operations match these filters.</Text>}
          <div className="table-scroll">
            <Table striped highlightOnHover miw={720}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Operation</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Datastore</Table.Th>
                  <Table.Th>Started</Table.Th>
                  <Table.Th>Duration</Table.Th>
                  <Table.Th>Result</Table.Th>
                  <Table.Th>Trigger</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.data.items.map((o) => (
                  <Table.Tr key={o.id}>
                    <Table.Td>
                      <EntityLink to={`/operations/${o.id}`}>#{o.id}</EntityLink>
                    </Table.Td>
                    <Table.Td>{o.type}</Table.Td>
                    <Table.Td>{o.datastore ? <EntityLink to={`/datastores/${o.datastore.id}`}>{o.datastore.name}</EntityLink> : "—"}</Table.Td>
                    <Table.Td>{formatTime(o.start_time ?? o.created)}</Table.Td>
                    <Table.Td>{duration(o.start_time, o.end_time)}</Table.Td>
                    <Table.Td>
                      <StatusBadge value={o.queued ? "queued" : o.result} />
                    </Table.Td>
                    <Table.Td>{o.schedule ? `schedule ${o.schedule.name}` : o.triggered_by}</Table.Td>
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
