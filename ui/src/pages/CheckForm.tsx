import { Button, Group, NumberInput, Paper, Select, Stack, TagsInput, Text, TextInput, Textarea } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMutation } from "../components/mutation";
import { useEffect, useState } from "react";
import { useNavigate, useParams, useSearchParams } from "react-router-dom";
import { api, formErrors, unwrap } from "../api/client";
import { hasPermission, hasRole, useCan } from "../auth";
import type { AppUser, CheckDryRun, Container, Datastore, Field, Page, QualityCheck, RuleSpec } from "../api/types";
import { FavoriteStar } from "../components/Favorite";
import { CheckFields } from "../components/CheckFields";
import {
  checkBody,
  checkErrorKey,
  emptyCheckForm,
  formFromCheck,
  validateCheckForm,
  type CheckFormState,
} from "../components/checkForm";
import { DryRunResult } from "../components/DryRunResult";
import { EntityLink, ErrorAlert, Loading, PageTitle, StatusBadge } from "../components/common";
import { formatTime } from "../lib";

export function useRuleSpecs() {
  return useQuery({
    queryKey: ["rule-specs"],
    staleTime: Infinity,
    queryFn: () => unwrap<RuleSpec[]>(api.GET("/api/quality-checks/specifications/rules")),
  });
}

