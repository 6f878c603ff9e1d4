import { Alert, Badge, Group, Loader, Pagination, Select, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { Link } from "react-router-dom";

export function PageTitle({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <Group justify="space-between" mb="md" wrap="wrap" gap="sm">
      <Title order={1} size="h2" style={{ overflowWrap: "anywhere", minWidth: 0 }}>
        {title}
      </Title>
      {children && <Group gap="xs">{children}</Group>}
    </Group>
  );
}

export function ErrorAlert({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <Alert color="red" title="Something went wrong" role="alert" my="sm">
      {error instanceof Error ? error.message : String(error)}
    </Alert>
  );
}

/** What a page shows instead of a form the signed-in user may not use. */
export function NotAllowed({ what }: { what: string }) {
  return (
    <Alert color="gray" title="Not allowed" role="status" my="sm">
      You cannot {what}. Ask an Admin or a Manager of your team.
    </Alert>
  );
}

export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <Group gap="xs" my="md" role="status">
      <Loader size="sm" />
      <Text size="sm">{label}…</Text>
    </Group>
  );
}

const RESULT_COLORS: Record<string, string> = {
  success: "green",
  passed: "green",
  failure: "red",
  failed: "red",
  error: "red",
  aborted: "orange",
  running: "blue",
  queued: "gray",
  Active: "red",
  Acknowledged: "yellow",
  Resolved: "green",
  Invalid: "gray",
  Duplicate: "gray",
  Discarded: "gray",
  Draft: "gray",
  Archived: "gray",
  healthy: "green",
  failing: "red",
  unknown: "gray",
};

export function StatusBadge({ value }: { value: string | null | undefined }) {
  const v = value ?? "unknown";
  const color = RESULT_COLORS[v] ?? "blue";
  // a coloured dot beside dark text: the colour helps, the text carries the meaning (4.5:1 contrast)
  return (
    <Badge color={color} variant="dot" radius="sm" c="dark.7">
      {v}
    </Badge>
  );
}

/** Page navigation and page size, for every list (the page lives in the query string). */
export function Pager({
  page,
  total,
  size,
  onPage,
  onSize,
}: {
  page: number;
  total: number;
  size: number;
  onPage: (page: number) => void;
  onSize?: (size: number) => void;
}) {
  const pages = Math.max(1, Math.ceil(total / size));
  return (
    <Group justify="space-between" mt="md" wrap="wrap">
      <Text size="sm" c="dimmed">
        {total === 0 ? "Nothing to show" : `${(page - 1) * size + 1}–${Math.min(page * size, total)} of ${total}`}
      </Text>
      <Group gap="sm">
        {onSize && (
          <Select
            aria-label="Rows per page"
            size="xs"
            w={90}
            data={["10", "25", "50", "100"]}
            value={String(size)}
            onChange={(v) => v && onSize(Number(v))}
            allowDeselect={false}
          />
        )}
        <Pagination
          total={pages}
          value={page}
          onChange={onPage}
          size="sm"
          getControlProps={(control) => ({ "aria-label": `${control} page` })}
          getItemProps={(p) => ({ "aria-label": `Page ${p}` })}
        />
      </Group>
    </Group>
  );
}

/** A link to an object's page; a long name wraps (a name without spaces breaks anywhere), and
 * the link's title repeats a text name in full. */
export function EntityLink({ to, children }: { to: string; children: ReactNode }) {
  return (
    <Text
      component={Link}
      to={to}
      c="blue.9"
      td="underline"
      size="sm"
      title={typeof children === "string" ? children : undefined}
      style={{ overflowWrap: "anywhere" }}
    >
      {children}
    </Text>
  );
}
