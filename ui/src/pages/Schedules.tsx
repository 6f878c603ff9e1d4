import { Button, Group, Paper, Select, Stack, Switch, Table, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMutation } from "../components/mutation";
import { useState } from "react";
import { api, formErrors, unwrap } from "../api/client";
import { hasPermission, hasPermissionSomewhere, useMe } from "../auth";
import type { Datastore, Page, Schedule } from "../api/types";
import { EntityLink, ErrorAlert, Loading, PageTitle, Pager } from "../components/common";
import { formatUtc, nextFireTimes } from "../components/cron";
import { DatastoreFilter } from "../components/Filters";
import { definedParams, formatTime, useQueryState } from "../lib";

const PRESETS = [
  { value: "0 * * * *", label: "Every hour" },
  { value: "0 0 * * *", label: "Every day at 00:00 UTC" },
  { value: "0 6 * * 1-5", label: "Weekdays at 06:00 UTC" },
  { value: "0 0 * * 0", label: "Every Sunday at 00:00 UTC" },
];

function NewSchedule({ datastore }: { datastore: string | null }) {
  const queryClient = useQueryClient();
  const me = useMe().data;
  const [name, setName] = useState("");
  const [ds, setDs] = useState<string | null>(datastore);
  const [type, setType] = useState<string>("scan");
  const [crontab, setCrontab] = useState("0 0 * * *");
  const [submitted, setSubmitted] = useState(false);
  const datastores = useQuery({
    queryKey: ["datastores", { size: 1000 }],
    queryFn: () => unwrap<Page<Datastore>>(api.GET("/api/datastores", { params: { query: { size: 1000 } } })),
  });
  const preview = nextFireTimes(crontab);
  const create = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = { name: name.trim(), type, datastore_id: Number(ds), crontab: crontab.trim() };
      if (type === "scan") Object.assign(body, { incremental: false, container_names: [] });
      return unwrap<Schedule>(api.POST("/api/operations/schedule", { body: body as never }));
    },
    onSuccess: (s) => {
      notifications.show({ color: "green", message: `Schedule ${s.name} created` });
      setName("");
      setSubmitted(false);
      queryClient.invalidateQueries({ queryKey: ["schedules"] });
    },
  });
  // the API's refusal, each message on its input (datastore_id → datastore); the rest in the alert
  const refused = formErrors(create.error, (path) =>
    path === "datastore_id" ? "datastore" : ["name", "crontab"].includes(path) ? path : null,
  );
  const errors = {
    name: submitted && !name.trim() ? "Name the schedule" : refused.fields.name,
    datastore: submitted && !ds ? "Choose a datastore" : refused.fields.datastore,
    crontab: typeof preview === "string" ? preview : refused.fields.crontab,
  };
  return (
    <Paper withBorder p="md" mb="lg" maw={760} component="section" aria-labelledby="new-schedule">
      <Title order={2} size="h4" mb="sm" id="new-schedule">
        Schedule an operation
      </Title>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setSubmitted(true);
          if (name.trim() && ds && typeof preview !== "string") create.mutate();
        }}
      >
        <Stack gap="sm">
          <Group grow align="flex-start" wrap="wrap">
            <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} miw={180} />
            <Select
              label="Datastore"
              required
              searchable
              miw={180}
              data={(datastores.data?.items ?? [])
                .filter((d) => !d.enrichment_only && hasPermission(me, d.id, "Editor"))
                .map((d) => ({ value: String(d.id), label: d.name }))}
              value={ds}
              onChange={setDs}
              error={errors.datastore}
            />
            <Select label="Operation" data={["scan", "profile", "sync"]} value={type} onChange={(v) => v && setType(v)} allowDeselect={false} miw={120} />
          </Group>
          <Group grow align="flex-start" wrap="wrap">
            <TextInput
              label="Crontab (UTC)"
              description="minute hour day-of-month month day-of-week"
              required
              value={crontab}
              onChange={(e) => setCrontab(e.currentTarget.value)}
              error={errors.crontab}
              miw={180}
            />
            <Select
              label="Preset"
              placeholder="Pick a common schedule"
              data={PRESETS}
              value={PRESETS.some((p) => p.value === crontab) ? crontab : null}
              onChange={(v) => v && setCrontab(v)}
              miw={180}
            />
          </Group>
          {typeof preview !== "string" && (
            <Text size="sm" aria-live="polite">
              Next: {preview.map(formatUtc).join(" · ")}
            </Text>
          )}
          <ErrorAlert error={refused.rest} />
          <Group>
            <Button type="submit" loading={create.isPending}>
              Create schedule
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

