import { Button, Group, Table, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { FavoriteStar } from "../components/Favorite";
import { hasRole, useMe } from "../auth";
import type { Datastore, Operation, Page } from "../api/types";
import { EntityLink, ErrorAlert, Loading, PageTitle, Pager, StatusBadge } from "../components/common";
import { ScoreBadge } from "../components/QualityScore";
import { useQueryState } from "../lib";
import { relativeTime } from "../lib";

/** Health of a datastore: its last operation's result, its last scan, its open anomalies. */
export function useDatastoreHealth(id: number) {
  const lastOp = useQuery({
    queryKey: ["operations", { datastore: id, size: 1 }],
    queryFn: () => unwrap<Page<Operation>>(api.GET("/api/operations", { params: { query: { datastore: [id], size: 1 } } })),
  });
  const lastScan = useQuery({
    queryKey: ["operations", { datastore: id, size: 1, operation_type: "scan" }],
    queryFn: () =>
      unwrap<Page<Operation>>(
        api.GET("/api/operations", { params: { query: { datastore: [id], size: 1, operation_type: "scan" } } }),
      ),
  });
  const open = useQuery({
    queryKey: ["anomalies", { datastore: id, size: 1 }],
    queryFn: () => unwrap<Page<unknown>>(api.GET("/api/anomalies", { params: { query: { datastore: [id], size: 1 } } })),
  });
  const op = lastOp.data?.items[0];
  const scan = lastScan.data?.items[0];
  const health = !op ? "unknown" : op.result === "failure" ? "failing" : op.result === "success" ? "healthy" : op.result;
  return { health, lastOperation: op, lastScan: scan, openAnomalies: open.data?.total };
}

function DatastoreRow({ ds }: { ds: Datastore }) {
  const h = useDatastoreHealth(ds.id);
  return (
    <Table.Tr>
      <Table.Td>
        <Group gap={4} wrap="nowrap">
          <EntityLink to={`/datastores/${ds.id}`}>{ds.name}</EntityLink>
          <FavoriteStar kind="datastore" id={ds.id} value={ds.favorite} name={ds.name} size="sm" />
        </Group>
      </Table.Td>
      <Table.Td>{ds.enrichment_only ? `${ds.type} (enrichment)` : ds.type}</Table.Td>
      <Table.Td>{ds.enrichment_only ? "—" : <ScoreBadge score={ds.metrics?.quality_score?.total} />}</Table.Td>
      <Table.Td>{ds.enrichment_only ? "—" : <StatusBadge value={h.health} />}</Table.Td>
      <Table.Td>
        {h.lastScan ? (
          <EntityLink to={`/operations/${h.lastScan.id}`}>
            {relativeTime(h.lastScan.end_time ?? h.lastScan.created)} · {h.lastScan.result}
          </EntityLink>
        ) : (
          "never"
        )}
      </Table.Td>
      <Table.Td>
        {ds.enrichment_only ? (
          "—"
        ) : (
          <EntityLink to={`/anomalies?datastore=${ds.id}`}>{h.openAnomalies ?? "…"}</EntityLink>
        )}
      </Table.Td>
    </Table.Tr>
  );
}

export function DatastoresPage() {
  const [q, setQ] = useQueryState(["page", "size"] as const);
  const page = Number(q.page ?? 1);
  const size = Number(q.size ?? 25);
  const me = useMe().data;
  const list = useQuery({
    queryKey: ["datastores", { page, size }],
    queryFn: () => unwrap<Page<Datastore>>(api.GET("/api/datastores", { params: { query: { page, size } } })),
  });
  return (
    <>
      <PageTitle title="Datastores">
        {hasRole(me, "Manager") && (
          <Button component={Link} to="/datastores/new">
            Add datastore
          </Button>
        )}
      </PageTitle>
      <ErrorAlert error={list.error} />
      {list.isLoading && <Loading />}
      {list.data && (
        <>
          {list.data.total === 0 && <Text>No datastores yet: add one to sync, profile and scan it.</Text>}
          <div className="table-scroll">
            <Table striped highlightOnHover miw={640}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Quality score</Table.Th>
                  <Table.Th>Health</Table.Th>
                  <Table.Th>Last scan</Table.Th>
                  <Table.Th>Open anomalies</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.data.items.map((ds) => (
                  <DatastoreRow key={ds.id} ds={ds} />
                ))}
              </Table.Tbody>
            </Table>
          </div>
          <Pager
            page={page}
            size={size}
            total={list.data.total}
            onPage={(p) => setQ({ page: p })}
            onSize={(s) => setQ({ size: s })}
          />
        </>
      )}
    </>
  );
}
