import { Button, Card, Group, MultiSelect, Paper, Stack, Text, Textarea, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMutation } from "./mutation";
import { useState } from "react";
import { api, unwrap } from "../api/client";
import { hasRole, useMe } from "../auth";
import type { Anomaly, Comment, Page, User } from "../api/types";
import { formatTime } from "../lib";
import { ErrorAlert } from "./common";

/** A user's label in pickers and comments: the name, else the email, else "user N". */
export function userLabel(u: { id: number; name?: string | null; email?: string | null }): string {
  return u.name || u.email || `user ${u.id}`;
}

/** Assignees and description of an anomaly, saved together with PUT /api/anomalies/{id}. */
export function AnomalyTriage({ anomaly, canChange }: { anomaly: Anomaly; canChange: boolean }) {
  const queryClient = useQueryClient();
  const [assignees, setAssignees] = useState<string[]>(anomaly.assignee_ids.map(String));
  const [description, setDescription] = useState(anomaly.description ?? "");
  // only Managers and Admins may list users: a Member picks among the current assignees
  const me = useMe().data;
  const users = useQuery({
    queryKey: ["users", { size: 1000 }],
    enabled: hasRole(me, "Manager"),
    queryFn: () => unwrap<Page<User>>(api.GET("/api/users", { params: { query: { size: 1000 } } })),
  });
  // the assignees are choices even when the user list is not readable
  const options = new Map<string, string>();
  for (const u of anomaly.assignees) options.set(String(u.id), userLabel(u));
  for (const u of users.data?.items ?? []) options.set(String(u.id), userLabel(u));
  const save = useMutation({
    mutationFn: () =>
      unwrap<Anomaly>(
        api.PUT("/api/anomalies/{anomaly_id}", {
          params: { path: { anomaly_id: anomaly.id } },
          body: { description: description.trim(), assignee_ids: assignees.map(Number) } as never,
        }),
      ),
    onSuccess: (a) => {
      queryClient.setQueryData(["anomaly", anomaly.id], a);
      queryClient.invalidateQueries({ queryKey: ["anomalies"] });
      notifications.show({ color: "green", message: `Anomaly ${a.id} saved` });
    },
  });
  const changed =
    description.trim() !== (anomaly.description ?? "") ||
    [...assignees].sort().join() !== anomaly.assignee_ids.map(String).sort().join();
  return (
    <Card withBorder component="section" aria-labelledby="triage-title">
      <Title order={2} size="h4" mb="xs" id="triage-title">
        Triage
      </Title>
      <Stack gap="sm">
        <MultiSelect
          label="Assignees"
          placeholder={assignees.length ? undefined : "Nobody"}
          data={[...options].map(([value, label]) => ({ value, label }))}
          value={assignees}
          onChange={setAssignees}
          searchable
          clearable
          disabled={!canChange}
        />
        <Textarea
          label="Description"
          description="Your team's notes on this anomaly (the scan's message stays as found)"
          autosize
          minRows={2}
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
          disabled={!canChange}
        />
        <ErrorAlert error={save.error} />
        {canChange && (
          <Group>
            <Button onClick={() => save.mutate()} loading={save.isPending} disabled={!changed}>
              Save triage
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}

/** The comments of an anomaly, oldest first; anyone who can read it may comment, authors delete their own. */
export function AnomalyComments({
  anomaly,
  meId,
  canComment,
}: {
  anomaly: Anomaly;
  meId: number | undefined;
  canComment: boolean;
}) {
  const queryClient = useQueryClient();
  const [message, setMessage] = useState("");
  const refresh = () => {
    queryClient.invalidateQueries({ queryKey: ["anomaly", anomaly.id] });
  };
  const add = useMutation({
    mutationFn: () =>
      unwrap<Comment>(api.POST("/api/comments", { body: { anomaly_id: anomaly.id, message: message.trim() } as never })),
    onSuccess: () => {
      setMessage("");
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE("/api/comments/{comment_id}", { params: { path: { comment_id: id } } })),
    onSuccess: refresh,
  });
  return (
    <Card withBorder component="section" aria-labelledby="comments-title">
      <Title order={2} size="h4" mb="xs" id="comments-title">
        Comments ({anomaly.comments.length})
      </Title>
      <Stack gap="xs">
        {anomaly.comments.length === 0 && (
          <Text size="sm" c="dimmed">
            No comments yet.
          </Text>
        )}
        {anomaly.comments.map((c) => (
          <Paper key={c.id} withBorder p="xs" radius="sm" role="article" aria-label={`Comment by ${c.user ? userLabel(c.user) : "a deleted user"}`}>
            <Group justify="space-between" gap="xs" wrap="nowrap">
              <Text size="xs" c="dimmed">
                {c.user ? userLabel(c.user) : "a deleted user"} · {formatTime(c.created)}
              </Text>
              {c.user && c.user.id === meId && (
                <Button
                  variant="subtle"
                  size="compact-xs"
                  color="red"
                  c="red.9"
                  onClick={() => remove.mutate(c.id)}
                  loading={remove.isPending && remove.variables === c.id}
                  disabled={remove.isPending}
                  aria-label={`Delete comment ${c.id}`}
                >
                  Delete
                </Button>
              )}
            </Group>
            <Text size="sm" style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
              {c.message}
            </Text>
          </Paper>
        ))}
        {canComment && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (message.trim()) add.mutate();
          }}
        >
          <Stack gap="xs">
            <Textarea label="New comment" autosize minRows={2} value={message} onChange={(e) => setMessage(e.currentTarget.value)} />
            <ErrorAlert error={add.error ?? remove.error} />
            <Group>
              <Button type="submit" variant="default" loading={add.isPending} disabled={!message.trim()}>
                Add comment
              </Button>
            </Group>
          </Stack>
        </form>
        )}
      </Stack>
    </Card>
  );
}