export function SchedulesPage() {
  const [q, setQ] = useQueryState(["datastore", "page", "size"] as const);
  const page = Number(q.page ?? 1);
  const size = Number(q.size ?? 25);
  const queryClient = useQueryClient();
  const query = { ...definedParams(q, ["datastore", "page", "size"]), page, size };
  const list = useQuery({
    queryKey: ["schedules", query],
    queryFn: () => unwrap<Page<Schedule>>(api.GET("/api/operations/schedule", { params: { query: query as never } })),
  });
  const toggle = useMutation({
    mutationFn: ({ id, deactivated }: { id: number; deactivated: boolean }) =>
      unwrap<Schedule>(
        api.PATCH("/api/operations/schedule/{schedule_id}/deactivation", {
          params: { path: { schedule_id: id } },
          body: { deactivated } as never,
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["schedules"] }),
  });
  const me = useMe().data;
  const remove = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE("/api/operations/schedule/{schedule_id}", { params: { path: { schedule_id: id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["schedules"] }),
  });
  return (
    <>
      <PageTitle title="Schedules" />
      {hasPermissionSomewhere(me, "Editor") && <NewSchedule datastore={q.datastore} />}
      <Group mb="md" align="flex-end">
        <DatastoreFilter value={q.datastore} onChange={(v) => setQ({ datastore: v })} />
      </Group>
      <ErrorAlert error={list.error ?? toggle.error ?? remove.error} />
      {list.isLoading && <Loading />}
      {list.data && (
        <>
          {list.data.total === 0 && <Text>No schedules yet.</Text>}
          <div className="table-scroll">
            <Table striped miw={760}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Operation</Table.Th>
                  <Table.Th>Datastore</Table.Th>
                  <Table.Th>Crontab</Table.Th>
                  <Table.Th>Next fire times</Table.Th>
                  <Table.Th>Last fired</Table.Th>
                  <Table.Th>Active</Table.Th>
                  <Table.Th>
                    <span className="skip-link">Actions</span>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.data.items.map((s) => {
                  const upcoming = s.next_trigger ? nextFireTimes(s.crontab, 3, new Date(new Date(s.next_trigger).getTime() - 1)) : [];
                  return (
                    <Table.Tr key={s.id}>
                      <Table.Td>{s.name}</Table.Td>
                      <Table.Td>{s.type}</Table.Td>
                      <Table.Td>{s.datastore ? <EntityLink to={`/datastores/${s.datastore.id}`}>{s.datastore.name}</EntityLink> : "—"}</Table.Td>
                      <Table.Td>
                        <code>{s.crontab}</code>
                      </Table.Td>
                      <Table.Td>
                        {s.deactivated || typeof upcoming === "string" || upcoming.length === 0 ? (
                          <Text size="sm" c="dimmed">
                            {s.deactivated ? "paused" : "—"}
                          </Text>
                        ) : (
                          <Text size="xs">{upcoming.map(formatUtc).join(", ")}</Text>
                        )}
                      </Table.Td>
                      <Table.Td>{formatTime(s.last_triggered)}</Table.Td>
                      <Table.Td>
                        <Switch
                          disabled={!hasPermission(me, s.datastore?.id, "Editor") || toggle.isPending}
                          aria-label={`Schedule ${s.name} active`}
                          checked={!s.deactivated}
                          onChange={(e) => toggle.mutate({ id: s.id, deactivated: !e.currentTarget.checked })}
                        />
                      </Table.Td>
                      <Table.Td>
                        {hasPermission(me, s.datastore?.id, "Editor") && (
                        <Button size="xs" color="red.9" variant="outline" disabled={remove.isPending} onClick={() => window.confirm(`Delete the schedule ${s.name}?`) && remove.mutate(s.id)} aria-label={`Delete schedule ${s.name}`}>
                          Delete
                        </Button>
                        )}
                      </Table.Td>
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
