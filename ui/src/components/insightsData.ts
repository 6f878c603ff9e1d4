import type { DailyCount } from "../api/types";

/** Several per-day series (`{date, count}` lists) as chart rows `{date, [name]: count}`, by date;
 * a day missing from a series counts 0. */
export function mergeDaily(series: Record<string, DailyCount[] | undefined>): Record<string, string | number>[] {
  const names = Object.keys(series);
  const byDate = new Map<string, Record<string, string | number>>();
  for (const name of names) {
    for (const { date, count } of series[name] ?? []) {
      const day = date.slice(0, 10);
      if (!byDate.has(day)) byDate.set(day, Object.fromEntries([["date", day], ...names.map((n) => [n, 0])]));
      byDate.get(day)![name] = count;
    }
  }
  return [...byDate.values()].sort((a, b) => String(a.date).localeCompare(String(b.date)));
}

/** A trend (percent change against the timeframe before; null: nothing before to compare). */
export function trendText(trend: number | null | undefined): string {
  if (trend === null || trend === undefined) return "no earlier data";
  if (trend === 0) return "unchanged";
  const rounded = Math.abs(trend) >= 10 ? Math.round(trend) : Math.round(trend * 10) / 10;
  return `${rounded > 0 ? "up" : "down"} ${Math.abs(rounded)}%`;
}
