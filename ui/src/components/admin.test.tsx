import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Middleware } from "openapi-fetch";
import { afterEach, describe, expect, it } from "vitest";
import { api } from "../api/client";
import type { AppUser } from "../api/types";
import { objectLink } from "../pages/Activity";
import { ownerChoices } from "../pages/CheckForm";
import { FavoriteStar } from "./Favorite";
import { mergeDaily, trendText } from "./insightsData";

/** Answers the client's requests in the test (no server): records each, replies `status`. */
function answering(status: number, calls: { method: string; url: string; body: unknown }[]): Middleware {
  return {
    async onRequest({ request }) {
      calls.push({ method: request.method, url: new URL(request.url).pathname, body: await request.clone().json() });
      const body = status < 300 ? { id: 7, favorite: true } : { detail: "this requires the Reporter permission" };
      return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
    },
  };
}

let installed: Middleware | null = null;
afterEach(() => {
  cleanup();
  if (installed) api.eject(installed);
  installed = null;
});

function renderStar(value: boolean) {
  const client = new QueryClient({ defaultOptions: { mutations: { retry: false } } });
  return render(
    <MantineProvider>
      <QueryClientProvider client={client}>
        <FavoriteStar kind="datastore" id={7} value={value} name="flights" />
      </QueryClientProvider>
    </MantineProvider>,
  );
}

describe("favourite star", () => {
  it("is a labelled toggle that saves the new state through PATCH …/favorite", async () => {
    const calls: { method: string; url: string; body: unknown }[] = [];
    installed = answering(200, calls);
    api.use(installed);
    renderStar(false);
    const star = screen.getByRole("button", { name: "Favourite flights" });
    expect(star.getAttribute("aria-pressed")).toBe("false");
    await userEvent.click(star);
    expect(star.getAttribute("aria-pressed")).toBe("true");
    await waitFor(() => expect(calls).toEqual([{ method: "PATCH", url: "/api/datastores/7/favorite", body: { favorite: true } }]));
  });

  it("goes back to its saved state when the API refuses the change", async () => {
    const calls: { method: string; url: string; body: unknown }[] = [];
    installed = answering(403, calls);
    api.use(installed);
    renderStar(true);
    const star = screen.getByRole("button", { name: "Favourite flights" });
    await userEvent.click(star);
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0].body).toEqual({ favorite: false });
    await waitFor(() => expect(star.getAttribute("aria-pressed")).toBe("true"));
  });
});

describe("insights", () => {
  it("merges per-day series into chart rows by date, a missing day counting 0", () => {
    expect(
      mergeDaily({
        Passing: [
          { date: "2026-12-02", count: 3 },
          { date: "2026-12-01", count: 2 },
        ],
        Failing: [{ date: "2026-12-02T00:00:00", count: 1 }],
        Empty: undefined,
      }),
    ).toEqual([
      { date: "2026-12-01", Passing: 2, Failing: 0, Empty: 0 },
      { date: "2026-12-02", Passing: 3, Failing: 1, Empty: 0 },
    ]);
  });

  it("words trends", () => {
    expect([trendText(null), trendText(0), trendText(12.6), trendText(-3.44), trendText(250)]).toEqual([
      "no earlier data",
      "unchanged",
      "up 13%",
      "down 3.4%",
      "up 250%",
    ]);
  });
});

describe("check owner choices and activity links", () => {
  const user = (id: number, name: string, deleted_at: string | null = null): AppUser => ({
    id,
    name,
    email: `${name.toLowerCase()}@example.com`,
    role: "Member",
    user_type: "Person",
    deleted_at,
    last_login: null,
    teams: [],
  });

  it("offers active users to those who may list them, else the caller; the current owner always", () => {
    const me = { id: 1, name: "Admin", email: "admin@example.com" };
    expect(ownerChoices([user(1, "Admin"), user(2, "Ann"), user(3, "Gone", "2026-01-01")], me, null)).toEqual([
      { value: "1", label: "Admin (admin@example.com)" },
      { value: "2", label: "Ann (ann@example.com)" },
    ]);
    expect(ownerChoices(undefined, me, { id: 3, name: "Gone", email: null })).toEqual([
      { value: "1", label: "Admin (admin@example.com)" },
      { value: "3", label: "Gone" },
    ]);
  });

  it("links the activity log's objects that have a page", () => {
    expect([objectLink("quality_check", 4), objectLink("datastore", 2), objectLink("user_token", 9), objectLink("anomaly", null)]).toEqual([
      "/checks/4",
      "/datastores/2",
      null,
      null,
    ]);
  });
});
