import { describe, expect, it } from "vitest";
import type { Me } from "../api/types";
import { hasPermission, hasPermissionSomewhere, hasRole } from "../auth";
import { formatScore, scoreColor, scoresByDay, scoreWindow } from "./QualityScore";
import { dryRunSummary } from "./DryRunResult";

const member: Me = {
  id: 2,
  name: "Ana",
  email: "ana@example.com",
  role: "Member",
  is_admin: false,
  permissions: [
    { datastore_id: 1, permission: "Viewer" },
    { datastore_id: 2, permission: "Author" },
  ],
};

describe("permissions (as the API's policy)", () => {
  it("ranks team permissions per datastore; Admins hold everything", () => {
    expect(hasPermission(member, 1, "Viewer")).toBe(true);
    expect(hasPermission(member, 1, "Editor")).toBe(false);
    expect(hasPermission(member, 2, "Drafter")).toBe(true);
    expect(hasPermission(member, 3, "Reporter")).toBe(false);
    expect(hasPermission({ ...member, is_admin: true, permissions: [] }, 3, "Editor")).toBe(true);
    expect(hasPermission(undefined, 1, "Reporter")).toBe(false);
  });
  it("ranks roles and finds a permission on any datastore", () => {
    expect(hasRole(member, "Member")).toBe(true);
    expect(hasRole(member, "Manager")).toBe(false);
    expect(hasPermissionSomewhere(member, "Author")).toBe(true);
    expect(hasPermissionSomewhere(member, "Editor")).toBe(false);
  });
});

describe("quality scores", () => {
  it("formats and colours a score", () => {
    expect([formatScore(81.7), formatScore(null), formatScore(0)]).toEqual(["82", "—", "0"]);
    expect([scoreColor(80), scoreColor(59.9), scoreColor(60), scoreColor(undefined)]).toEqual(["green", "red", "yellow", "gray"]);
  });
  it("lays several datastores' days side by side, oldest first", () => {
    const rows = scoresByDay([
      { name: "a", days: [{ date: "2026-12-02", total: 70.26 }, { date: "2026-12-01", total: null }] },
      { name: "b", days: [{ date: "2026-12-02", total: 90 }] },
    ]);
    expect(rows).toEqual([
      { date: "2026-12-01", a: null },
      { date: "2026-12-02", a: 70.3, b: 90 },
    ]);
  });
  it("asks for the last N UTC days", () => {
    expect(scoreWindow(30, Date.parse("2026-12-06T05:00:00Z"))).toEqual({ start_date: "2026-11-07", end_date: "2026-12-06" });
  });
});

describe("dry run summary", () => {
  const base = {
    quality_check_id: null,
    container_id: 1,
    rule_type: "between",
    message: null,
    error: null,
    read_message: null,
    examples: [],
    anomalies: [],
  };
  it("says how many rows break the check", () => {
    expect(dryRunSummary({ ...base, result: "failed", records_processed: 3000, asserted_records: 3000, anomalous_records: 399 })).toBe(
      "399 of 3,000 rows break the check (3,000 rows read)",
    );
    expect(dryRunSummary({ ...base, result: "passed", records_processed: 10, asserted_records: 8, anomalous_records: 0 })).toBe(
      "Every one of 8 rows passes (10 rows read)",
    );
    expect(dryRunSummary({ ...base, result: "unasserted", error: "no rows", records_processed: 0, asserted_records: 0, anomalous_records: 0 })).toBe(
      "Not asserted: no rows",
    );
  });
});
