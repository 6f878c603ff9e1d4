import { useQuery, type QueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, getToken, setToken, unwrap } from "./api/client";
import { PERMISSIONS, type Me, type Permission } from "./api/types";

/** The token in storage, re-read when it changes (sign-in, sign-out, a 401). */
export function useToken(): string | null {
  const [token, setTokenState] = useState(getToken());
  useEffect(() => {
    const update = () => setTokenState(getToken());
    window.addEventListener("assay-token", update);
    window.addEventListener("storage", update);
    return () => {
      window.removeEventListener("assay-token", update);
      window.removeEventListener("storage", update);
    };
  }, []);
  return token;
}

export function useMe(enabled = true) {
  return useQuery({
    queryKey: ["me"],
    enabled,
    queryFn: () => unwrap<Me>(api.GET("/api/users/me")),
    staleTime: 60_000,
  });
}

const ROLES = ["Member", "Manager", "Admin"] as const;
export type Role = (typeof ROLES)[number];

/** `user` has at least platform role `role` (Member < Manager < Admin). */
export function hasRole(user: Me | undefined, role: Role): boolean {
  return !!user && ROLES.indexOf(user.role as Role) >= ROLES.indexOf(role);
}

/** `user` holds at least `needed` on datastore `datastoreId` through a team (Admins hold everything).
 * This mirrors the API's policy (docs/permissions.md), so pages hide what the API would refuse. */
export function hasPermission(user: Me | undefined, datastoreId: number | null | undefined, needed: Permission): boolean {
  if (!user) return false;
  if (user.is_admin) return true;
  if (datastoreId === null || datastoreId === undefined) return false;
  const held = user.permissions.find((p) => p.datastore_id === datastoreId)?.permission;
  return held !== undefined && PERMISSIONS.indexOf(held) >= PERMISSIONS.indexOf(needed);
}

/** What the signed-in user may do on datastore `datastoreId` (undefined while /users/me loads: nothing). */
export function useCan(datastoreId: number | null | undefined) {
  const me = useMe().data;
  return {
    me,
    /** edit the datastore, run operations, triage anomalies, manage schedules */
    edit: hasPermission(me, datastoreId, "Editor"),
    /** create, activate and archive checks */
    author: hasPermission(me, datastoreId, "Author"),
    /** draft checks and dry run them */
    draft: hasPermission(me, datastoreId, "Drafter"),
    /** read source records, comment */
    view: hasPermission(me, datastoreId, "Viewer"),
    /** add datastores */
    manage: hasRole(me, "Manager"),
  };
}

/** `user` holds at least `needed` on some datastore (Admins: always): whether to offer an action
 * whose datastore is chosen later (a new check, a schedule, bulk triage). */
export function hasPermissionSomewhere(user: Me | undefined, needed: Permission): boolean {
  if (!user) return false;
  return user.is_admin || user.permissions.some((p) => PERMISSIONS.indexOf(p.permission) >= PERMISSIONS.indexOf(needed));
}

/** Sign out: the API revokes the session token this browser holds (POST /api/auth/sign-out;
 * an API token pasted on the sign-in page stays valid), then the browser forgets it. The
 * token is forgotten even when the API cannot be reached. */
export async function signOut(queryClient: QueryClient): Promise<void> {
  try {
    await api.POST("/api/auth/sign-out");
  } catch {
    // offline: forgetting the token is all that can be done
  }
  setToken(null);
  queryClient.clear();
}
