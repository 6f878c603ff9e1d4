import { BarChart, DonutChart } from "@mantine/charts";
import { Card, Group, SimpleGrid, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { Anomaly, Datastore, Page, QualityCheck } from "../api/types";
import { EntityLink, ErrorAlert, PageTitle } from "../components/common";
import { anomaliesByDay, checkOutcomes } from "../components/overviewData";
import { ScoreBadge, ScoreHistoryChart, formatScore, useScoreHistories } from "../components/QualityScore";

const DAYS = 30;
const COLORS = ["blue.6", "grape.6", "teal.6", "orange.6", "pink.6", "cyan.6", "lime.7", "indigo.6"];

export function OverviewPage() {
  const since = new Date(Date.now() - (DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  const anomalies = useQuery({
    queryKey: ["anomalies", { overview: since }],
    queryFn: () =>
      unwrap<Page<Anomaly>>(
        api.GET("/api/anomalies", {
          params: {
            query: { start_date: since, status: ["Active,Acknowledged,Resolved,Invalid,Discarded"], size: 1000 } as never,
          },
        }),
      ),
  });
  const open = useQuery({
    queryKey: ["anomalies", { size: 1 }],
    queryFn: () => unwrap<Page<Anomaly>>(api.GET("/api/anomalies", { params: { query: { size: 1 } } })),
  });
  const checks = useQuery({
    queryKey: ["checks", { status: "Active", size: 1000 }],
    queryFn: () =>
      unwrap<Page<QualityCheck>>(api.GET("/api/quality-checks", { params: { query: { status: "Active", size: 1000 } } })),
  });
  const datastores = useQuery({
    queryKey: ["datastores", { size: 1000 }],
    queryFn: () => unwrap<Page<Datastore>>(api.GET("/api/datastores", { params: { query: { size: 1000 } } })),
  });
  const byDay = anomaliesByDay(anomalies.data?.items ?? [], DAYS);
  const outcomes = checkOutcomes(checks.data?.items ?? []);
  const sources = (datastores.data?.items ?? []).filter((d) => !d.enrichment_only);
  const histories = useScoreHistories(sources, DAYS);
  const perDatastore = sources.map((d) => {
    const mine = (checks.data?.items ?? []).filter((c) => c.container.datastore.id === d.id);
    const openCount = (anomalies.data?.items ?? []).filter(
      (a) => a.datastore?.id === d.id && (a.status === "Active" || a.status === "Acknowledged"),
    ).length;
    return { d, ...checkOutcomes(mine), open: openCount };
  });
  return (
    <>
      <PageTitle title="Overview" />
      <ErrorAlert error={anomalies.error ?? checks.error ?? datastores.error} />
      <SimpleGrid cols={{ base: 2, sm: 4 }} mb="md">
        {(
          [
            ["Datastores", sources.length, "/datastores"],
            ["Open anomalies", open.data?.total, "/anomalies"],
            ["Checks passing", outcomes.passing, "/checks?status=Active"],
            ["Checks failing", outcomes.failing, "/checks?status=Active"],
          ] as const
        ).map(([label, value, to]) => (
          <Card withBorder padding="sm" key={label}>
            <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
              {label}
            </Text>
            <Text size="xl" fw={700}>
              <EntityLink to={to}>{value ?? "…"}</EntityLink>
            </Text>
          </Card>
        ))}
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, md: 3 }} mb="md">
        <Card withBorder style={{ gridColumn: "span 2" }} component="section" aria-labelledby="by-day">
          <Title order={2} size="h4" mb="sm" id="by-day">
            Anomalies per day, last {DAYS} days
          </Title>
          <Text size="sm" mb="xs">
            {(anomalies.data?.items ?? []).length} distinct anomalies detected since {since} (re-scans&apos; duplicates left out)
            {anomalies.data && anomalies.data.total > anomalies.data.items.length ? ` (the latest ${anomalies.data.items.length} shown)` : ""}
          </Text>
          <div aria-hidden="true">
          <BarChart
            h={240}
            data={byDay.rows}
            dataKey="day"
            type="stacked"
            withLegend={byDay.series.length > 1}
            series={byDay.series.map((s, i) => ({ name: s, color: COLORS[i % COLORS.length] }))}
            xAxisProps={{ tickFormatter: (v: string) => v.slice(5) }}
          />
          </div>
        </Card>
        <Card withBorder component="section" aria-labelledby="checks-outcome">
          <Title order={2} size="h4" mb="sm" id="checks-outcome">
            Active checks
          </Title>
          <Group justify="center" aria-hidden="true">
            <DonutChart
              size={160}
              thickness={26}
              withLabels={false}
              pieProps={{ rootTabIndex: -1 }}
              chartLabel={`${outcomes.passing + outcomes.failing + outcomes.notRun} checks`}
              data={[
                { name: "Passing", value: outcomes.passing, color: "green.7" },
                { name: "Failing", value: outcomes.failing, color: "red.7" },
                { name: "Not run", value: outcomes.notRun, color: "gray.5" },
              ]}
            />
          </Group>
          <Text size="sm" ta="center" mt="xs">
            {outcomes.passing} passing · {outcomes.failing} failing · {outcomes.notRun} not run yet
          </Text>
        </Card>
      </SimpleGrid>
      <Card withBorder component="section" aria-labelledby="scores" mb="md">
        <Title order={2} size="h4" mb="sm" id="scores">
          Quality scores, last {DAYS} days
        </Title>
        <div aria-hidden="true">
          <ScoreHistoryChart series={histories} />
        </div>
        <Text size="sm" className="sr-only">
          {sources.map((d) => `${d.name}: ${formatScore(d.metrics?.quality_score?.total)}`).join("; ")}
        </Text>
      </Card>
      <Title order={2} size="h3" mb="xs">
        Per datastore
      </Title>
      <div className="table-scroll">
        <Table striped miw={520}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Datastore</Table.Th>
              <Table.Th>Quality score</Table.Th>
              <Table.Th>Open anomalies (30 days)</Table.Th>
              <Table.Th>Checks passing</Table.Th>
              <Table.Th>Checks failing</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {perDatastore.map(({ d, open: o, passing, failing }) => (
              <Table.Tr key={d.id}>
                <Table.Td>
                  <EntityLink to={`/datastores/${d.id}`}>{d.name}</EntityLink>
                </Table.Td>
                <Table.Td>
                  <ScoreBadge score={d.metrics?.quality_score?.total} />
                </Table.Td>
                <Table.Td>
                  <EntityLink to={`/anomalies?datastore=${d.id}`}>{o}</EntityLink>
                </Table.Td>
                <Table.Td>{passing}</Table.Td>
                <Table.Td>
                  <EntityLink to={`/checks?datastore=${d.id}&status=Active`}>{failing}</EntityLink>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </div>
    </>
  );
}
