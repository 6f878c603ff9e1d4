// The shapes the pages read from API responses (field names as the API gives them).
// Until every route declares a response model, the generated schema types responses as
// open objects; these interfaces name the fields the UI uses.

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  size: number;
  pages?: number;
}

export interface DatastoreStub {
  id: number;
  name: string;
  type: string;
  store_type?: string;
  enrich_only?: boolean;
}

export interface Datastore extends DatastoreStub {
  created: string;
  connection: Record<string, unknown> | null;
  database: string | null;
  schema: string | null;
  enrichment_only: boolean;
  enrichment_datastore_id: number | null;
  enrichment_datastore: { id: number; name: string } | null;
  description: string | null;
  global_tags: { name: string }[];
  metrics?: { quality_score?: QualityScore | null; open_anomalies: number; quality_checks: number } | null;
  favorite?: boolean;
  high_count_rollup_threshold?: number;
  enrichment_source_record_limit?: number;
}

/** A quality score: `total` and eight dimensions, each 0–100 or null when unmeasured
 * (definitions: docs/quality-score.md). */
export interface QualityScore {
  total?: number | null;
  completeness?: number | null;
  coverage?: number | null;
  conformity?: number | null;
  consistency?: number | null;
  precision?: number | null;
  timeliness?: number | null;
  volumetrics?: number | null;
  accuracy?: number | null;
}

export interface DatedQualityScore extends QualityScore {
  date: string;
}

export interface ContainerStub {
  id: number;
  name: string;
  container_type: string;
  table_type?: string | null;
}

export interface Container extends ContainerStub {
  created: string;
  datastore: DatastoreStub;
  metrics?: { fields?: number };
  favorite?: boolean;
  incremental_field_name?: string | null;
  partition_field?: string | null;
  file_pattern?: string | null;
}

export interface Field {
  id: number;
  name: string;
  type: string;
  native_type?: string | null;
  nullable?: boolean | null;
}

export interface HistogramBucket {
  value: string;
  count: number;
  ratio?: number;
}

export interface FieldProfile {
  id: number;
  name: string;
  field_type: string;
  completeness: number | null;
  approximate_distinct_values: number | null;
  unique_distinct_ratio?: number | null;
  min: number | string | null;
  max: number | string | null;
  mean: number | null;
  median: number | string | null;
  q1: number | string | null;
  q3: number | string | null;
  std_dev: number | null;
  min_length?: number | null;
  max_length?: number | null;
  histogram_buckets: HistogramBucket[] | null;
  histogram_complete?: boolean;
}

export interface ContainerProfile {
  id: number;
  created: string;
  records_count: number | null;
  records_processed: number | null;
  operation_id?: number;
}

export interface QualityCheck {
  id: number;
  created: string;
  rule_type: string;
  inferred: boolean;
  fields: { id?: number; name: string; type?: string }[];
  description: string | null;
  properties: Record<string, unknown> | null;
  filter: string | null;
  coverage: number | null;
  status: string;
  container: ContainerStub & { datastore: DatastoreStub };
  global_tags: { name: string }[];
  last_asserted: string | null;
  is_passing: boolean | null;
  last_assertion_error: string | null;
  anomaly_count: number | null;
  deleted_at?: string | null;
  favorite?: boolean;
  owner: UserStub | null;
  owner_id: number | null;
}

export interface RuleProperty {
  field: string;
  title: string;
  type: string; // number | string | boolean | enum | list | datetime | datastore | container | field
  required: boolean;
  values: string[] | null;
  description: string | null;
  /** the least / greatest value of a number property (inclusive), when the rule bounds it */
  minimum?: number | null;
  maximum?: number | null;
}

export interface RuleSpec {
  rule: string;
  rule_description: string;
  deprecated: boolean;
  author: boolean;
  fields: "none" | "single" | "multi" | string;
  fields_type_filter: string[];
  filterable: boolean;
  supports_coverage?: boolean;
  properties: RuleProperty[];
}

export interface FailedCheck {
  quality_check: QualityCheck | null;
  quality_check_id: number;
  message: string | null;
  anomalous_records_count: number | null;
}

export interface Anomaly {
  id: number;
  uuid: string;
  created: string;
  type: "record" | "shape" | string;
  status: string;
  archived: boolean;
  message: string | null;
  source_enriched: boolean;
  datastore: DatastoreStub | null;
  container: ContainerStub | null;
  operation_id: number | null;
  failed_checks: FailedCheck[];
  anomalous_records_count: number | null;
  global_tags: { name: string }[];
  description: string | null;
  assignees: UserStub[];
  assignee_ids: number[];
  comments: Comment[];
  status_changes: { created: string | null; previous: string | null; status: string; user: UserStub | null }[];
}

export interface UserStub {
  id: number;
  name: string | null;
  email: string | null;
  role: string | null;
}

export interface Comment {
  id: number;
  created: string;
  last_updated: string | null;
  message: string;
  user: UserStub | null;
  anomaly_id: number | null;
}

export interface ContainerScan {
  id: number;
  container: ContainerStub | null;
  start_time: string | null;
  end_time: string | null;
  records_processed: number | null;
  anomaly_count: number | null;
  result: string | null;
  message: string | null;
  quality_checks: {
    quality_check_id: number;
    rule_type: string;
    result: string;
    anomalous_records_count: number | null;
    error: string | null;
  }[];
}

