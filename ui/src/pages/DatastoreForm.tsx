import {
  Alert,
  Button,
  Checkbox,
  Group,
  NumberInput,
  Paper,
  PasswordInput,
  Select,
  Stack,
  TagsInput,
  TextInput,
  Textarea,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMutation } from "../components/mutation";
import { useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { ApiError, api, formErrors, unwrap } from "../api/client";
import { useCan } from "../auth";
import type { Datastore, Page } from "../api/types";
import { ErrorAlert, Loading, NotAllowed, PageTitle } from "../components/common";

const KINDS = [
  { value: "duckdb", label: "DuckDB file" },
  { value: "sqlite", label: "SQLite file" },
  { value: "postgresql", label: "PostgreSQL" },
  { value: "mysql", label: "MySQL / MariaDB" },
  { value: "local", label: "Folder of files (CSV, Parquet, JSON)" },
  { value: "s3", label: "S3 bucket" },
];

export interface FormState {
  name: string;
  type: string;
  database: string;
  schema: string;
  host: string;
  port: number | string;
  username: string;
  password: string;
  uri: string;
  access_key: string;
  secret_key: string;
  description: string;
  tags: string[];
  enrichment_only: boolean;
  enrichment: string | null;
}

const EMPTY: FormState = {
  name: "",
  type: "duckdb",
  database: "",
  schema: "main",
  host: "",
  port: "",
  username: "",
  password: "",
  uri: "",
  access_key: "",
  secret_key: "",
  description: "",
  tags: [],
  enrichment_only: false,
  enrichment: null,
};

/** The form's state of a saved datastore; secrets are never returned, so they start blank. */
export function formOf(ds: Datastore): FormState {
  const c = (ds.connection ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (v === null || v === undefined ? "" : String(v));
  return {
    ...EMPTY,
    name: ds.name,
    type: ds.type,
    database: text(ds.database),
    schema: text(ds.schema),
    host: text(c.host),
    port: typeof c.port === "number" ? c.port : text(c.port),
    username: text(c.username),
    uri: text(c.uri),
    description: text(ds.description),
    tags: (ds.global_tags ?? []).map((t) => t.name),
    enrichment_only: ds.enrichment_only,
    enrichment: ds.enrichment_datastore_id === null ? null : String(ds.enrichment_datastore_id),
  };
}

/** The connection part of the body: `connection`, `database` and `schema` as the API wants them. */
function connectionPart(f: FormState): Record<string, unknown> {
  const connection: Record<string, unknown> = { type: f.type };
  const out: Record<string, unknown> = { connection };
  if (f.type === "duckdb" || f.type === "sqlite") out.database = f.database.trim();
  if (f.type === "duckdb" && f.schema.trim()) out.schema = f.schema.trim();
  if (f.type === "postgresql" || f.type === "mysql") {
    Object.assign(connection, { host: f.host.trim(), username: f.username.trim() || undefined });
    if (f.port !== "") connection.port = Number(f.port);
    if (f.password) connection.password = f.password;
    out.database = f.database.trim();
    if (f.schema.trim()) out.schema = f.schema.trim();
  }
  if (f.type === "local") connection.uri = f.uri.trim();
  if (f.type === "s3") {
    connection.uri = f.uri.trim();
    if (f.access_key) connection.access_key = f.access_key;
    if (f.secret_key) connection.secret_key = f.secret_key;
  }
  return out;
}

/** The POST /api/datastores body of the form. */
export function datastoreBody(f: FormState): Record<string, unknown> {
  const body: Record<string, unknown> = { name: f.name.trim(), ...connectionPart(f) };
  if (f.description.trim()) body.description = f.description.trim();
  if (f.tags.length) body.tags = f.tags;
  if (f.enrichment_only) body.enrichment_only = true;
  return body;
}

/** The connection settings differ from the saved ones (a secret typed in counts as a change). */
export function connectionChanged(saved: FormState, f: FormState): boolean {
  return JSON.stringify(connectionPart(saved)) !== JSON.stringify(connectionPart(f));
}

/** The PUT /api/datastores/{id} body: name, description and tags always; the connection,
 * database and schema only when changed (the API then tests them before saving). */
export function updateBody(saved: FormState, f: FormState): Record<string, unknown> {
  const body: Record<string, unknown> = { name: f.name.trim(), description: f.description.trim(), tags: f.tags };
  if (connectionChanged(saved, f)) Object.assign(body, connectionPart(f));
  return body;
}

type Verification = { connected: boolean; message: string | null };

const FORM_KEYS = ["name", "database", "schema", "host", "port", "username", "password", "uri", "access_key", "secret_key", "description", "tags"];

/** The form input an API 422 location of the datastore body goes to (`connection.host` → `host`), or null. */
export function datastoreErrorKey(path: string): string | null {
  const key = path.startsWith("connection.") ? path.slice("connection.".length) : path;
  return FORM_KEYS.includes(key) ? key : null;
}

/** The driver's reason of a failed connection test in a save's 422, without the API's advice
 * about `?test_connection=false` (the form offers "Save without testing" instead); null when
 * the save failed for another reason. */
export function connectionTestFailure(error: unknown): string | null {
  if (!(error instanceof ApiError)) return null;
  const failed = error.fieldErrors.find((e) => e.message.startsWith("connection test failed"));
  if (!failed) return null;
  return failed.message
    .replace(/^connection test failed:\s*/, "")
    .replace(/\s*\(fix the datastore's settings, or add \?test_connection=false[^)]*\)\s*$/, "");
}

export function DatastoreFormPage() {
  const id = useParams().id;
  const existing = useQuery({
    queryKey: ["datastore", Number(id)],
    enabled: id !== undefined,
    queryFn: () =>
      unwrap<Datastore>(api.GET("/api/datastores/{datastore_id}", { params: { path: { datastore_id: Number(id) } } })),
  });
  const can = useCan(id === undefined ? null : Number(id));
  if (!can.me) return <Loading />;
  if (id === undefined && !can.manage) return <NotAllowed what="add datastores: that takes the Manager role" />;
  if (id === undefined) return <DatastoreForm />;
  if (existing.isLoading) return <Loading />;
  if (existing.error || !existing.data) return <ErrorAlert error={existing.error ?? "not found"} />;
  if (!can.edit) return <NotAllowed what="edit this datastore: that takes the Editor permission on it" />;
  return <DatastoreForm saved={existing.data} key={existing.data.id} />;
}

/** Add a datastore, or edit `saved`: connection settings, enrichment link, tags, with a connection test. */
function DatastoreForm({ saved }: { saved?: Datastore }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const initial = saved ? formOf(saved) : EMPTY;
  const [f, setF] = useState<FormState>(initial);
  const enrichments = useQuery({
    queryKey: ["datastores", { enrichment_only: true }],
    queryFn: () =>
      unwrap<Page<Datastore>>(api.GET("/api/datastores", { params: { query: { enrichment_only: true, size: 1000 } } })),
  });
  const knownTags = useQuery({
    queryKey: ["global-tags"],
    queryFn: () => unwrap<Page<{ name: string }>>(api.GET("/api/global-tags", { params: { query: { size: 1000 } } })),
  });
  const test = useMutation({
    mutationFn: () => {
      if (!saved) return unwrap<Verification>(api.POST("/api/datastores/connection", { body: datastoreBody(f) as never }));
      // a saved datastore: its own settings (and saved secrets) with the changes of the form
      const changes = connectionChanged(initial, f) ? connectionPart(f) : undefined;
      return unwrap<Verification>(
        api.POST("/api/datastores/{datastore_id}/connection", {
          params: { path: { datastore_id: saved.id } },
          body: changes as never,
        }),
      );
    },
  });
  const set = (patch: Partial<FormState>) => {
    const next = { ...f, ...patch };
    setF(next);
    if (connectionChanged(f, next)) test.reset(); // a test's result is for the settings it tested
    if (save.error) save.reset();
  };
  const linkEnrichment = async (datastoreId: number) => {
    const before = saved?.enrichment_datastore_id ?? null;
    const after = f.enrichment_only || !f.enrichment ? null : Number(f.enrichment);
    if (after === before) return;
    if (after === null) {
      await unwrap(
        api.DELETE("/api/datastores/{datastore_id}/enrichment", { params: { path: { datastore_id: datastoreId } } }),
      );
    } else {
      await unwrap(
        api.PATCH("/api/datastores/{datastore_id}/enrichment/{enrichment_id}", {
          params: { path: { datastore_id: datastoreId, enrichment_id: after } },
        }),
      );
    }
  };
  // `false`: save without the API's connection test (after a failed one, on the user's word)
  const save = useMutation({
    mutationFn: async (testConnection: boolean | void) => {
      const query = testConnection === false ? { test_connection: false } : {};
      const ds = saved
        ? await unwrap<Datastore>(
            api.PUT("/api/datastores/{datastore_id}", {
              params: { path: { datastore_id: saved.id }, query },
              body: updateBody(initial, f) as never,
            }),
          )
        : await unwrap<Datastore>(api.POST("/api/datastores", { params: { query }, body: datastoreBody(f) as never }));
      await linkEnrichment(ds.id);
      return ds;
    },
    onSuccess: (ds) => {
      queryClient.invalidateQueries({ queryKey: ["datastores"] });
      queryClient.invalidateQueries({ queryKey: ["datastore", ds.id] });
      queryClient.invalidateQueries({ queryKey: ["global-tags"] });
      notifications.show({ color: "green", message: saved ? `Datastore ${ds.name} saved` : `Datastore ${ds.name} added` });
      navigate(`/datastores/${ds.id}`);
    },
  });
  const testFailure = connectionTestFailure(save.error);
  const refused = formErrors(testFailure === null ? save.error : null, datastoreErrorKey);
  const err = refused.fields;
  const file = f.type === "duckdb" || f.type === "sqlite";
  const server = f.type === "postgresql" || f.type === "mysql";
  const kinds = KINDS.some((k) => k.value === f.type) ? KINDS : [...KINDS, { value: f.type, label: f.type }];
  const keepSecret = saved ? "Leave blank to keep the saved one" : undefined;
  return (
    <>
      <PageTitle title={saved ? `Edit datastore ${saved.name}` : "Add a datastore"} />
      <Paper withBorder p="md" maw={720}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate();
          }}
        >
          <Stack>
            <TextInput label="Name" required value={f.name} onChange={(e) => set({ name: e.currentTarget.value })} error={err.name} />
            <Select
              label="Kind"
              data={kinds}
              value={f.type}
              allowDeselect={false}
              onChange={(v) => v && set({ type: v, schema: v === "duckdb" ? "main" : v === "postgresql" ? "public" : "" })}
            />
            {file && (
              <TextInput
                label="Database file"
                description="Absolute path on the Assay server"
                required
                value={f.database}
                onChange={(e) => set({ database: e.currentTarget.value })}
                error={err.database}
              />
            )}
            {server && (
              <>
                <Group grow align="flex-start">
                  <TextInput label="Host" required value={f.host} onChange={(e) => set({ host: e.currentTarget.value })} error={err.host} />
                  <NumberInput label="Port" value={f.port} onChange={(v) => set({ port: v })} min={1} max={65535} clampBehavior="none" error={err.port} />
                </Group>
                <Group grow align="flex-start">
                  <TextInput label="User" value={f.username} onChange={(e) => set({ username: e.currentTarget.value })} error={err.username} />
                  <PasswordInput
                    label="Password"
                    description={keepSecret}
                    value={f.password}
                    onChange={(e) => set({ password: e.currentTarget.value })}
                  />
                </Group>
                <TextInput label="Database" required value={f.database} onChange={(e) => set({ database: e.currentTarget.value })} error={err.database} />
              </>
            )}
            {(f.type === "duckdb" || f.type === "postgresql") && (
              <TextInput label="Schema" value={f.schema} onChange={(e) => set({ schema: e.currentTarget.value })} error={err.schema} />
            )}
            {(f.type === "local" || f.type === "s3") && (
              <TextInput
                label="URI"
                description={f.type === "local" ? "file:///absolute/folder" : "s3://bucket/prefix"}
                required
                value={f.uri}
                onChange={(e) => set({ uri: e.currentTarget.value })}
                error={err.uri}
              />
            )}
            {f.type === "s3" && (
              <Group grow align="flex-start">
                <PasswordInput
                  label="Access key"
                  description={keepSecret}
                  value={f.access_key}
                  onChange={(e) => set({ access_key: e.currentTarget.value })}
                />
                <PasswordInput
                  label="Secret key"
                  description={keepSecret}
                  value={f.secret_key}
                  onChange={(e) => set({ secret_key: e.currentTarget.value })}
                />
              </Group>
            )}
            <Textarea label="Description" value={f.description} onChange={(e) => set({ description: e.currentTarget.value })} autosize error={err.description} />
            <TagsInput
              label="Tags"
              description="Press Enter after each tag"
              data={(knownTags.data?.items ?? []).map((t) => t.name)}
              value={f.tags}
              onChange={(tags) => set({ tags })}
              clearable
              error={err.tags}
            />
            <Checkbox
              label="Enrichment only (a place where scans write failing records)"
              checked={f.enrichment_only}
              disabled={!!saved}
              description={saved ? "Chosen when the datastore is added" : undefined}
              onChange={(e) => set({ enrichment_only: e.currentTarget.checked })}
            />
            {!f.enrichment_only && (
              <Select
                label="Enrichment datastore"
                description="Where scans write the failing source records of anomalies"
                placeholder="None"
                clearable
                data={(enrichments.data?.items ?? []).map((d) => ({ value: String(d.id), label: d.name }))}
                value={f.enrichment}
                onChange={(v) => set({ enrichment: v })}
              />
            )}
            {test.data && (
              <Alert color={test.data.connected ? "green" : "red"} role="status" title={test.data.connected ? "Connected" : "Cannot connect"}>
                {test.data.message ?? (test.data.connected ? "The connection works." : "")}
              </Alert>
            )}
            {testFailure !== null && (
              <Alert color="red" role="alert" title="The connection test failed, nothing was saved">
                <Stack gap="xs" align="flex-start">
                  <span style={{ overflowWrap: "anywhere" }}>{testFailure}</span>
                  <span>Fix the settings, or save the datastore as it is and connect later.</span>
                  <Button variant="default" size="xs" onClick={() => save.mutate(false)} loading={save.isPending}>
                    Save without testing
                  </Button>
                </Stack>
              </Alert>
            )}
            <ErrorAlert error={test.error ?? refused.rest} />
            <Group>
              <Button variant="default" onClick={() => test.mutate()} loading={test.isPending} disabled={save.isPending}>
                Test connection
              </Button>
              <Button type="submit" loading={save.isPending} disabled={test.isPending}>
                {saved ? "Save changes" : "Add datastore"}
              </Button>
              {saved && (
                <Button variant="subtle" onClick={() => navigate(`/datastores/${saved.id}`)}>
                  Cancel
                </Button>
              )}
            </Group>
          </Stack>
        </form>
      </Paper>
    </>
  );
}
