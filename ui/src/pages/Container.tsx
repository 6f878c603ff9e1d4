import { Button, Table, Text, Title, UnstyledButton } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { Link, useParams } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { FavoriteStar } from "../components/Favorite";
import type { Container, ContainerProfile, Field, FieldProfile, Page } from "../api/types";
import { EntityLink, ErrorAlert, Loading, PageTitle, Pager } from "../components/common";
import { FieldProfileView, percent } from "../components/FieldProfileView";
import { useCan } from "../auth";
import { formatFieldValue, formatNumber, formatTime, useQueryState } from "../lib";

export function ContainerPage() {
  const id = Number(useParams().id);
  const [q, setQ] = useQueryState(["page", "field"] as const);
  const page = Number(q.page ?? 1);
  const size = 50;
  const container = useQuery({
    queryKey: ["container", id],
    queryFn: () => unwrap<Container>(api.GET("/api/containers/{container_id}", { params: { path: { container_id: id } } })),
  });
  // the fields come as one list (as Qualytics answers); the page shows them 50 at a time
  const fields = useQuery({
    queryKey: ["fields", id, "all"],
    queryFn: () => unwrap<Field[]>(api.GET("/api/containers/{container_id}/fields", { params: { path: { container_id: id } } })),
  });
  const shown = (fields.data ?? []).slice((page - 1) * size, page * size);
  const profiles = useQuery({
    queryKey: ["field-profiles", id],
    queryFn: () =>
      unwrap<Page<FieldProfile>>(
        api.GET("/api/containers/{container_id}/field-profiles", {
          params: { path: { container_id: id }, query: { size: 1000 } },
        }),
      ),
  });
  const profile = useQuery({
    queryKey: ["container-profile", id],
    retry: false,
    queryFn: () =>
      unwrap<ContainerProfile>(api.GET("/api/containers/{container_id}/profile", { params: { path: { container_id: id } } })),
  });
  const byName = new Map((profiles.data?.items ?? []).map((p) => [p.name, p]));
  const selected = q.field ? byName.get(q.field) : undefined;
  // the profile shows above the fields: bring it into view when a field is picked
  useEffect(() => {
    if (selected) document.getElementById("field-profile")?.scrollIntoView({ block: "nearest" });
  }, [selected]);
  const can = useCan(container.data?.datastore.id);
  if (container.isLoading) return <Loading />;
  if (!container.data) return <ErrorAlert error={container.error ?? "not found"} />;
  const c = container.data;
  return (
    <>
      <PageTitle title={`Container ${c.name}`}>
        <FavoriteStar kind="container" id={c.id} value={c.favorite} name={c.name} />
        {can.author && (
          <Button component={Link} to={`/checks/new?container=${id}&datastore=${c.datastore.id}`}>
            New check
          </Button>
        )}
        <Button component={Link} to={`/anomalies?container=${id}`} variant="default">
          Anomalies
        </Button>
      </PageTitle>
      <Text size="sm" mb="md">
        In datastore <EntityLink to={`/datastores/${c.datastore.id}`}>{c.datastore.name}</EntityLink> · {c.container_type}
        {profile.data
          ? ` · profiled ${formatTime(profile.data.created)}: ${formatNumber(profile.data.records_count)} records`
          : " · not profiled yet"}
      </Text>
      <div id="field-profile">{selected && <FieldProfileView profile={selected} />}</div>
      <Title order={2} size="h3" mt="lg" mb="xs">
        Fields
      </Title>
      <ErrorAlert error={fields.error} />
      {fields.data && (
        <>
          <div className="table-scroll">
            <Table striped highlightOnHover miw={560}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Field</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Completeness</Table.Th>
                  <Table.Th>Distinct</Table.Th>
                  <Table.Th>Min</Table.Th>
                  <Table.Th>Max</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {shown.map((f) => {
                  const p = byName.get(f.name);
                  return (
                    <Table.Tr key={f.id} bg={q.field === f.name ? "var(--mantine-color-gray-2)" : undefined}>
                      <Table.Td>
                        {p ? (
                          <UnstyledButton
                            onClick={() => setQ({ field: f.name, page: q.page })}
                            aria-pressed={q.field === f.name}
                            c="blue.9"
                            td="underline"
                            fz="sm"
                          >
                            {f.name}
                          </UnstyledButton>
                        ) : (
                          f.name
                        )}
                      </Table.Td>
                      <Table.Td>{f.type}</Table.Td>
                      <Table.Td>{p ? percent(p.completeness) : "—"}</Table.Td>
                      <Table.Td>{formatNumber(p?.approximate_distinct_values)}</Table.Td>
                      <Table.Td>{p?.min !== null && p?.min !== undefined ? formatFieldValue(p.min, p.field_type) : formatNumber(p?.min_length)}</Table.Td>
                      <Table.Td>{p?.max !== null && p?.max !== undefined ? formatFieldValue(p.max, p.field_type) : formatNumber(p?.max_length)}</Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </div>
          <Pager page={page} size={size} total={fields.data.length} onPage={(p) => setQ({ page: p, field: q.field })} />
        </>
      )}
    </>
  );
}
