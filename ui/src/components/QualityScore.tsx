import { BarChart, LineChart } from "@mantine/charts";
import { Badge } from "@mantine/core";
import { useQueries, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { DatedQualityScore, QualityScore } from "../api/types";

export const DIMENSIONS = [
  "completeness",
  "coverage",
  "conformity",
  "consistency",
  "precision",
  "timeliness",
  "volumetrics",
  "accuracy",
] as const;

/** A score as people read it: a whole number of 0–100, or "—" when not measured. */
export function formatScore(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : String(Math.round(value));
}

/** The colour band of a score: 80+ good, 60–80 fair, below poor. */
export function scoreColor(value: number | null | undefined): string {
  if (value === null || value === undefined) return "gray";
  return value >= 80 ? "green" : value >= 60 ? "yellow" : "red";
}

export function ScoreBadge({ score }: { score: number | null | undefined }) {
  return (
    <Badge color={scoreColor(score)} variant="dot" radius="sm" c="dark.7" size="lg">
      {formatScore(score)}
    </Badge>
  );
}

/** The UTC dates `days` days back to today, as the quality-scores endpoint takes them. */
export function scoreWindow(days: number, now: number = Date.now()): { start_date: string; end_date: string } {
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  return { start_date: day(now - (days - 1) * 86_400_000), end_date: day(now) };
}

export function useQualityScores(datastoreId: number, days: number) {
  const window = scoreWindow(days);
  return useQuery({
    queryKey: ["quality-scores", datastoreId, window],
    queryFn: () =>
      unwrap<DatedQualityScore[]>(
        api.GET("/api/datastores/{datastore_id}/quality-scores", {
          params: { path: { datastore_id: datastoreId }, query: window },
        }),
      ),
  });
}

/** The daily totals of several datastores, one column per datastore name (for a multi-line chart). */
export function scoresByDay(series: { name: string; days: DatedQualityScore[] }[]): Record<string, string | number | null>[] {
  const rows = new Map<string, Record<string, string | number | null>>();
  for (const { name, days } of series) {
    for (const d of days) {
      const row = rows.get(d.date) ?? { date: d.date };
      row[name] = d.total === null || d.total === undefined ? null : Math.round(d.total * 10) / 10;
      rows.set(d.date, row);
    }
  }
  return [...rows.values()].sort((a, b) => String(a.date).localeCompare(String(b.date)));
}

const LINE_COLORS = ["blue.7", "grape.7", "teal.7", "orange.7", "pink.7", "cyan.7", "lime.8", "indigo.7"];

/** Quality score totals per day, one line per datastore. */
export function ScoreHistoryChart({ series, h = 220 }: { series: { name: string; days: DatedQualityScore[] }[]; h?: number }) {
  return (
    <LineChart
      h={h}
      data={scoresByDay(series)}
      dataKey="date"
      connectNulls
      withLegend={series.length > 1}
      yAxisProps={{ domain: [0, 100] }}
      xAxisProps={{ tickFormatter: (v: string) => v.slice(5) }}
      series={series.map((s, i) => ({ name: s.name, color: LINE_COLORS[i % LINE_COLORS.length] }))}
    />
  );
}

/** The eight dimensions of a score as bars (unmeasured ones left out). */
export function DimensionBars({ score }: { score: QualityScore }) {
  const data = DIMENSIONS.filter((d) => score[d] !== null && score[d] !== undefined).map((d) => ({
    dimension: `${d} ${Math.round(score[d] as number)}`,
    score: Math.round(score[d] as number),
  }));
  return (
    <BarChart
      h={Math.max(120, data.length * 30 + 30)}
      data={data}
      dataKey="dimension"
      orientation="vertical"
      yAxisProps={{ width: 120, interval: 0 }}
      xAxisProps={{ domain: [0, 100] }}
      series={[{ name: "score", color: "blue.7" }]}
    />
  );
}

/** The score histories of many datastores (one request each). */
export function useScoreHistories(datastores: { id: number; name: string }[], days: number) {
  const window = scoreWindow(days);
  const results = useQueries({
    queries: datastores.map((d) => ({
      queryKey: ["quality-scores", d.id, window],
      queryFn: () =>
        unwrap<DatedQualityScore[]>(
          api.GET("/api/datastores/{datastore_id}/quality-scores", { params: { path: { datastore_id: d.id }, query: window } }),
        ),
    })),
  });
  return datastores.map((d, i) => ({ name: d.name, days: results[i]?.data ?? [] }));
}
