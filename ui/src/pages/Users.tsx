import { Badge, Button, Checkbox, Group, Modal, MultiSelect, PasswordInput, SegmentedControl, Select, Stack, Switch, Table, Text, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMutation } from "../components/mutation";
import { useState } from "react";
import { api, unwrap } from "../api/client";
import type { AppUser, Page, Team, UserToken } from "../api/types";
import { ErrorAlert, Loading, PageTitle, Pager } from "../components/common";
import { formatTime, relativeTime, useQueryState } from "../lib";
import { NewTokenValue } from "./Tokens";

export const ROLES = ["Member", "Manager", "Admin"];
const KEYS = ["include_deactivated", "user_type", "page", "size"] as const;

export function useTeams() {
  return useQuery({
    queryKey: ["teams", { size: 1000 }],
    queryFn: () => unwrap<Page<Team>>(api.GET("/api/teams", { params: { query: { size: 1000 } } })),
  });
}

/** Users (Admins): list, create a person or a service user, edit role and teams, deactivate. */
export function UsersPage() {
  const [q, setQ] = useQueryState(KEYS);
  const page = Number(q.page ?? 1);
  const size = Number(q.size ?? 25);
  const query = {
    page,
    size,
    include_deactivated: q.include_deactivated === "true",
    ...(q.user_type ? { user_type: q.user_type as "Person" | "Service" } : {}),
  };
  const list = useQuery({
    queryKey: ["users", query],
    queryFn: () => unwrap<Page<AppUser>>(api.GET("/api/users", { params: { query } })),
  });
  const [editing, setEditing] = useState<AppUser | "new" | null>(null);
  return (
    <>
      <PageTitle title="Users">
        <Button onClick={() => setEditing("new")}>New user</Button>
      </PageTitle>
      <Group gap="md" mb="md" align="flex-end" wrap="wrap">
        <Select
          label="Type"
          placeholder="People and services"
          clearable
          w={200}
          data={[
            { value: "Person", label: "People" },
            { value: "Service", label: "Service users" },
          ]}
          value={q.user_type}
          onChange={(v) => setQ({ user_type: v })}
        />
        <Checkbox
          label="Show deactivated users"
          checked={q.include_deactivated === "true"}
          onChange={(e) => setQ({ include_deactivated: e.currentTarget.checked ? "true" : null })}
          mb={8}
        />
      </Group>
      <ErrorAlert error={list.error} />
      {list.isLoading && <Loading />}
      {list.data && (
        <>
          <div className="table-scroll">
            <Table striped highlightOnHover miw={760} aria-label="Users">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Email</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Teams</Table.Th>
                  <Table.Th>Active</Table.Th>
                  <Table.Th>Last sign-in</Table.Th>
                  <Table.Th>
                    <span className="sr-only">Actions</span>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.data.items.map((u) => (
                  <Table.Tr key={u.id} data-testid={`user-${u.id}`}>
                    <Table.Td>
                      {u.name}{" "}
                      {u.user_type === "Service" && (
                        <Badge size="xs" variant="outline" color="gray.8">
                          service
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{u.email}</Table.Td>
                    <Table.Td>{u.role}</Table.Td>
                    <Table.Td>{u.teams.map((t) => t.name).join(", ") || "—"}</Table.Td>
                    <Table.Td>{u.deleted_at ? `deactivated ${formatTime(u.deleted_at)}` : "yes"}</Table.Td>
                    <Table.Td>{u.last_login ? relativeTime(u.last_login) : "never"}</Table.Td>
                    <Table.Td>
                      <Button size="xs" variant="default" onClick={() => setEditing(u)} aria-label={`Edit ${u.name}`}>
                        Edit
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </div>
          <Pager page={page} size={size} total={list.data.total} onPage={(p) => setQ({ page: p })} onSize={(s) => setQ({ size: s })} />
        </>
      )}
      {editing !== null && <UserModal user={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
    </>
  );
}

function UserModal({ user, onClose }: { user: AppUser | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const teams = useTeams();
  const [name, setName] = useState(user?.name ?? "");
  const [email, setEmail] = useState(user?.email ?? "");
  const [role, setRole] = useState(user?.role ?? "Member");
  const [userType, setUserType] = useState(user?.user_type ?? "Person");
  const [password, setPassword] = useState("");
  const [teamIds, setTeamIds] = useState<string[]>((user?.teams ?? []).map((t) => String(t.id)));
  const [active, setActive] = useState(!user?.deleted_at);
  const [submitted, setSubmitted] = useState(false);
  const publicTeam = (teams.data?.items ?? []).find((t) => t.is_public);
  const errors: Record<string, string> = {};
  if (!name.trim()) errors.name = "Give a name";
  if (!/^[^@\s]+@[^@\s]+$/.test(email.trim())) errors.email = "Give an email address, like ann@example.com";
  if (password && password.length < 8) errors.password = "At least 8 characters";
  const save = useMutation({
    mutationFn: () => {
      const team_ids = teamIds.map(Number).filter((id) => id !== publicTeam?.id); // everyone is in it
      if (user === null) {
        const body = {
          name: name.trim(),
          email: email.trim(),
          role: role as "Member",
          user_type: userType as "Person",
          team_ids,
          ...(userType === "Person" && password ? { password } : {}),
        };
        return unwrap<AppUser>(api.POST("/api/users", { body }));
      }
      const body = {
        name: name.trim(),
        email: email.trim(),
        role: role as "Member",
        team_ids,
        deactivated: !active,
        ...(password ? { password } : {}),
      };
      return unwrap<AppUser>(api.PUT("/api/users/{user_id}", { params: { path: { user_id: user.id } }, body }));
    },
    onSuccess: (saved) => {
      queryClient.invalidateQueries({ queryKey: ["users"] });
      queryClient.invalidateQueries({ queryKey: ["teams"] });
      notifications.show({ color: "green", message: `User ${saved.name} saved (${saved.role})` });
      onClose();
    },
  });
  const deactivate = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/users/{user_id}", { params: { path: { user_id: user!.id } } })),
    onSuccess: () => {
      queryClient.invalidateQueries({ queryKey: ["users"] });
      notifications.show({ message: `User ${user!.name} deactivated: their tokens no longer work` });
      onClose();
    },
  });
  const shown = submitted ? errors : {};
  return (
    <Modal opened onClose={onClose} title={user ? `Edit user ${user.name}` : "New user"} size="lg">
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setSubmitted(true);
          if (Object.keys(errors).length === 0) save.mutate();
        }}
      >
        <Stack>
          {user === null && (
            <div>
              <Text size="sm" fw={500} id="user-type-label" mb={4}>
                Kind of user
              </Text>
              <SegmentedControl
                aria-labelledby="user-type-label"
                data={[
                  { value: "Person", label: "Person" },
                  { value: "Service", label: "Service user" },
                ]}
                value={userType}
                onChange={setUserType}
              />
              <Text size="xs" c="dimmed" mt={4}>
                A person signs in with a password; a service user (a pipeline) only has API tokens.
              </Text>
            </div>
          )}
          <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={shown.name} />
          <TextInput label="Email" required type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={shown.email} />
          <Select label="Role" required data={ROLES} value={role} onChange={(v) => v && setRole(v)} allowDeselect={false} />
          <MultiSelect
            label="Teams"
            description={publicTeam ? `Everyone is also in the public team (${publicTeam.permission} on its datastores)` : undefined}
            placeholder="No team"
            searchable
            data={(teams.data?.items ?? []).filter((t) => !t.is_public).map((t) => ({ value: String(t.id), label: `${t.name} (${t.permission})` }))}
            value={teamIds.filter((id) => id !== String(publicTeam?.id))}
            onChange={setTeamIds}
          />
          {(user ? user.user_type !== "Service" : userType === "Person") && (
            <PasswordInput
              label={user ? "New password" : "Password"}
              description={user ? "Leave blank to keep it; a new one ends the user's sessions" : "8 characters or more; blank: set it later"}
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
              error={shown.password}
              autoComplete="new-password"
            />
          )}
          {user?.user_type === "Service" && !user.deleted_at && <ServiceTokens user={user} />}
          {user && <Switch label="Active (may sign in and use tokens)" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} />}
          <ErrorAlert error={save.error ?? deactivate.error} />
          <Group justify="space-between">
            <Button type="submit" loading={save.isPending}>
              {user ? "Save user" : "Create user"}
            </Button>
            {user && !user.deleted_at && (
              <Button color="red.9" variant="outline" loading={deactivate.isPending} onClick={() => window.confirm(`Deactivate ${user.name}?`) && deactivate.mutate()}>
                Deactivate
              </Button>
            )}
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** A service user's tokens (Admins): the list, and a new one whose value is shown once. */
function ServiceTokens({ user }: { user: AppUser }) {
  const queryClient = useQueryClient();
  const tokens = useQuery({
    queryKey: ["service-tokens"],
    queryFn: () => unwrap<Page<UserToken>>(api.GET("/api/user-tokens/service", { params: { query: { size: 1000 } } })),
  });
  const [name, setName] = useState("");
  const [created, setCreated] = useState<UserToken | null>(null);
  const create = useMutation({
    mutationFn: () => unwrap<UserToken>(api.POST("/api/user-tokens/service", { body: { user_id: user.id, name: name.trim(), scim_endpoints_only: false } })),
    onSuccess: (t) => {
      setCreated(t);
      setName("");
      queryClient.invalidateQueries({ queryKey: ["service-tokens"] });
    },
  });
  const mine = (tokens.data?.items ?? []).filter((t) => t.user_id === user.id);
  return (
    <Stack gap="xs" component="section" aria-labelledby="service-tokens-title">
      <Text fw={600} id="service-tokens-title">
        Service tokens
      </Text>
      <Text size="sm">{mine.length === 0 ? "None yet." : mine.map((t) => `${t.name}${t.revoked ? " (revoked)" : ""}`).join(", ")}</Text>
      <Group align="flex-end" wrap="wrap">
        <TextInput label="New service token name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <Button variant="default" disabled={!name.trim()} loading={create.isPending} onClick={() => create.mutate()}>
          Create service token
        </Button>
      </Group>
      <ErrorAlert error={create.error ?? tokens.error} />
      {created && <NewTokenValue token={created} onDone={() => setCreated(null)} />}
    </Stack>
  );
}
