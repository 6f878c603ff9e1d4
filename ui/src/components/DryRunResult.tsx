import { Alert, Group, List, Stack, Text } from "@mantine/core";
import type { CheckDryRun } from "../api/types";
import { formatNumber } from "../lib";
import { SourceRecordsTable } from "../pages/Anomaly";
import { StatusBadge } from "./common";

/** One sentence on what a dry run found, e.g. "12 of 3,000 rows break the check". */
export function dryRunSummary(r: CheckDryRun): string {
  if (r.result === "unasserted") return `Not asserted: ${r.error ?? "the check could not be evaluated"}`;
  const read = `${formatNumber(r.records_processed)} rows read`;
  if (r.anomalous_records > 0) {
    return `${formatNumber(r.anomalous_records)} of ${formatNumber(r.asserted_records)} rows break the check (${read})`;
  }
  if (r.result === "failed") return `${r.message ?? "The check fails"} (${read})`;
  return `Every one of ${formatNumber(r.asserted_records)} rows passes (${read})`;
}

/** The answer of a check dry run: the outcome, the anomalies a scan would record and failing rows. */
export function DryRunResult({ result, fields }: { result: CheckDryRun; fields: string[] }) {
  const color = result.result === "passed" ? "green" : result.result === "failed" ? "red" : "gray";
  return (
    <Alert color={color} title="Dry run (nothing was recorded)" role="status" aria-live="polite">
      <Stack gap="xs">
        <Group gap="xs">
          <StatusBadge value={result.result} />
          <Text size="sm">{dryRunSummary(result)}</Text>
        </Group>
        {result.read_message && (
          <Text size="xs" c="dimmed">
            {result.read_message}
          </Text>
        )}
        {result.anomalies.length > 0 && (
          <>
            <Text size="sm" fw={600}>
              A scan would record {result.anomalies.length === 1 ? "1 anomaly" : `${result.anomalies.length} anomalies`}:
            </Text>
            <List size="sm" spacing={2}>
              {result.anomalies.slice(0, 5).map((a, i) => (
                <List.Item key={i}>
                  {a.type}: {a.message}
                </List.Item>
              ))}
            </List>
            {result.anomalies.length > 5 && <Text size="xs">…and {result.anomalies.length - 5} more</Text>}
          </>
        )}
        {result.examples.length > 0 && (
          <>
            <Text size="sm" fw={600}>
              Failing rows (first {result.examples.length})
            </Text>
            <SourceRecordsTable records={result.examples} highlight={fields} label="Dry run failing rows" />
          </>
        )}
      </Stack>
    </Alert>
  );
}
