import { Select } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { Container, Datastore, Page } from "../api/types";

/** A datastore filter (source datastores; enrichment-only ones have nothing to filter). */
export function DatastoreFilter({ value, onChange }: { value: string | null; onChange: (v: string | null) => void }) {
  const list = useQuery({
    queryKey: ["datastores", { size: 1000 }],
    queryFn: () => unwrap<Page<Datastore>>(api.GET("/api/datastores", { params: { query: { size: 1000 } } })),
  });
  return (
    <Select
      label="Datastore"
      placeholder="Any"
      clearable
      searchable
      w={200}
      data={(list.data?.items ?? []).filter((d) => !d.enrichment_only).map((d) => ({ value: String(d.id), label: d.name }))}
      value={value}
      onChange={onChange}
    />
  );
}

export function ContainerFilter({
  datastore,
  value,
  onChange,
}: {
  datastore: string | null;
  value: string | null;
  onChange: (v: string | null) => void;
}) {
  const list = useQuery({
    queryKey: ["container-listing", datastore ? Number(datastore) : null],
    enabled: !!datastore,
    queryFn: () =>
      unwrap<Container[]>(api.GET("/api/containers/listing", { params: { query: { datastore: [Number(datastore)] } } })),
  });
  const data = (list.data ?? []).map((c) => ({ value: String(c.id), label: c.name }));
  if (value && !data.some((d) => d.value === value)) data.push({ value, label: `container ${value}` });
  return (
    <Select
      label="Container"
      placeholder={datastore ? "Any" : "Pick a datastore first"}
      clearable
      searchable
      w={200}
      data={data}
      value={value}
      onChange={onChange}
    />
  );
}
