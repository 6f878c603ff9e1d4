import { Badge, Button, Group, Select, Table, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { FavoriteStar } from "../components/Favorite";
import { hasPermissionSomewhere, useMe } from "../auth";
import type { Page, QualityCheck } from "../api/types";
import { EntityLink, ErrorAlert, Loading, PageTitle, Pager, StatusBadge } from "../components/common";
import { ContainerFilter, DatastoreFilter } from "../components/Filters";
import { definedParams, relativeTime, useQueryState } from "../lib";
import { useRuleSpecs } from "./CheckForm";

const KEYS = ["datastore", "container", "status", "rule_type", "page", "size"] as const;

export function ChecksPage() {
  const [q, setQ] = useQueryState(KEYS);
  const page = Number(q.page ?? 1);
  const size = Number(q.size ?? 25);
  const specs = useRuleSpecs();
  const me = useMe().data;
  const query = { ...definedParams(q, ["datastore", "container", "page", "size"]), page, size };
  const list = useQuery({
    queryKey: ["checks", query],
    queryFn: () => unwrap<Page<QualityCheck>>(api.GET("/api/quality-checks", { params: { query: query as never } })),
  });
  const newLink = `/checks/new?${new URLSearchParams(definedParams({ datastore: q.datastore, container: q.container }) as Record<string, string>)}`;
  return (
    <>
      <PageTitle title="Quality checks">
        {hasPermissionSomewhere(me, "Author") && (
          <Button component={Link} to={newLink}>
            New check
          </Button>
        )}
      </PageTitle>
      <Group gap="sm" mb="md" align="flex-end" wrap="wrap">
        <DatastoreFilter value={q.datastore} onChange={(v) => setQ({ datastore: v, container: null })} />
        <ContainerFilter datastore={q.datastore} value={q.container} onChange={(v) => setQ({ container: v })} />
        <Select
          label="Status"
          placeholder="Active and draft"
          clearable
          w={170}
          data={["Active", "Draft", "Archived"]}
          value={q.status}
          onChange={(v) => setQ({ status: v })}
        />
        <Select
          label="Rule type"
          placeholder="Any"
          clearable
          searchable
          w={200}
          data={(specs.data ?? []).map((s) => s.rule)}
          value={q.rule_type}
          onChange={(v) => setQ({ rule_type: v })}
        />
      </Group>
      <ErrorAlert error={list.error} />
      {list.isLoading && <Loading />}
      {list.data && (
        <>
          {list.data.total === 0 && <Text>No checks match these filters.</Text>}
          <div className="table-scroll">
            <Table striped highlightOnHover miw={760}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Check</Table.Th>
                  <Table.Th>Rule</Table.Th>
                  <Table.Th>Fields</Table.Th>
                  <Table.Th>Container</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Last result</Table.Th>
                  <Table.Th>Open anomalies</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.data.items.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <EntityLink to={`/checks/${c.id}`}>#{c.id}</EntityLink>
                        <FavoriteStar kind="check" id={c.id} value={c.favorite} name={`check ${c.id}`} size="sm" />
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      {c.rule_type}{" "}
                      {c.inferred && (
                        <Badge size="xs" variant="outline" color="gray">
                          inferred
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{c.fields.map((f) => f.name).join(", ") || "—"}</Table.Td>
                    <Table.Td>
                      <EntityLink to={`/containers/${c.container.id}`}>{c.container.name}</EntityLink>
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge value={c.deleted_at ? "Archived" : c.status} />
                    </Table.Td>
                    <Table.Td>
                      {c.is_passing === null ? (
                        <Text size="sm" c="dimmed">
                          not run
                        </Text>
                      ) : (
                        <Group gap={4} wrap="nowrap">
                          <StatusBadge value={c.is_passing ? "passed" : "failed"} />
                          <Text size="xs">{relativeTime(c.last_asserted)}</Text>
                        </Group>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <EntityLink to={`/anomalies?quality_check=${c.id}`}>{c.anomaly_count ?? 0}</EntityLink>
                    </Table.Td>
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
