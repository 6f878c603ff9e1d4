import { Group, Select, Table, Text, TextInput } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { hasRole, useMe } from "../auth";
import type { Activity, AppUser, Page } from "../api/types";
import { EntityLink, ErrorAlert, Loading, PageTitle, Pager } from "../components/common";
import { formatTime, useQueryState } from "../lib";

const KEYS = ["user", "start_date", "end_date", "page", "size"] as const;

/** Where an object of the activity log lives in the UI (null: no page of its own). */
export function objectLink(objectType: string | null, id: number | null): string | null {
  if (id === null || objectType === null) return null;
  const pages: Record<string, string> = {
    datastore: "/datastores",
    container: "/containers",
    quality_check: "/checks",
    anomaly: "/anomalies",
  };
  return pages[objectType] ? `${pages[objectType]}/${id}` : null;
}

const VERBS: Record<string, string> = { insert: "created", update: "changed", delete: "deleted" };

/** The activity log (Admins): who changed what through the API, newest first. */
export function ActivityPage() {
  const [q, setQ] = useQueryState(KEYS);
  const page = Number(q.page ?? 1);
  const size = Number(q.size ?? 50);
  const me = useMe().data;
  const users = useQuery({
    queryKey: ["users", { size: 1000, include_deactivated: true }],
    enabled: hasRole(me, "Manager"), // listing users takes the Manager role
    queryFn: () => unwrap<Page<AppUser>>(api.GET("/api/users", { params: { query: { size: 1000, include_deactivated: true } } })),
  });
  const query = {
    page,
    size,
    ...(q.user ? { users: [Number(q.user)] } : {}),
    ...(q.start_date ? { start_date: q.start_date } : {}),
    ...(q.end_date ? { end_date: q.end_date } : {}),
  };
  const list = useQuery({
    queryKey: ["activity", query],
    queryFn: () => unwrap<Page<Activity>>(api.GET("/api/activity", { params: { query } })),
  });
  return (
    <>
      <PageTitle title="Activity" />
      <Text size="sm" mb="md">
        Changes people and scripts made through the API (operations' own results are not listed).
      </Text>
      <Group gap="sm" mb="md" align="flex-end" wrap="wrap">
        <Select
          label="User"
          placeholder="Anyone"
          clearable
          searchable
          w={220}
          data={(users.data?.items ?? []).map((u) => ({ value: String(u.id), label: u.name }))}
          value={q.user}
          onChange={(v) => setQ({ user: v })}
        />
        <TextInput label="From" type="date" w={170} value={q.start_date ?? ""} onChange={(e) => setQ({ start_date: e.currentTarget.value || null })} />
        <TextInput label="To" type="date" w={170} value={q.end_date ?? ""} onChange={(e) => setQ({ end_date: e.currentTarget.value || null })} />
      </Group>
      <ErrorAlert error={list.error} />
      {list.isLoading && <Loading />}
      {list.data && (
        <>
          {list.data.total === 0 && <Text>No activity matches these filters.</Text>}
          <div className="table-scroll">
            <Table striped miw={640} aria-label="Activity">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Who</Table.Th>
                  <Table.Th>What</Table.Th>
                  <Table.Th>Object</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.data.items.map((a) => {
                  const to = objectLink(a.object_type, a.object_id);
                  const label = `${(a.object_type ?? "object").replace(/_/g, " ")} ${a.object_id ?? ""}`.trim();
                  return (
                    <Table.Tr key={a.transaction.id}>
                      <Table.Td>{formatTime(a.transaction.issued_at)}</Table.Td>
                      <Table.Td>{a.transaction.user?.name ?? a.transaction.user?.email ?? "a deleted user"}</Table.Td>
                      <Table.Td>{VERBS[a.verb] ?? a.verb}</Table.Td>
                      <Table.Td>{to ? <EntityLink to={to}>{label}</EntityLink> : label}</Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </div>
          <Pager page={page} size={size} total={list.data.total} onPage={(p) => setQ({ page: p })} onSize={(s) => setQ({ size: s })} />
        </>
      )}
    </>
  );
}
