import { Alert, Button, Checkbox, Group, Paper, Select, Stack, TextInput, PasswordInput, NumberInput, Textarea } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { api, unwrap } from "../api/client";
import type { Datastore, Page } from "../api/types";
import { ErrorAlert, PageTitle } from "../components/common";

const KINDS = [
  { value: "duckdb", label: "DuckDB file" },
  { value: "sqlite", label: "SQLite file" },
  { value: "postgresql", label: "PostgreSQL" },
  { value: "mysql", label: "MySQL / MariaDB" },
  { value: "local", label: "Folder of files (CSV, Parquet, JSON)" },
  { value: "s3", label: "S3 bucket" },
];

interface FormState {
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
  enrichment_only: boolean;
  enrichment: string | null;
}

/** The POST /api/datastores body of the form. */
export function datastoreBody(f: FormState): Record<string, unknown> {
  const connection: Record<string, unknown> = { type: f.type };
  const body: Record<string, unknown> = { name: f.name.trim(), connection };
  if (f.description.trim()) body.description = f.description.trim();
  if (f.enrichment_only) body.enrichment_only = true;
  if (f.type === "duckdb" || f.type === "sqlite") body.database = f.database.trim();
  if (f.type === "duckdb" && f.schema.trim()) body.schema = f.schema.trim();
  if (f.type === "postgresql" || f.type === "mysql") {
    Object.assign(connection, { host: f.host.trim(), username: f.username.trim() || undefined });
    if (f.port !== "") connection.port = Number(f.port);
    if (f.password) connection.password = f.password;
    body.database = f.database.trim();
    if (f.schema.trim()) body.schema = f.schema.trim();
  }
  if (f.type === "local") connection.uri = f.uri.trim();
  if (f.type === "s3") Object.assign(connection, { uri: f.uri.trim(), access_key: f.access_key, secret_key: f.secret_key });
  return body;
}

export function DatastoreFormPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [f, setF] = useState<FormState>({
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
    enrichment_only: false,
    enrichment: null,
  });
  const set = (patch: Partial<FormState>) => setF((prev) => ({ ...prev, ...patch }));
  const enrichments = useQuery({
    queryKey: ["datastores", { enrichment_only: true }],
    queryFn: () =>
      unwrap<Page<Datastore>>(api.GET("/api/datastores", { params: { query: { enrichment_only: true, size: 1000 } } })),
  });
  const test = useMutation({
    mutationFn: () =>
      unwrap<{ connected: boolean; message: string | null }>(
        api.POST("/api/datastores/connection", { body: datastoreBody(f) as never }),
      ),
  });
  const create = useMutation({
    mutationFn: async () => {
      const ds = await unwrap<Datastore>(api.POST("/api/datastores", { body: datastoreBody(f) as never }));
      if (f.enrichment && !f.enrichment_only) {
        await unwrap(
          api.PATCH("/api/datastores/{datastore_id}/enrichment/{enrichment_id}", {
            params: { path: { datastore_id: ds.id, enrichment_id: Number(f.enrichment) } },
          }),
        );
      }
      return ds;
    },
    onSuccess: (ds) => {
      queryClient.invalidateQueries({ queryKey: ["datastores"] });
      notifications.show({ color: "green", message: `Datastore ${ds.name} added` });
      navigate(`/datastores/${ds.id}`);
    },
  });
  const file = f.type === "duckdb" || f.type === "sqlite";
  const server = f.type === "postgresql" || f.type === "mysql";
  return (
    <>
      <PageTitle title="Add a datastore" />
      <Paper withBorder p="md" maw={720}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <Stack>
            <TextInput label="Name" required value={f.name} onChange={(e) => set({ name: e.currentTarget.value })} />
            <Select
              label="Kind"
              data={KINDS}
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
              />
            )}
            {server && (
              <>
                <Group grow align="flex-start">
                  <TextInput label="Host" required value={f.host} onChange={(e) => set({ host: e.currentTarget.value })} />
                  <NumberInput label="Port" value={f.port} onChange={(v) => set({ port: v })} min={1} max={65535} />
                </Group>
                <Group grow align="flex-start">
                  <TextInput label="User" value={f.username} onChange={(e) => set({ username: e.currentTarget.value })} />
                  <PasswordInput label="Password" value={f.password} onChange={(e) => set({ password: e.currentTarget.value })} />
                </Group>
                <TextInput label="Database" required value={f.database} onChange={(e) => set({ database: e.currentTarget.value })} />
              </>
            )}
            {(f.type === "duckdb" || f.type === "postgresql") && (
              <TextInput label="Schema" value={f.schema} onChange={(e) => set({ schema: e.currentTarget.value })} />
            )}
            {(f.type === "local" || f.type === "s3") && (
              <TextInput
                label="URI"
                description={f.type === "local" ? "file:///absolute/folder" : "s3://bucket/prefix"}
                required
                value={f.uri}
                onChange={(e) => set({ uri: e.currentTarget.value })}
              />
            )}
            {f.type === "s3" && (
              <Group grow align="flex-start">
                <TextInput label="Access key" value={f.access_key} onChange={(e) => set({ access_key: e.currentTarget.value })} />
                <PasswordInput label="Secret key" value={f.secret_key} onChange={(e) => set({ secret_key: e.currentTarget.value })} />
              </Group>
            )}
            <Textarea label="Description" value={f.description} onChange={(e) => set({ description: e.currentTarget.value })} autosize />
            <Checkbox
              label="Enrichment only (a place where scans write failing records)"
              checked={f.enrichment_only}
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
            <ErrorAlert error={test.error ?? create.error} />
            <Group>
              <Button variant="default" onClick={() => test.mutate()} loading={test.isPending}>
                Test connection
              </Button>
              <Button type="submit" loading={create.isPending}>
                Add datastore
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
    </>
  );
}
