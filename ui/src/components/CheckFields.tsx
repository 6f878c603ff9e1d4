import {
  Checkbox,
  MultiSelect,
  NumberInput,
  Select,
  Stack,
  TagsInput,
  Text,
  TextInput,
  Textarea,
} from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { Container, Datastore, Field, Page, RuleProperty, RuleSpec } from "../api/types";
import { keptFields, type CheckFormState, type PropertyValue } from "./checkForm";

interface Props {
  specs: RuleSpec[];
  fields: Field[];
  datastoreId: number | null;
  value: CheckFormState;
  errors: Record<string, string>;
  onChange: (next: CheckFormState) => void;
  ruleLocked?: boolean;
}

/** The rule-specific part of the check form: rule, fields and one control per property. */
export function CheckFields({ specs, fields, datastoreId, value, errors, onChange, ruleLocked }: Props) {
  const spec = specs.find((s) => s.rule === value.rule);
  const usable = spec
    ? fields.filter((f) => spec.fields_type_filter.length === 0 || spec.fields_type_filter.includes(f.type))
    : fields;
  const fieldOptions = usable.map((f) => ({ value: f.name, label: `${f.name} (${f.type})` }));
  const setProp = (name: string, v: PropertyValue) =>
    onChange({ ...value, properties: { ...value.properties, [name]: v } });
  return (
    <Stack>
      <Select
        label="Rule type"
        required
        searchable
        disabled={ruleLocked}
        data={specs.filter((s) => (s.author && !s.deprecated) || s.rule === value.rule).map((s) => s.rule)}
        value={value.rule}
        onChange={(rule) =>
          onChange({ ...value, rule, properties: {}, fields: keptFields(specs.find((s) => s.rule === rule), fields, value.fields) })
        }
        error={errors.rule}
        nothingFoundMessage="No rule type matches"
      />
      {spec && <Text size="sm">{spec.rule_description}</Text>}
      {spec?.fields === "single" && (
        <Select
          label="Field"
          required
          searchable
          data={fieldOptions}
          value={value.fields[0] ?? null}
          onChange={(v) => onChange({ ...value, fields: v ? [v] : [] })}
          error={errors.fields}
        />
      )}
      {spec?.fields === "multi" && (
        <MultiSelect
          label="Fields"
          required
          searchable
          data={fieldOptions}
          value={value.fields}
          onChange={(v) => onChange({ ...value, fields: v })}
          error={errors.fields}
        />
      )}
      {spec?.properties.map((p) => (
        <PropertyInput
          key={p.field}
          property={p}
          value={value.properties[p.field] ?? null}
          error={errors[`properties.${p.field}`]}
          onChange={(v) => setProp(p.field, v)}
          datastoreId={(value.properties.ref_datastore_id as number | null) ?? datastoreId}
          containerId={(value.properties.ref_container_id as number | null) ?? null}
        />
      ))}
    </Stack>
  );
}

function PropertyInput({
  property: p,
  value,
  error,
  onChange,
  datastoreId,
  containerId,
}: {
  property: RuleProperty;
  value: PropertyValue;
  error?: string;
  onChange: (v: PropertyValue) => void;
  datastoreId: number | null;
  containerId: number | null;
}) {
  const common = { label: p.title, description: p.description ?? undefined, required: p.required, error };
  switch (p.type) {
    case "number":
      return (
        <NumberInput
          {...common}
          min={p.minimum ?? undefined}
          max={p.maximum ?? undefined}
          clampBehavior="none"
          value={typeof value === "number" ? value : value === null ? "" : String(value)}
          onChange={(v) => onChange(v === "" ? null : typeof v === "number" ? v : Number.isNaN(Number(v)) ? v : Number(v))}
        />
      );
    case "boolean":
      return (
        <Checkbox
          label={p.title}
          description={p.description ?? undefined}
          checked={value === true}
          onChange={(e) => onChange(e.currentTarget.checked)}
        />
      );
    case "enum":
      return <Select {...common} data={p.values ?? []} value={value === null ? null : String(value)} onChange={onChange} clearable={!p.required} />;
    case "list":
      return (
        <TagsInput
          {...common}
          description={p.description ?? "Type a value and press Enter"}
          value={Array.isArray(value) ? value : []}
          onChange={onChange}
        />
      );
    case "datastore":
      return <DatastoreSelect {...common} value={value} onChange={onChange} />;
    case "container":
      return <ContainerSelect {...common} datastoreId={datastoreId} value={value} onChange={onChange} />;
    case "field":
      return <RefFieldSelect {...common} containerId={containerId} value={value} onChange={onChange} />;
    default:
      if (p.field === "expression" || p.field === "sql") {
        return <Textarea {...common} autosize minRows={2} value={value === null ? "" : String(value)} onChange={(e) => onChange(e.currentTarget.value)} />;
      }
      return (
        <TextInput
          {...common}
          placeholder={p.type === "datetime" ? "2024-01-31T00:00:00Z" : undefined}
          value={value === null ? "" : String(value)}
          onChange={(e) => onChange(e.currentTarget.value)}
        />
      );
  }
}

interface RefProps {
  label: string;
  description?: string;
  required: boolean;
  error?: string;
  value: PropertyValue;
  onChange: (v: PropertyValue) => void;
}

function DatastoreSelect(props: RefProps) {
  const list = useQuery({
    queryKey: ["datastores", { size: 1000 }],
    queryFn: () => unwrap<Page<Datastore>>(api.GET("/api/datastores", { params: { query: { size: 1000 } } })),
  });
  return (
    <Select
      {...props}
      searchable
      clearable={!props.required}
      data={(list.data?.items ?? []).filter((d) => !d.enrichment_only).map((d) => ({ value: String(d.id), label: d.name }))}
      value={props.value === null ? null : String(props.value)}
      onChange={(v) => props.onChange(v === null ? null : Number(v))}
    />
  );
}

function ContainerSelect({ datastoreId, ...props }: RefProps & { datastoreId: number | null }) {
  const list = useQuery({
    queryKey: ["container-listing", datastoreId],
    enabled: datastoreId !== null,
    queryFn: () =>
      unwrap<Container[]>(api.GET("/api/containers/listing", { params: { query: { datastore: [datastoreId!] } } })),
  });
  return (
    <Select
      {...props}
      searchable
      data={(list.data ?? []).map((c) => ({ value: String(c.id), label: c.name }))}
      value={props.value === null ? null : String(props.value)}
      onChange={(v) => props.onChange(v === null ? null : Number(v))}
    />
  );
}

function RefFieldSelect({ containerId, ...props }: RefProps & { containerId: number | null }) {
  const list = useQuery({
    queryKey: ["fields", containerId, "all"],
    enabled: containerId !== null,
    queryFn: () =>
      unwrap<Field[]>(
        api.GET("/api/containers/{container_id}/fields", {
          params: { path: { container_id: containerId! } },
        }),
      ),
  });
  return (
    <Select
      {...props}
      searchable
      data={(list.data ?? []).map((f) => f.name)}
      value={props.value === null ? null : String(props.value)}
      onChange={props.onChange}
    />
  );
}
