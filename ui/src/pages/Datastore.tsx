import { Anchor, Badge, Button, Card, Group, SimpleGrid, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { FavoriteStar } from "../components/Favorite";
import { useCan } from "../auth";
import type { Container, Datastore, Operation, Page } from "../api/types";
import { EntityLink, ErrorAlert, Loading, PageTitle, Pager, StatusBadge } from "../components/common";
import { DIMENSIONS, DimensionBars, ScoreBadge, ScoreHistoryChart, formatScore, useQualityScores } from "../components/QualityScore";
import { RunOperationButtons } from "../components/RunOperation";
import { formatTime, relativeTime, useQueryState } from "../lib";
import { useDatastoreHealth } from "./Datastores";

function Stat({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text size="lg" fw={600} component="div">
        {children}
      </Text>
    </Card>
  );
}

export function DatastorePage() {
  const id = Number(useParams().id);
  const [q, setQ] = useQueryState(["page"] as const);
  const page = Number(q.page ?? 1);
  const size = 25;
  const ds = useQuery({
    queryKey: ["datastore", id],
    refetchOnMount: "always", // its metrics (quality score) change with every operation
    queryFn: () => unwrap<Datastore>(api.GET("/api/datastores/{datastore_id}", { params: { path: { datastore_id: id } } })),
  });
  const health = useDatastoreHealth(id);
  const can = useCan(id);
  const scores = useQualityScores(id, 30);
  const containers = useQuery({
    queryKey: ["containers", { datastore: id, page, size }],
    refetchOnMount: "always", // a sync that just ended may have found containers
    queryFn: () =>
      unwrap<Page<Container>>(api.GET("/api/containers", { params: { query: { datastore: [id], page, size } } })),
  });
  const ops = useQuery({
    queryKey: ["operations", { datastore: id, size: 5 }],
    queryFn: () => unwrap<Page<Operation>>(api.GET("/api/operations", { params: { query: { datastore: [id], size: 5 } } })),
    refetchInterval: (query) => (query.state.data?.items.some((o) => !o.end_time) ? 1000 : false),
  });
  if (ds.isLoading) return <Loading />;
  if (ds.error || !ds.data) return <ErrorAlert error={ds.error ?? "not found"} />;
  const d = ds.data;
  return (
    <>
      <PageTitle title={`Datastore ${d.name}`}>
        <FavoriteStar kind="datastore" id={id} value={d.favorite} name={d.name} />
        {can.edit && (
          <Button component={Link} to={`/datastores/${id}/edit`} variant="default">
            Edit
          </Button>
        )}
        {can.edit && !d.enrichment_only && <RunOperationButtons datastoreId={id} />}
      </PageTitle>
      <SimpleGrid cols={{ base: 2, sm: 5 }} mb="md">
        {!d.enrichment_only && (
          <Stat label="Quality score">
            <ScoreBadge score={d.metrics?.quality_score?.total} />
          </Stat>
        )}
        <Stat label="Health">
          <StatusBadge value={health.health} />
        </Stat>
        <Stat label="Last scan">
          {health.lastScan ? (
            <EntityLink to={`/operations/${health.lastScan.id}`}>{relativeTime(health.lastScan.end_time ?? health.lastScan.created)}</EntityLink>
          ) : (
            "never"
          )}
        </Stat>
        <Stat label="Open anomalies">
          <EntityLink to={`/anomalies?datastore=${id}`}>{health.openAnomalies ?? "…"}</EntityLink>
        </Stat>
        <Stat label="Containers">{containers.data?.total ?? "…"}</Stat>
      </SimpleGrid>
      <Text size="sm" mb="md">
        {d.type} · {d.database ?? (d.connection?.uri as string | undefined) ?? ""}
        {d.schema ? ` · schema ${d.schema}` : ""}
        {d.enrichment_datastore ? (
          <>
            {" · enrichment: "}
            <Anchor component={Link} to={`/datastores/${d.enrichment_datastore.id}`} size="sm">
              {d.enrichment_datastore.name}
            </Anchor>
          </>
        ) : (
          !d.enrichment_only && " · no enrichment datastore (failing source records are not kept)"
        )}
      </Text>
      {d.description && (
        <Text size="sm" mb="xs">
          {d.description}
        </Text>
      )}
      {d.global_tags.length > 0 && (
        <Group gap={4} mb="md" role="group" aria-label="Tags">
          {d.global_tags.map((t) => (
            <Badge key={t.name} variant="light" color="gray" c="dark.7" radius="sm">
              {t.name}
            </Badge>
          ))}
        </Group>
      )}
      <Group gap="xs" mb="lg">
        <Button component={Link} to={`/checks?datastore=${id}`} variant="default" size="xs">
          Checks
        </Button>
        <Button component={Link} to={`/anomalies?datastore=${id}`} variant="default" size="xs">
          Anomalies
        </Button>
        <Button component={Link} to={`/operations?datastore=${id}`} variant="default" size="xs">
          Operations
        </Button>
        <Button component={Link} to={`/schedules?datastore=${id}`} variant="default" size="xs">
          Schedules
        </Button>
      </Group>

      {!d.enrichment_only && (
        <SimpleGrid cols={{ base: 1, md: 3 }} mb="lg">
          <Card withBorder component="section" aria-labelledby="score-history" style={{ gridColumn: "span 2" }}>
            <Title order={2} size="h4" mb="sm" id="score-history">
              Quality score, last 30 days
            </Title>
            <div aria-hidden="true">
              <ScoreHistoryChart series={[{ name: "quality score", days: scores.data ?? [] }]} />
            </div>
            <Text size="xs" c="dimmed">
              Daily score 0–100 from the scans in the decay window; days before the first scan have none.
            </Text>
          </Card>
          <Card withBorder component="section" aria-labelledby="score-dimensions">
            <Title order={2} size="h4" mb="sm" id="score-dimensions">
              Dimensions
            </Title>
            {d.metrics?.quality_score ? (
              <>
                <div aria-hidden="true">
                  <DimensionBars score={d.metrics.quality_score} />
                </div>
                <ul className="sr-only">
                  {DIMENSIONS.map((dim) => (
                    <li key={dim}>
                      {dim}: {formatScore(d.metrics?.quality_score?.[dim])}
                    </li>
                  ))}
                </ul>
              </>
            ) : (
              <Text size="sm">No score yet: scan the datastore.</Text>
            )}
          </Card>
        </SimpleGrid>
      )}

      <Title order={2} size="h3" mb="xs">
        Containers
      </Title>
      <ErrorAlert error={containers.error} />
      {containers.data && containers.data.total === 0 && <Text size="sm">No containers yet: run a sync.</Text>}
      {containers.data && containers.data.total > 0 && (
        <>
          <div className="table-scroll">
            <Table striped miw={480}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Fields</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {containers.data.items.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td>
                      <EntityLink to={`/containers/${c.id}`}>{c.name}</EntityLink>
                    </Table.Td>
                    <Table.Td>{c.container_type}</Table.Td>
                    <Table.Td>{c.metrics?.fields ?? "—"}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </div>
          <Pager page={page} size={size} total={containers.data.total} onPage={(p) => setQ({ page: p })} />
        </>
      )}

      <Title order={2} size="h3" mt="lg" mb="xs">
        Recent operations
      </Title>
      <div className="table-scroll">
        <Table miw={480}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Operation</Table.Th>
              <Table.Th>Type</Table.Th>
              <Table.Th>Started</Table.Th>
              <Table.Th>Result</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(ops.data?.items ?? []).map((o) => (
              <Table.Tr key={o.id}>
                <Table.Td>
                  <EntityLink to={`/operations/${o.id}`}>#{o.id}</EntityLink>
                </Table.Td>
                <Table.Td>{o.type}</Table.Td>
                <Table.Td>{formatTime(o.start_time ?? o.created)}</Table.Td>
                <Table.Td>
                  <StatusBadge value={o.queued ? "queued" : o.result} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </div>
    </>
  );
}
