import type { Anomaly, QualityCheck } from "../api/types";

/** Anomalies per UTC day over the `days` days ending `today`, one series per datastore name. */
export function anomaliesByDay(
  anomalies: Pick<Anomaly, "created" | "datastore">[],
  days: number,
  today: Date = new Date(),
): { rows: Record<string, string | number>[]; series: string[] } {
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const keys: string[] = [];
  for (let i = days - 1; i >= 0; i--) keys.push(new Date(end - i * 86_400_000).toISOString().slice(0, 10));
  const series = Array.from(new Set(anomalies.map((a) => a.datastore?.name ?? "unknown"))).sort();
  const rows = keys.map((day) => {
    const row: Record<string, string | number> = { day };
    for (const s of series) row[s] = 0;
    return row;
  });
  const index = new Map(keys.map((k, i) => [k, i]));
  for (const a of anomalies) {
    const i = index.get(a.created.slice(0, 10));
    if (i === undefined) continue;
    const s = a.datastore?.name ?? "unknown";
    rows[i][s] = (rows[i][s] as number) + 1;
  }
  return { rows, series };
}

/** Active checks by their last result: passing, failing, not yet asserted. */
export function checkOutcomes(checks: Pick<QualityCheck, "is_passing">[]) {
  let passing = 0;
  let failing = 0;
  let notRun = 0;
  for (const c of checks) {
    if (c.is_passing === true) passing++;
    else if (c.is_passing === false) failing++;
    else notRun++;
  }
  return { passing, failing, notRun };
}
