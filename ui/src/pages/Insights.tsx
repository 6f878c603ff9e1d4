import { BarChart, LineChart } from "@mantine/charts";
import { Card, Group, SegmentedControl, SimpleGrid, Table, Text, TextInput, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { components } from "../api/schema";
import type { DailyCount } from "../api/types";
import { ErrorAlert, Loading, PageTitle } from "../components/common";
import { DatastoreFilter } from "../components/Filters";
import { mergeDaily, trendText } from "../components/insightsData";
import { formatNumber, formatTime, useQueryState } from "../lib";

type Insights = components["schemas"]["Insights"];
const TIMEFRAMES = ["week", "month", "quarter", "year"] as const;
const KEYS = ["timeframe", "report_date", "datastore"] as const;

const TOTALS: [string, keyof Insights, keyof Insights][] = [
  ["Datastores", "total_datastores", "trend_datastores"],
  ["Active checks", "total_active_checks", "trend_active_checks"],
  ["Records scanned", "total_records_scanned", "trend_records_scanned"],
  ["Records profiled", "total_records_profiled", "trend_records_profiled"],
  ["Anomalies identified", "total_anomalies_identified", "trend_anomalies_identified"],
  ["Anomalies active", "total_anomalies_active", "trend_anomalies_active"],
  ["Anomalies resolved", "total_anomalies_resolved", "trend_anomalies_resolved"],
  ["Users", "total_users", "trend_users"],
];

function ChartCard({
  id,
  title,
  series,
  kind,
  summary = "sum",
}: {
  id: string;
  title: string;
  series: { name: string; label: string; color: string; data: DailyCount[] | undefined }[];
  kind: "bar" | "line";
  /** "sum": events, totalled over the days; "last": a count per day (distinct checks), the last day's */
  summary?: "sum" | "last";
}) {
  const rows = mergeDaily(Object.fromEntries(series.map((s) => [s.label, s.data])));
  const chartSeries = series.map((s) => ({ name: s.label, color: s.color }));
  return (
    <Card withBorder component="section" aria-labelledby={id}>
      <Title order={2} size="h4" mb="sm" id={id}>
        {title}
      </Title>
      <div aria-hidden="true">
        {kind === "bar" ? (
          <BarChart h={220} data={rows} dataKey="date" withLegend series={chartSeries} xAxisProps={{ tickFormatter: (v: string) => v.slice(5) }} />
        ) : (
          <LineChart h={220} data={rows} dataKey="date" withLegend series={chartSeries} curveType="linear" xAxisProps={{ tickFormatter: (v: string) => v.slice(5) }} />
        )}
      </div>
      <Text className="sr-only">
        {series
          .map((s) => {
            if (summary === "sum") return `${s.label}: ${(s.data ?? []).reduce((sum, d) => sum + d.count, 0)} in all`;
            const last = (s.data ?? []).at(-1);
            return `${s.label}: ${last?.count ?? 0} on ${last?.date ?? "the last day"}`;
          })
          .join("; ")}
      </Text>
    </Card>
  );
}

/** Insights: totals and trends over a timeframe, and per-day charts (GET /api/insights). */
export function InsightsPage() {
  const [q, setQ] = useQueryState(KEYS);
  const timeframe = (TIMEFRAMES as readonly string[]).includes(q.timeframe ?? "") ? (q.timeframe as (typeof TIMEFRAMES)[number]) : "week";
  const query = {
    timeframe,
    offset: new Date().getTimezoneOffset(),
    ...(q.report_date ? { report_date: q.report_date } : {}),
    ...(q.datastore ? { datastore: [Number(q.datastore)] } : {}),
  };
  const insights = useQuery({
    queryKey: ["insights", query],
    queryFn: () => unwrap<Insights>(api.GET("/api/insights", { params: { query } })),
  });
  const d = insights.data;
  return (
    <>
      <PageTitle title="Insights" />
      <Group gap="md" mb="md" align="flex-end" wrap="wrap">
        <div>
          <Text size="sm" fw={500} id="timeframe-label" mb={2}>
            Timeframe
          </Text>
          <SegmentedControl
            aria-labelledby="timeframe-label"
            data={TIMEFRAMES.map((t) => ({ value: t, label: t[0].toUpperCase() + t.slice(1) }))}
            value={timeframe}
            onChange={(v) => setQ({ timeframe: v === "week" ? null : v })}
          />
        </div>
        <TextInput
          label="Ending on"
          type="date"
          w={170}
          value={q.report_date ?? ""}
          onChange={(e) => setQ({ report_date: e.currentTarget.value || null })}
        />
        <DatastoreFilter value={q.datastore} onChange={(v) => setQ({ datastore: v })} />
      </Group>
      <ErrorAlert error={insights.error} />
      {insights.isLoading && <Loading />}
      {d && (
        <>
          <Text size="sm" mb="sm">
            The {timeframe} ending {d.report_date}, compared with the {timeframe} before it (generated {formatTime(d.generated_at)}).
          </Text>
          <SimpleGrid cols={{ base: 2, sm: 4 }} mb="md">
            {TOTALS.map(([label, total, trend]) => (
              <Card withBorder padding="sm" key={label} data-testid={`total-${String(total)}`}>
                <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                  {label}
                </Text>
                <Text size="xl" fw={700}>
                  {formatNumber(d[total])}
                </Text>
                <Text size="xs">{trendText(d[trend] as number | null | undefined)}</Text>
              </Card>
            ))}
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, md: 2 }} mb="md">
            <ChartCard
              id="chart-anomalies"
              title="Anomalies per day"
              kind="bar"
              series={[
                { name: "identified", label: "Identified", color: "red.7", data: d.week_anomalies_identified },
                { name: "resolved", label: "Resolved", color: "green.7", data: d.week_anomalies_resolved },
              ]}
            />
            <ChartCard
              id="chart-checks"
              title="Checks passing and failing (distinct checks per day)"
              kind="line"
              summary="last"
              series={[
                { name: "passing", label: "Passing", color: "green.7", data: d.week_checks_passing },
                { name: "failing", label: "Failing", color: "red.7", data: d.week_checks_failing },
              ]}
            />
            <ChartCard
              id="chart-records"
              title="Records scanned and profiled per day"
              kind="bar"
              series={[
                { name: "scanned", label: "Scanned", color: "blue.7", data: d.week_records_scanned },
                { name: "profiled", label: "Profiled", color: "grape.7", data: d.week_records_profiled },
              ]}
            />
            <ChartCard
              id="chart-authored"
              title="Checks added per day"
              kind="bar"
              series={[
                { name: "authored", label: "Authored", color: "teal.7", data: d.week_authored_checks },
                { name: "inferred", label: "Inferred", color: "orange.7", data: d.week_inferred_checks },
              ]}
            />
          </SimpleGrid>
          <Title order={2} size="h4" mb="xs">
            Anomalies by status
          </Title>
          <div className="table-scroll">
            <Table striped miw={360} maw={520} aria-label="Anomalies by status">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Count</Table.Th>
                  <Table.Th>Trend</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {(
                  [
                    ["Active", d.total_anomalies_active, d.trend_anomalies_active],
                    ["Acknowledged", d.total_anomalies_acknowledged, d.trend_anomalies_acknowledged],
                    ["Resolved", d.total_anomalies_resolved, d.trend_anomalies_resolved],
                    ["Invalid", d.total_anomalies_invalid, d.trend_anomalies_invalid],
                  ] as const
                ).map(([label, total, trend]) => (
                  <Table.Tr key={label}>
                    <Table.Td>{label}</Table.Td>
                    <Table.Td>{formatNumber(total)}</Table.Td>
                    <Table.Td>{trendText(trend as number | null | undefined)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </div>
        </>
      )}
    </>
  );
}
