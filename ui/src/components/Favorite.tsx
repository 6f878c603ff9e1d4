import { ActionIcon, Tooltip } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, unwrap } from "../api/client";

export type FavoriteKind = "datastore" | "container" | "check";

/** PATCH …/{id}/favorite of a datastore, container or check; the saved object. */
export function saveFavorite(kind: FavoriteKind, id: number, favorite: boolean) {
  const body = { favorite };
  if (kind === "datastore")
    return unwrap(api.PATCH("/api/datastores/{datastore_id}/favorite", { params: { path: { datastore_id: id } }, body }));
  if (kind === "container")
    return unwrap(api.PATCH("/api/containers/{container_id}/favorite", { params: { path: { container_id: id } }, body }));
  return unwrap(api.PATCH("/api/quality-checks/{check_id}/favorite", { params: { path: { check_id: id } }, body }));
}

const QUERY_KEYS: Record<FavoriteKind, string[]> = {
  datastore: ["datastore", "datastores"],
  container: ["container", "containers"],
  check: ["check", "checks"],
};

/** A star toggling whether a datastore, container or check is the signed-in user's favourite
 * (stars are per user: another user's are neither changed nor shown). A toggle button:
 * `aria-pressed` says its state; the change shows at once and is undone if the API refuses it. */
export function FavoriteStar({
  kind,
  id,
  value,
  name,
  disabled = false,
  size = "lg",
}: {
  kind: FavoriteKind;
  id: number;
  value: boolean | undefined;
  name: string;
  disabled?: boolean;
  size?: "sm" | "md" | "lg";
}) {
  const queryClient = useQueryClient();
  const [on, setOn] = useState(!!value);
  useEffect(() => setOn(!!value), [value]);
  const save = useMutation({
    mutationFn: (favorite: boolean) => saveFavorite(kind, id, favorite),
    onMutate: (favorite) => setOn(favorite),
    onError: () => setOn(!!value),
    onSettled: () => QUERY_KEYS[kind].forEach((k) => queryClient.invalidateQueries({ queryKey: [k] })),
  });
  const label = `Favourite ${name}`;
  return (
    <Tooltip label={on ? "Your favourite (only you see your stars): click to remove it" : "Mark as your favourite"} withArrow>
      <ActionIcon
        variant={on ? "light" : "subtle"}
        color={on ? "yellow.9" : "gray.8"}
        size={size}
        aria-label={label}
        aria-pressed={on}
        disabled={disabled}
        onClick={() => !save.isPending && save.mutate(!on)}
      >
        <span aria-hidden="true" style={{ fontSize: size === "lg" ? 20 : 16, lineHeight: 1 }}>
          {on ? "★" : "☆"}
        </span>
      </ActionIcon>
    </Tooltip>
  );
}