/** New check (/checks/new?datastore=&container=) or edit one (/checks/:id). */
export function CheckFormPage() {
  const params = useParams();
  const editing = params.id ? Number(params.id) : null;
  const [search] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const specs = useRuleSpecs();
  const existing = useQuery({
    queryKey: ["check", editing],
    enabled: editing !== null,
    queryFn: () => unwrap<QualityCheck>(api.GET("/api/quality-checks/{check_id}", { params: { path: { check_id: editing! } } })),
  });
  const [datastoreId, setDatastoreId] = useState<number | null>(search.get("datastore") ? Number(search.get("datastore")) : null);
  const [containerId, setContainerId] = useState<number | null>(search.get("container") ? Number(search.get("container")) : null);
  const [form, setForm] = useState<CheckFormState>(emptyCheckForm);
  const [submitted, setSubmitted] = useState(false);
  const [ownerId, setOwnerId] = useState<string | null>(null);
  // the form is filled from the check once per check (and again from what a save returns):
  // a background refetch (a favourite star, the window regaining focus) must not undo edits
  const [loadedId, setLoadedId] = useState<number | null>(null);
  const fill = (check: QualityCheck) => {
    setForm(formFromCheck(check));
    setOwnerId(check.owner_id === null || check.owner_id === undefined ? null : String(check.owner_id));
    setContainerId(check.container.id);
    setDatastoreId(check.container.datastore.id);
    setLoadedId(check.id);
  };
  useEffect(() => {
    if (existing.data && existing.data.id !== loadedId) fill(existing.data);
  }, [existing.data, loadedId]);
  const datastores = useQuery({
    queryKey: ["datastores", { size: 1000 }],
    queryFn: () => unwrap<Page<Datastore>>(api.GET("/api/datastores", { params: { query: { size: 1000 } } })),
  });
  const containers = useQuery({
    queryKey: ["container-listing", datastoreId],
    enabled: datastoreId !== null,
    queryFn: () => unwrap<Container[]>(api.GET("/api/containers/listing", { params: { query: { datastore: [datastoreId!] } } })),
  });
  const fields = useQuery({
    queryKey: ["fields", containerId, "all"],
    enabled: containerId !== null,
    queryFn: () =>
      unwrap<Field[]>(api.GET("/api/containers/{container_id}/fields", { params: { path: { container_id: containerId! } } })),
  });
  const can = useCan(datastoreId);
  // who may own the check: every active user for Managers and Admins (they may list users),
  // otherwise the signed-in user (and the current owner, kept as it is)
  const users = useQuery({
    queryKey: ["users", { size: 1000 }],
    enabled: hasRole(can.me, "Manager"),
    queryFn: () => unwrap<Page<AppUser>>(api.GET("/api/users", { params: { query: { size: 1000 } } })),
  });
  const ownerOptions = ownerChoices(users.data?.items, can.me, existing.data?.owner ?? null);
  // a check the user may neither save nor dry run is shown read only
  const readOnly = datastoreId !== null && !!can.me && !can.draft;
  const spec = specs.data?.find((s) => s.rule === form.rule);
  const errors = validateCheckForm(spec, form);
  if (containerId === null) errors.container = "Choose a container";
  const save = useMutation({
    mutationFn: () => {
      const body = { ...checkBody(spec!, form), owner_id: ownerId === null ? null : Number(ownerId) };
      if (editing !== null) {
        return unwrap<QualityCheck>(
          api.PUT("/api/quality-checks/{check_id}", { params: { path: { check_id: editing } }, body: body as never }),
        );
      }
      return unwrap<QualityCheck>(api.POST("/api/quality-checks", { body: { ...body, container_id: containerId } as never }));
    },
    onSuccess: (check) => {
      fill(check);
      queryClient.invalidateQueries({ queryKey: ["checks"] });
      queryClient.invalidateQueries({ queryKey: ["check", check.id] });
      notifications.show({ color: "green", message: `Check ${check.id} (${check.rule_type}) saved` });
      navigate(`/checks/${check.id}`);
    },
  });
  // what a scan would find for the definition as it is in the form (saved or not); nothing is recorded
  const dryRun = useMutation({
    mutationFn: () =>
      unwrap<CheckDryRun>(
        api.POST("/api/quality-checks/dry-run", { body: { ...checkBody(spec!, form), container_id: containerId } as never }),
      ),
  });
  const setStatus = useMutation({
    mutationFn: (status: "Active" | "Draft") =>
      unwrap<QualityCheck>(
        api.PUT("/api/quality-checks/{check_id}", { params: { path: { check_id: editing! } }, body: { status } as never }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["check", editing] }),
  });
  const archive = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE("/api/quality-checks/{check_id}", { params: { path: { check_id: editing! }, query: { archive: true } } })),
    onSuccess: () => {
      queryClient.invalidateQueries({ queryKey: ["checks"] });
      notifications.show({ message: `Check ${editing} archived` });
      navigate("/checks");
    },
  });
  if (specs.isLoading || (editing !== null && existing.isLoading)) return <Loading />;
  if (editing !== null && existing.error) {
    // a check that does not exist (or is not visible): the error only, no empty form
    return (
      <>
        <PageTitle title={`Check ${editing}`} />
        <ErrorAlert error={existing.error} />
      </>
    );
  }
  // the API's refusal of a save or dry run, each message on its input; the rest in the alert
  const server = formErrors(save.error ?? dryRun.error, (path) => checkErrorKey(spec, path));
  const shown = submitted ? { ...server.fields, ...errors } : server.fields;
  const change = (next: CheckFormState) => {
    setForm(next);
    if (save.error) save.reset();
    if (dryRun.error) dryRun.reset();
  };
  const check = existing.data;
  return (
    <>
      <PageTitle title={editing !== null ? `Check ${editing}` : "New quality check"}>
        {check && <FavoriteStar kind="check" id={check.id} value={check.favorite} name={`check ${check.id}`} />}
        {check && <StatusBadge value={check.deleted_at ? "Archived" : check.status} />}
        {check && can.author && (
          <>
            {check.status !== "Active" || check.deleted_at ? (
              <Button variant="default" onClick={() => setStatus.mutate("Active")} loading={setStatus.isPending} disabled={archive.isPending}>
                Activate
              </Button>
            ) : (
              <Button variant="default" onClick={() => setStatus.mutate("Draft")} loading={setStatus.isPending}>
                Make draft
              </Button>
            )}
            {!check.deleted_at && (
              <Button color="red.9" onClick={() => window.confirm(`Archive check ${editing}?`) && archive.mutate()} loading={archive.isPending}>
                Archive
              </Button>
            )}
          </>
        )}
      </PageTitle>
      {check && (
        <Text size="sm" mb="md">
          On <EntityLink to={`/containers/${check.container.id}`}>{check.container.name}</EntityLink> in{" "}
          {check.container.datastore.name} · {check.inferred ? "inferred by profiling" : "authored"} · last asserted{" "}
          {formatTime(check.last_asserted)}
          {check.is_passing !== null && ` · ${check.is_passing ? "passing" : "failing"}`} ·{" "}
          <EntityLink to={`/anomalies?quality_check=${check.id}`}>{check.anomaly_count ?? 0} open anomalies</EntityLink> ·
          owner: {check.owner ? check.owner.name ?? check.owner.email : "none"}
        </Text>
      )}
      <ErrorAlert error={specs.error ?? setStatus.error ?? archive.error} />
      <Paper withBorder p="md" maw={760}>
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            setSubmitted(true);
            if (Object.keys(errors).length === 0) save.mutate();
          }}
        >
          <fieldset disabled={readOnly} className="plain-fieldset">
          <Stack>
            {editing === null && (
              <Group grow align="flex-start">
                <Select
                  label="Datastore"
                  required
                  searchable
                  data={(datastores.data?.items ?? [])
                    .filter((d) => !d.enrichment_only && hasPermission(can.me, d.id, "Drafter"))
                    .map((d) => ({ value: String(d.id), label: d.name }))}
                  value={datastoreId === null ? null : String(datastoreId)}
                  onChange={(v) => {
                    setDatastoreId(v ? Number(v) : null);
                    setContainerId(null);
                  }}
                />
                <Select
                  label="Container"
                  required
                  searchable
                  data={(containers.data ?? []).map((c) => ({ value: String(c.id), label: c.name }))}
                  value={containerId === null ? null : String(containerId)}
                  onChange={(v) => setContainerId(v ? Number(v) : null)}
                  error={shown.container}
                />
              </Group>
            )}
            <CheckFields
              specs={specs.data ?? []}
              fields={fields.data ?? []}
              datastoreId={datastoreId}
              value={form}
              errors={shown}
              onChange={change}
              ruleLocked={editing !== null}
            />
            {spec?.filterable && (
              <TextInput
                label="Filter"
                description="Only rows matching this SQL condition are checked, e.g. origin = 'JFK'"
                value={form.filter}
                onChange={(e) => change({ ...form, filter: e.currentTarget.value })}
                error={shown.filter}
              />
            )}
            {spec?.supports_coverage && (
              <NumberInput
                label="Coverage"
                description="Share of rows that must pass (1 = all)"
                min={0}
                max={1}
                step={0.01}
                decimalScale={4}
                clampBehavior="none"
                value={form.coverage}
                onChange={(v) => change({ ...form, coverage: v })}
                error={shown.coverage}
              />
            )}
            <Textarea
              label="Description"
              autosize
              value={form.description}
              onChange={(e) => change({ ...form, description: e.currentTarget.value })}
              error={shown.description}
            />
            <TagsInput label="Tags" value={form.tags} onChange={(tags) => change({ ...form, tags })} />
            <Select
              label="Owner"
              description="Who answers for this check"
              placeholder="No owner"
              clearable
              searchable
              data={ownerOptions}
              value={ownerId}
              onChange={setOwnerId}
            />
            <ErrorAlert error={server.rest} />
            {dryRun.data && <DryRunResult result={dryRun.data} fields={form.fields} />}
            {datastoreId !== null && can.me && !can.author && (
              <Text size="sm">
                Saving checks takes the Author permission on this datastore{can.draft ? "; you may dry run them" : ""}.
              </Text>
            )}
            <Group>
              {(can.author || datastoreId === null) && (
                <Button type="submit" loading={save.isPending}>
                  {editing !== null ? "Save check" : "Create check"}
                </Button>
              )}
              {(can.draft || datastoreId === null) && (
              <Button
                variant="default"
                loading={dryRun.isPending}
                onClick={() => {
                  setSubmitted(true);
                  if (Object.keys(errors).length === 0) dryRun.mutate();
                }}
              >
                Dry run
              </Button>
              )}
            </Group>
          </Stack>
          </fieldset>
        </form>
      </Paper>
    </>
  );
}

/** The owner choices: `users` when the caller may list them (active ones), else the caller;
 * the current owner is always among them. */
export function ownerChoices(
  users: AppUser[] | undefined,
  me: { id: number; name: string | null; email: string | null } | undefined,
  current: { id: number; name: string | null; email: string | null } | null,
): { value: string; label: string }[] {
  const people = (users ?? []).filter((u) => !u.deleted_at) as { id: number; name: string | null; email: string | null }[];
  if (!users && me) people.push(me);
  if (current && !people.some((u) => u.id === current.id)) people.push(current);
  return people.map((u) => ({ value: String(u.id), label: u.email ? `${u.name ?? u.email} (${u.email})` : (u.name ?? `user ${u.id}`) }));
}
