import type { Operation } from "../api/types";

/** The summary tiles of an operation, consistent with its per-container tables: when the
 * operation lists its container scans (or profiles), records and anomalies are their sums (an
 * aborted scan's status may still say 0 while its containers found anomalies); otherwise the
 * operation's status counters. */
export function operationSummary(o: Pick<Operation, "status" | "container_scans" | "container_profiles">): [string, number | null | undefined][] {
  const s = o.status ?? {};
  const scans = o.container_scans ?? [];
  const profiles = o.container_profiles ?? [];
  const sum = (values: (number | null | undefined)[]) => values.reduce<number>((a, v) => a + (v ?? 0), 0);
  let records = s.records_processed;
  let anomalies = s.anomalies_identified;
  if (scans.length > 0) {
    records = Math.max(records ?? 0, sum(scans.map((c) => c.records_processed)));
    anomalies = sum(scans.map((c) => c.anomaly_count));
  } else if (profiles.length > 0) {
    records = Math.max(records ?? 0, sum(profiles.map((c) => c.records_processed)));
  }
  const analyzed = Math.max(s.containers_analyzed ?? 0, scans.length || profiles.length) || s.containers_analyzed;
  return [
    ["Containers", s.total_containers],
    ["Analyzed", analyzed],
    ["Records processed", records],
    ["Anomalies identified", anomalies],
  ];
}