export interface Operation {
  id: number;
  created: string;
  type: string;
  start_time: string | null;
  end_time: string | null;
  result: string | null;
  /** Waiting for a worker: ``result`` then says "running", as Qualytics' clients expect. */
  queued?: boolean;
  message: string | null;
  triggered_by: string | null;
  datastore: DatastoreStub | null;
  datastore_id: number;
  schedule: { id: number; name: string } | null;
  status?: {
    total_containers?: number | null;
    containers_analyzed?: number | null;
    records_processed?: number | null;
    anomalies_identified?: number | null;
  } | null;
  container_scans?: ContainerScan[];
  container_profiles?: {
    id: number;
    container: ContainerStub | null;
    records_processed: number | null;
    field_profiles_count: number;
    checks_added?: number;
    result: string | null;
    message: string | null;
  }[];
}

export interface Schedule {
  id: number;
  created: string;
  name: string;
  type: string;
  crontab: string;
  next_trigger: string | null;
  last_triggered: string | null;
  deactivated: boolean;
  datastore: DatastoreStub | null;
}

export interface CheckDryRun {
  quality_check_id: number | null;
  container_id: number;
  rule_type: string;
  result: "passed" | "failed" | "unasserted" | string;
  records_processed: number;
  asserted_records: number;
  anomalous_records: number;
  message: string | null;
  error: string | null;
  read_message: string | null;
  examples: Record<string, unknown>[];
  anomalies: { type: string; message: string; anomalous_records_count: number }[];
}

export interface User {
  id: number;
  name: string;
  email: string | null;
  role: string;
}

/** A user as GET /api/users lists them (Admins and Managers). */
export interface AppUser extends User {
  user_type: string | null;
  deleted_at: string | null;
  last_login: string | null;
  teams: { id: number; name: string; permission: string }[];
}

export interface Team {
  id: number;
  name: string;
  description: string | null;
  is_public: boolean;
  permission: string;
  members: { id: number; name: string | null }[];
  datastores: { id: number; name: string | null }[];
}

export interface UserToken {
  id: number;
  created: string | null;
  name: string;
  expiration: string | null;
  revoked: boolean;
  last_used: string | null;
  user_id: number | null;
  /** the value: only in the answer that created the token */
  token?: string | null;
}

export interface DailyCount {
  date: string;
  count: number;
}

export interface Activity {
  transaction: { id: number; issued_at: string; user: { id: number; name?: string | null; email?: string | null } | null };
  verb: string;
  object_type: string | null;
  object_id: number | null;
}

/** Team permissions on datastores, weakest first (Qualytics' order). */
export const PERMISSIONS = ["Reporter", "Viewer", "Drafter", "Author", "Editor"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The signed-in user (GET /api/users/me): role, and the team permission held on each datastore. */
export interface Me extends User {
  is_admin: boolean;
  permissions: { datastore_id: number; permission: Permission }[];
}

export const OPEN_STATUSES = ["Active", "Acknowledged"] as const;
export const ARCHIVED_STATUSES = ["Resolved", "Invalid", "Duplicate", "Discarded"] as const;

// Contract check, at compile time: every field name the pages read exists in the API's
// declared response model (src/api/schema.d.ts, generated from /api/openapi.json). When the
// API renames or drops one, `npm run typecheck` (and the build) fails here and names it.
// (The declared models mark many fields optional or nullable; the pages treat them as the
// server fills them today, so only the names are held to the contract.)
import type { components } from "./schema";
type S = components["schemas"];
type Missing<Declared, Used> = Exclude<keyof Used, keyof Declared>;
type Conforms<Declared, Used> = [Missing<Declared, Used>] extends [never] ? true : { missing: Missing<Declared, Used> };
export const contractChecks: [
  Conforms<S["Datastore"], Datastore>,
  Conforms<S["DatastorePage"], Page<Datastore>>,
  Conforms<S["Container"], Container>,
  Conforms<S["Field"], Field>,
  Conforms<S["FieldProfile"], FieldProfile>,
  Conforms<S["ContainerProfileDetail"], ContainerProfile>,
  Conforms<S["QualityCheck"], QualityCheck>,
  Conforms<S["RuleSpecification"], RuleSpec>,
  Conforms<S["RuleProperty"], RuleProperty>,
  Conforms<S["Anomaly"], Anomaly>,
  Conforms<S["FailedCheck"], FailedCheck>,
  Conforms<S["ScanOperationResult"] & S["ProfileOperationResult"], Operation>,
  Conforms<S["ContainerScan"], ContainerScan>,
  Conforms<S["Schedule"], Schedule>,
  Conforms<S["CheckDryRunResult"], CheckDryRun>,
  Conforms<S["Comment"], Comment>,
  Conforms<S["UserStub"], UserStub>,
  Conforms<S["Me"], Me>,
  Conforms<S["QualityScore"], QualityScore>,
  Conforms<S["DatedQualityScore"], DatedQualityScore>,
  Conforms<S["User"], AppUser>,
  Conforms<S["Team"], Team>,
  Conforms<S["UserToken"], UserToken>,
  Conforms<S["Activity"], Activity>,
  Conforms<S["DailyCount"], DailyCount>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];
