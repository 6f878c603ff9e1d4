import { BarChart } from "@mantine/charts";
import { Card, Group, RingProgress, SimpleGrid, Table, Text, Title } from "@mantine/core";
import type { FieldProfile } from "../api/types";
import { formatFieldValue, formatNumber } from "../lib";

/** The rows of the quantile table: what is known of the field's distribution, in order, each
 * value as shown (an integer field's own values without digit grouping, so a year reads 2013,
 * not 2,013; counts and means grouped). The quartiles and median are approximate (the
 * engine's approximate quantiles, or a sample's). */
export function quantileRows(p: FieldProfile): [string, string][] {
  const own = (v: unknown) => formatFieldValue(v, p.field_type);
  const rows: [string, unknown, (v: unknown) => string][] = [
    ["Minimum", p.min, own],
    ["1st quartile (approx.)", p.q1, own],
    ["Median (approx.)", p.median, own],
    ["3rd quartile (approx.)", p.q3, own],
    ["Maximum", p.max, own],
    ["Mean", p.mean, formatNumber],
    ["Standard deviation", p.std_dev, formatNumber],
    ["Distinct values (approx.)", p.approximate_distinct_values, formatNumber],
    ["Shortest text", p.min_length, formatNumber],
    ["Longest text", p.max_length, formatNumber],
  ];
  return rows.filter(([, v]) => v !== null && v !== undefined).map(([label, v, show]) => [label, show(v)]);
}

/** The histogram's bars: a numeric field's in the order of their values, others most frequent first. */
export function histogramBars(p: FieldProfile): { value: string; count: number }[] {
  const bars = (p.histogram_buckets ?? []).map((b) => ({ value: String(b.value), count: b.count }));
  if ((p.field_type === "Integral" || p.field_type === "Fractional") && bars.every((b) => !Number.isNaN(Number(b.value)))) {
    bars.sort((a, b) => Number(a.value) - Number(b.value));
  }
  return bars;
}

/** Completeness as a whole percentage with one decimal, e.g. 0.99267 -> "99.3%". */
export function percent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return "—";
  return `${(Math.round(ratio * 1000) / 10).toFixed(1)}%`;
}

/** A field's profile: completeness ring, quantiles and histogram. */
export function FieldProfileView({ profile }: { profile: FieldProfile }) {
  const completeness = profile.completeness ?? 0;
  const buckets = histogramBars(profile);
  const numeric = profile.field_type === "Integral" || profile.field_type === "Fractional";
  return (
    <Card withBorder padding="md" aria-label={`Profile of ${profile.name}`} component="section">
      <Title order={3} size="h4" mb="sm">
        Profile of {profile.name}{" "}
        <Text span c="dimmed" size="sm">
          ({profile.field_type})
        </Text>
      </Title>
      <SimpleGrid cols={{ base: 1, md: 3 }}>
        <Group gap="sm" align="center">
          <RingProgress
            aria-hidden="true"
            size={110}
            thickness={12}
            roundCaps
            sections={[{ value: completeness * 100, color: completeness >= 0.99 ? "green" : completeness >= 0.9 ? "yellow" : "red" }]}
            label={
              <Text ta="center" fw={700} size="sm">
                {percent(profile.completeness)}
              </Text>
            }
          />
          <Text size="sm">
            Completeness {percent(profile.completeness)}: share of
            <br />
            values that are not null
          </Text>
        </Group>
        <Table withRowBorders={false} verticalSpacing={2} aria-label="Quantiles">
          <Table.Tbody>
            {quantileRows(profile).map(([label, value]) => (
              <Table.Tr key={label}>
                <Table.Th scope="row" fw={500}>
                  {label}
                </Table.Th>
                <Table.Td>{value}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <div>
          <Text size="sm" fw={500} mb={4}>
            Histogram{profile.histogram_complete === false ? " (most frequent values)" : numeric && buckets.length > 0 ? " (by value)" : ""}
          </Text>
          {buckets.length > 0 ? (
            <div aria-hidden="true">
            <BarChart
              h={180}
              data={buckets}
              dataKey="value"
              series={[{ name: "count", color: "blue.6", label: "Rows" }]}
              tickLine="y"
              gridAxis="y"
            />
            </div>
          ) : null}
          {buckets.length > 0 ? (
            <ul className="sr-only" aria-label={`Histogram of ${profile.name}`}>
              {buckets.map((b) => (
                <li key={b.value}>
                  {b.value}: {b.count} rows
                </li>
              ))}
            </ul>
          ) : (
            <Text size="sm" c="dimmed">
              No histogram for this field: it has more distinct values than a profile counts.
            </Text>
          )}
        </div>
      </SimpleGrid>
    </Card>
  );
}
