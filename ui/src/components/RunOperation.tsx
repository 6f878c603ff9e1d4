import { Button, Group } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQueryClient } from "@tanstack/react-query";
import { useMutation } from "./mutation";
import { useNavigate } from "react-router-dom";
import { api, unwrap } from "../api/client";
import type { Operation } from "../api/types";

/** Sync / Profile / Scan buttons for a datastore: each starts an operation and opens it. */
export function RunOperationButtons({ datastoreId, disabled }: { datastoreId: number; disabled?: boolean }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const run = useMutation({
    mutationFn: (type: "sync" | "profile" | "scan") => {
      const body: Record<string, unknown> = { type, datastore_id: datastoreId };
      if (type === "scan") Object.assign(body, { incremental: false, container_names: [] });
      return unwrap<Operation>(api.POST("/api/operations/run", { body: body as never }));
    },
    onSuccess: (op) => {
      queryClient.invalidateQueries({ queryKey: ["operations"] });
      notifications.show({ message: `${op.type} started (operation ${op.id})` });
      navigate(`/operations/${op.id}`);
    },
    onError: (e) => notifications.show({ color: "red", title: "Could not start the operation", message: String(e.message) }),
  });
  return (
    <Group gap="xs">
      {(["sync", "profile", "scan"] as const).map((t) => (
        <Button
          key={t}
          variant={t === "scan" ? "filled" : "default"}
          onClick={() => run.mutate(t)}
          loading={run.isPending && run.variables === t}
          disabled={disabled || (run.isPending && run.variables !== t)}
        >
          {t === "sync" ? "Sync" : t === "profile" ? "Profile" : "Scan"}
        </Button>
      ))}
    </Group>
  );
}
