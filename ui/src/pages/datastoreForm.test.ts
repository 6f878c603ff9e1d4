import { describe, expect, it } from "vitest";
import type { Datastore } from "../api/types";
import { connectionChanged, datastoreBody, formOf, updateBody } from "./DatastoreForm";

const pg: Datastore = {
  id: 7,
  name: "warehouse",
  type: "postgresql",
  store_type: "jdbc",
  created: "2026-01-01T00:00:00Z",
  connection: { type: "postgresql", host: "db.internal", port: 5432, username: "assay" },
  database: "sales",
  schema: "public",
  enrichment_only: false,
  enrichment_datastore_id: 3,
  enrichment_datastore: { id: 3, name: "enrich" },
  description: "orders",
  global_tags: [{ name: "finance" }],
};

describe("datastore form", () => {
  it("starts an edit from the saved settings, secrets blank", () => {
    const f = formOf(pg);
    expect(f).toMatchObject({ name: "warehouse", host: "db.internal", port: 5432, username: "assay", password: "" });
    expect(f).toMatchObject({ database: "sales", schema: "public", tags: ["finance"], enrichment: "3" });
  });

  it("sends only name, description and tags when the connection is unchanged", () => {
    const saved = formOf(pg);
    const f = { ...saved, name: "warehouse2", tags: ["finance", "gold"] };
    expect(connectionChanged(saved, f)).toBe(false);
    expect(updateBody(saved, f)).toEqual({ name: "warehouse2", description: "orders", tags: ["finance", "gold"] });
  });

  it("sends the whole connection when a setting or a secret changes", () => {
    const saved = formOf(pg);
    expect(connectionChanged(saved, { ...saved, password: "new" })).toBe(true);
    expect(updateBody(saved, { ...saved, port: 6432 })).toEqual({
      name: "warehouse",
      description: "orders",
      tags: ["finance"],
      connection: { type: "postgresql", host: "db.internal", port: 6432, username: "assay" },
      database: "sales",
      schema: "public",
    });
  });

  it("builds the create body with tags and without blank secrets", () => {
    const f = { ...formOf(pg), type: "s3", uri: "s3://bucket/x", tags: [], description: "" };
    expect(datastoreBody(f)).toEqual({ name: "warehouse", connection: { type: "s3", uri: "s3://bucket/x" } });
  });

  it("sends the teams chosen, none on purpose, or leaves the public team to the API", () => {
    const f = { ...formOf(pg), type: "s3", uri: "s3://bucket/x", tags: [], description: "" };
    expect(datastoreBody(f)).not.toHaveProperty("teams");
    expect(datastoreBody({ ...f, teams: ["analysts"] }).teams).toEqual(["analysts"]);
    expect(datastoreBody({ ...f, teams: [] }).teams).toEqual([]);
  });
});
