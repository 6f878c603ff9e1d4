import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, getToken, unwrap } from "./api/client";
import type { User } from "./api/types";

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

export function useMe(enabled: boolean) {
  return useQuery({
    queryKey: ["me"],
    enabled,
    queryFn: () => unwrap<User>(api.GET("/api/users/me")),
    staleTime: 60_000,
  });
}

/** What the signed-in user may do. Admins and Managers change things; Members read. */
export function canEdit(user: User | undefined): boolean {
  return !!user && (user.role === "Admin" || user.role === "Manager");
}
