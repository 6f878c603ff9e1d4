import { Badge, Button, Group, Modal, MultiSelect, Select, Stack, Table, Text, TextInput, Textarea } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMutation } from "../components/mutation";
import { useState } from "react";
import { api, unwrap } from "../api/client";
import { PERMISSIONS, type AppUser, type Datastore, type Page, type Team } from "../api/types";
import { ErrorAlert, Loading, PageTitle } from "../components/common";
import { useTeams } from "./Users";

const PERMISSION_HELP: Record<string, string> = {
  Reporter: "sees checks and anomalies, not source records",
  Viewer: "also reads source records and comments",
  Drafter: "also drafts and dry runs checks",
  Author: "also activates, edits and archives checks",
  Editor: "also runs operations, schedules, edits the datastore, triages anomalies",
};

/** Teams (Admins): each holds one permission on each of its datastores for its members. */
export function TeamsPage() {
  const teams = useTeams();
  const [editing, setEditing] = useState<Team | "new" | null>(null);
  return (
    <>
      <PageTitle title="Teams">
        <Button onClick={() => setEditing("new")}>New team</Button>
      </PageTitle>
      <Text size="sm" mb="md">
        A team's members hold its permission on each of its datastores; a user holds the highest permission of their teams.
      </Text>
      <ErrorAlert error={teams.error} />
      {teams.isLoading && <Loading />}
      {teams.data && (
        <div className="table-scroll">
          <Table striped highlightOnHover miw={700} aria-label="Teams">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Team</Table.Th>
                <Table.Th>Permission</Table.Th>
                <Table.Th>Datastores</Table.Th>
                <Table.Th>Members</Table.Th>
                <Table.Th>
                  <span className="sr-only">Actions</span>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {teams.data.items.map((t) => (
                <Table.Tr key={t.id} data-testid={`team-${t.id}`}>
                  <Table.Td>
                    {t.name}{" "}
                    {t.is_public && (
                      <Badge size="xs" variant="outline" color="gray.8">
                        everyone
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>{t.permission}</Table.Td>
                  <Table.Td>{t.datastores.map((d) => d.name).join(", ") || "—"}</Table.Td>
                  <Table.Td>{t.is_public ? "every user" : t.members.map((m) => m.name).join(", ") || "—"}</Table.Td>
                  <Table.Td>
                    <Button size="xs" variant="default" onClick={() => setEditing(t)} aria-label={`Edit team ${t.name}`}>
                      Edit
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </div>
      )}
      {editing !== null && <TeamModal team={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
    </>
  );
}

function TeamModal({ team, onClose }: { team: Team | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const datastores = useQuery({
    queryKey: ["datastores", { size: 1000 }],
    queryFn: () => unwrap<Page<Datastore>>(api.GET("/api/datastores", { params: { query: { size: 1000 } } })),
  });
  const users = useQuery({
    queryKey: ["users", { size: 1000 }],
    queryFn: () => unwrap<Page<AppUser>>(api.GET("/api/users", { params: { query: { size: 1000 } } })),
  });
  const [name, setName] = useState(team?.name ?? "");
  const [description, setDescription] = useState(team?.description ?? "");
  const [permission, setPermission] = useState(team?.permission ?? "Viewer");
  const [datastoreIds, setDatastoreIds] = useState<string[]>((team?.datastores ?? []).map((d) => String(d.id)));
  const [userIds, setUserIds] = useState<string[]>((team?.members ?? []).map((m) => String(m.id)));
  const [submitted, setSubmitted] = useState(false);
  const errors: Record<string, string> = {};
  if (!name.trim()) errors.name = "Give the team a name";
  const save = useMutation({
    mutationFn: () => {
      const body = {
        name: name.trim(),
        description: description.trim() || null,
        permission: permission as "Viewer",
        datastore_ids: datastoreIds.map(Number),
        ...(team?.is_public ? {} : { user_ids: userIds.map(Number) }),
      };
      if (team === null) return unwrap<Team>(api.POST("/api/teams", { body }));
      return unwrap<Team>(api.PUT("/api/teams/{team_id}", { params: { path: { team_id: team.id } }, body }));
    },
    onSuccess: (saved) => {
      queryClient.invalidateQueries({ queryKey: ["teams"] });
      queryClient.invalidateQueries({ queryKey: ["users"] });
      queryClient.invalidateQueries({ queryKey: ["me"] });
      notifications.show({ color: "green", message: `Team ${saved.name} saved (${saved.permission})` });
      onClose();
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/teams/{team_id}", { params: { path: { team_id: team!.id } } })),
    onSuccess: () => {
      queryClient.invalidateQueries({ queryKey: ["teams"] });
      notifications.show({ message: `Team ${team!.name} deleted` });
      onClose();
    },
  });
  const shown = submitted ? errors : {};
  return (
    <Modal opened onClose={onClose} title={team ? `Edit team ${team.name}` : "New team"} size="lg">
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setSubmitted(true);
          if (Object.keys(errors).length === 0) save.mutate();
        }}
      >
        <Stack>
          <TextInput label="Name" required value={name} disabled={team?.is_public} onChange={(e) => setName(e.currentTarget.value)} error={shown.name} />
          <Textarea label="Description" autosize value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
          <Select
            label="Permission on its datastores"
            required
            allowDeselect={false}
            description={`Members ${PERMISSION_HELP[permission] ?? ""}`}
            data={[...PERMISSIONS]}
            value={permission}
            onChange={(v) => v && setPermission(v)}
          />
          <MultiSelect
            label="Datastores"
            placeholder="No datastore"
            searchable
            data={(datastores.data?.items ?? []).map((d) => ({ value: String(d.id), label: d.name }))}
            value={datastoreIds}
            onChange={setDatastoreIds}
          />
          {team?.is_public ? (
            <Text size="sm">Every user is a member of the public team.</Text>
          ) : (
            <MultiSelect
              label="Members"
              placeholder="No member"
              searchable
              data={(users.data?.items ?? []).map((u) => ({ value: String(u.id), label: `${u.name} (${u.email})` }))}
              value={userIds}
              onChange={setUserIds}
            />
          )}
          <ErrorAlert error={save.error ?? remove.error} />
          <Group justify="space-between">
            <Button type="submit" loading={save.isPending}>
              {team ? "Save team" : "Create team"}
            </Button>
            {team && !team.is_public && (
              <Button color="red.9" variant="outline" loading={remove.isPending} onClick={() => window.confirm(`Delete team ${team.name}?`) && remove.mutate()}>
                Delete team
              </Button>
            )}
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
