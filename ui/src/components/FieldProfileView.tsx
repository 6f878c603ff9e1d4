import { BarChart } from "@mantine/charts";
import { Card, Group, RingProgress, SimpleGrid, Table, Text, Title } from "@mantine/core";
import type { FieldProfile } from "../api/types";
import { formatNumber } from "../lib";

/** The rows of the quantile table: what is known of the field's distribution, in order. */
export function quantileRows(p: FieldProfile): [string, unknown][] {
  const rows: [string, unknown][] = [
    ["Minimum", p.min],
    ["1st quartile", p.q1],
    ["Median", p.median],
    ["3rd quartile", p.q3],
    ["Maximum", p.max],
    ["Mean", p.mean],
    ["Standard deviation", p.std_dev],
    ["Distinct values (approx.)", p.approximate_distinct_values],
    ["Shortest text", p.min_length],
    ["Longest text", p.max_length],
  ];
  return rows.filter(([, v]) => v !== null && v !== undefined);
}

/** Completeness as a whole percentage with one decimal, e.g. 0.99267 -> "99.3%". */
export function percent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return "—";
  return `${(Math.round(ratio * 1000) / 10).toFixed(1)}%`;
}

/** A field's profile: completeness ring, quantiles and histogram. */
export function FieldProfileView({ profile }: { profile: FieldProfile }) {
  const completeness = profile.completeness ?? 0;
  const buckets = (profile.histogram_buckets ?? []).map((b) => ({ value: b.value, count: b.count }));
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
                <Table.Td>{formatNumber(value)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <div>
          <Text size="sm" fw={500} mb={4}>
            Histogram{profile.histogram_complete === false ? " (most frequent values)" : ""}
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
              No histogram for this field.
            </Text>
          )}
        </div>
      </SimpleGrid>
    </Card>
  );
}
