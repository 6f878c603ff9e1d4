import { Alert, Badge, Button, Code, CopyButton, Group, NumberInput, Paper, Stack, Table, Text, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMutation } from "../components/mutation";
import { useState } from "react";
import { api, formErrors, unwrap } from "../api/client";
import type { Page, UserToken } from "../api/types";
import { ErrorAlert, Loading, PageTitle, Pager } from "../components/common";
import { formatTime, relativeTime, useQueryState } from "../lib";

const SESSION_PREFIX = "session-";

/** The token just created: its value, shown this once (the API never returns it again). */
export function NewTokenValue({ token, onDone }: { token: UserToken; onDone: () => void }) {
  return (
    <Alert color="green" title={`Token ${token.name} created`} role="status" my="md">
      <Text size="sm" mb="xs">
        Copy it now: it is shown only this once. Send it as <Code>Authorization: Bearer …</Code>.
      </Text>
      <Code block data-testid="new-token" style={{ wordBreak: "break-all", whiteSpace: "pre-wrap" }}>
        {token.token}
      </Code>
      <Group mt="xs">
        <CopyButton value={token.token ?? ""}>
          {({ copied, copy }) => (
            <Button size="xs" variant="default" onClick={copy}>
              {copied ? "Copied" : "Copy token"}
            </Button>
          )}
        </CopyButton>
        <Button size="xs" variant="default" onClick={onDone}>
          I have saved it
        </Button>
      </Group>
    </Alert>
  );
}

/** The signed-in user's API tokens: create one (its value shown once), revoke, restore, delete. */
/** What is wrong with an "expires in days" value (blank: never expires), or undefined. */
export function expiresInDaysError(days: number | string): string | undefined {
  if (days === "") return undefined;
  const n = Number(days);
  if (!Number.isInteger(n) || n < 1 || n > 365) return "A token expires in 1 to 365 days (leave blank for never)";
  return undefined;
}

export function TokensPage() {
  const [q, setQ] = useQueryState(["page"] as const);
  const page = Number(q.page ?? 1);
  const size = 25;
  const queryClient = useQueryClient();
  const list = useQuery({
    queryKey: ["user-tokens", page],
    queryFn: () => unwrap<Page<UserToken>>(api.GET("/api/user-tokens", { params: { query: { page, size } } })),
  });
  const [name, setName] = useState("");
  const [days, setDays] = useState<number | string>("");
  const [created, setCreated] = useState<UserToken | null>(null);
  const [submitted, setSubmitted] = useState(false);
  const nameError = !name.trim() ? "Give the token a name, e.g. where it is used" : undefined;
  const daysError = expiresInDaysError(days);
  const create = useMutation({
    mutationFn: () =>
      unwrap<UserToken>(
        api.POST("/api/user-tokens", {
          body: { name: name.trim(), expires_in_days: typeof days === "number" ? days : null, scim_endpoints_only: false },
        }),
      ),
    onSuccess: (t) => {
      setCreated(t);
      setName("");
      setDays("");
      setSubmitted(false);
      queryClient.invalidateQueries({ queryKey: ["user-tokens"] });
    },
  });
  const act = useMutation({
    mutationFn: ({ token, action }: { token: UserToken; action: "revoke" | "restore" | "delete" }) => {
      const params = { params: { path: { token_id: token.id } } };
      if (action === "delete") return unwrap(api.DELETE("/api/user-tokens/{token_id}", params));
      if (action === "revoke") return unwrap(api.PUT("/api/user-tokens/{token_id}/revoke", params));
      return unwrap(api.PUT("/api/user-tokens/{token_id}/restore", params));
    },
    onSuccess: (_, { token, action }) => {
      queryClient.invalidateQueries({ queryKey: ["user-tokens"] });
      notifications.show({ message: `Token ${token.name} ${action === "delete" ? "deleted" : action === "revoke" ? "revoked" : "restored"}` });
    },
  });
  const refused = formErrors(create.error, (path) => (path === "name" || path === "expires_in_days" ? path : null));
  return (
    <>
      <PageTitle title="API tokens" />
      <Text size="sm" mb="md">
        Tokens let scripts, the <Code>assay</Code> CLI and the Qualytics CLI act as you. Session tokens (named{" "}
        <Code>{SESSION_PREFIX}…</Code>) are the ones your password sign-ins made; signing out revokes the current one.
      </Text>
      <Paper withBorder p="md" mb="md" maw={640} component="section" aria-labelledby="new-token-title">
        <Text fw={600} id="new-token-title" mb="xs">
          New token
        </Text>
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            setSubmitted(true);
            if (!nameError && !daysError) create.mutate();
          }}
        >
          <Stack gap="sm">
            <Group align="flex-start" grow wrap="wrap">
              <TextInput
                label="Token name"
                required
                value={name}
                onChange={(e) => setName(e.currentTarget.value)}
                error={(submitted && nameError) || refused.fields.name}
              />
              <NumberInput
                label="Expires in (days)"
                description="1–365; blank: never"
                min={1}
                max={365}
                clampBehavior="none"
                allowDecimal={false}
                value={days}
                onChange={setDays}
                error={(submitted && daysError) || refused.fields.expires_in_days}
              />
            </Group>
            <ErrorAlert error={refused.rest} />
            <Group>
              <Button type="submit" loading={create.isPending}>
                Create token
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
      {created && <NewTokenValue token={created} onDone={() => setCreated(null)} />}
      <ErrorAlert error={list.error ?? act.error} />
      {list.isLoading && <Loading />}
      {list.data && (
        <>
          <div className="table-scroll">
            <Table striped miw={700} aria-label="Your tokens">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>Expires</Table.Th>
                  <Table.Th>Last used</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th>
                    <span className="sr-only">Actions</span>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.data.items.map((t) => (
                  <Table.Tr key={t.id}>
                    <Table.Td>
                      {t.name}{" "}
                      {t.name.startsWith(SESSION_PREFIX) && (
                        <Badge size="xs" variant="outline" color="gray.8">
                          session
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{formatTime(t.created)}</Table.Td>
                    <Table.Td>{t.expiration ? formatTime(t.expiration) : "never"}</Table.Td>
                    <Table.Td>{t.last_used ? relativeTime(t.last_used) : "never"}</Table.Td>
                    <Table.Td>{t.revoked ? "revoked" : "valid"}</Table.Td>
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap">
                        {t.revoked ? (
                          <Button size="xs" variant="default" aria-label={`Restore ${t.name}`} disabled={act.isPending} onClick={() => act.mutate({ token: t, action: "restore" })}>
                            Restore
                          </Button>
                        ) : (
                          <Button
                            size="xs"
                            variant="default"
                            aria-label={`Revoke ${t.name}`}
                            disabled={act.isPending}
                            onClick={() => window.confirm(`Revoke token ${t.name}? Whatever uses it gets 401.`) && act.mutate({ token: t, action: "revoke" })}
                          >
                            Revoke
                          </Button>
                        )}
                        <Button
                          size="xs"
                          variant="default"
                          aria-label={`Delete ${t.name}`}
                          disabled={act.isPending}
                          onClick={() => window.confirm(`Delete token ${t.name}?`) && act.mutate({ token: t, action: "delete" })}
                        >
                          Delete
                        </Button>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </div>
          <Pager page={page} size={size} total={list.data.total} onPage={(p) => setQ({ page: p })} />
        </>
      )}
    </>
  );
}
