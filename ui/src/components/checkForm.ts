// The quality-check form's state, validation and request body, derived from a rule's
// specification (GET /api/quality-checks/specifications/rules): no rule is hard-coded.
import type { Field, QualityCheck, RuleProperty, RuleSpec } from "../api/types";

export type PropertyValue = string | number | boolean | string[] | null;

export interface CheckFormState {
  rule: string | null;
  fields: string[];
  properties: Record<string, PropertyValue>;
  filter: string;
  description: string;
  coverage: number | string;
  tags: string[];
}

export const emptyCheckForm: CheckFormState = {
  rule: null,
  fields: [],
  properties: {},
  filter: "",
  description: "",
  coverage: "",
  tags: [],
};

/** The form of an existing check (for editing). */
export function formFromCheck(check: QualityCheck): CheckFormState {
  const properties: Record<string, PropertyValue> = {};
  for (const [k, v] of Object.entries(check.properties ?? {})) {
    properties[k] = Array.isArray(v) ? v.map(String) : (v as PropertyValue);
  }
  return {
    rule: check.rule_type,
    fields: check.fields.map((f) => f.name),
    properties,
    filter: check.filter ?? "",
    description: check.description ?? "",
    coverage: check.coverage ?? "",
    tags: check.global_tags.map((t) => t.name),
  };
}

function isBlank(v: PropertyValue | undefined): boolean {
  return v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
}

/** Errors by form key (`fields`, `properties.min`, `coverage`), as the API would refuse them. */
export function validateCheckForm(spec: RuleSpec | undefined, f: CheckFormState): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!spec) {
    errors.rule = "Choose a rule type";
    return errors;
  }
  if (spec.fields === "single" && f.fields.length !== 1) errors.fields = "Choose one field";
  if (spec.fields === "multi" && f.fields.length === 0) errors.fields = "Choose at least one field";
  for (const p of spec.properties) {
    const v = f.properties[p.field];
    if (isBlank(v)) {
      if (p.required) errors[`properties.${p.field}`] = `${p.title} is required`;
      continue;
    }
    if (p.type === "number" && (typeof v !== "number" || !Number.isFinite(v))) {
      errors[`properties.${p.field}`] = `${p.title} must be a number`;
    } else if (typeof v === "number") {
      // the simple bounds the specification gives (e.g. maxLength's value ≥ 0)
      if (p.minimum !== null && p.minimum !== undefined && v < p.minimum) {
        errors[`properties.${p.field}`] = `${p.title} must be at least ${p.minimum}`;
      } else if (p.maximum !== null && p.maximum !== undefined && v > p.maximum) {
        errors[`properties.${p.field}`] = `${p.title} must be at most ${p.maximum}`;
      }
    }
    if (p.type === "enum" && p.values && !p.values.includes(String(v))) {
      errors[`properties.${p.field}`] = `${p.title} must be one of ${p.values.join(", ")}`;
    }
    if (p.type === "datetime" && Number.isNaN(Date.parse(String(v)))) {
      errors[`properties.${p.field}`] = `${p.title} must be a date and time (ISO 8601)`;
    }
  }
  const min = f.properties.min;
  const max = f.properties.max;
  if (typeof min === "number" && typeof max === "number" && min > max) {
    errors["properties.max"] = "Max must not be less than min";
  }
  if (f.coverage !== "") {
    const c = Number(f.coverage);
    if (!(c > 0 && c <= 1)) errors.coverage = "Coverage is a share of rows: more than 0, at most 1";
  }
  return errors;
}

/** The form key an API 422 location of a check's body goes to (`properties.min`, `fields`,
 * `coverage`, `filter`, `description`, `container_id` → `container`), or null when the form
 * shows no such input (for `spec`). */
export function checkErrorKey(spec: RuleSpec | undefined, path: string): string | null {
  if (path === "container_id") return "container";
  if (["fields", "coverage", "filter", "description", "rule"].includes(path)) return path;
  if (path === "properties") return spec?.properties.length ? `properties.${spec.properties[0].field}` : null;
  const prop = path.startsWith("properties.") ? path.split(".")[1] : null;
  if (prop && spec?.properties.some((p) => p.field === prop)) return `properties.${prop}`;
  return null;
}

/** The chosen fields a rule (`spec`) still accepts after the rule type changes: of a type it
 * takes, one at most for a single-field rule, none for a rule without fields. */
export function keptFields(spec: RuleSpec | undefined, fields: Pick<Field, "name" | "type">[], chosen: string[]): string[] {
  if (!spec || spec.fields === "none") return [];
  const types = spec.fields_type_filter ?? [];
  const ok = chosen.filter((name) => {
    const f = fields.find((x) => x.name === name);
    return f !== undefined && (types.length === 0 || types.includes(f.type));
  });
  return spec.fields === "single" ? ok.slice(0, 1) : ok;
}

function propertyValue(p: RuleProperty, v: PropertyValue): unknown {
  if (p.type === "datastore" || p.type === "container") return v === null || v === "" ? null : Number(v);
  return v;
}

/** The POST/PUT /api/quality-checks body (without `container_id`). */
export function checkBody(spec: RuleSpec, f: CheckFormState): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const p of spec.properties) {
    const v = f.properties[p.field];
    if (!isBlank(v)) properties[p.field] = propertyValue(p, v as PropertyValue);
  }
  const body: Record<string, unknown> = {
    rule: spec.rule,
    fields: spec.fields === "none" ? [] : f.fields,
    properties,
    description: f.description.trim() || null,
    tags: f.tags,
  };
  if (spec.filterable) body.filter = f.filter.trim() || null;
  if (f.coverage !== "") body.coverage = Number(f.coverage);
  return body;
}
