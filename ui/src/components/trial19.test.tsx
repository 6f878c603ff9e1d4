// Regressions of the browser trial of issue 19: double submits, long names, server validation
// errors on their fields, bounds shown instead of silently clamped, consistent summaries.
import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Middleware } from "openapi-fetch";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError, api, errorMessage, fieldErrorsOf, formErrors } from "../api/client";
import type { FieldProfile, RuleSpec } from "../api/types";
import { DatastoreFormPage, connectionTestFailure, datastoreErrorKey } from "../pages/DatastoreForm";
import { expiresInDaysError } from "../pages/Tokens";
import { checkErrorKey, emptyCheckForm, keptFields, validateCheckForm } from "./checkForm";
import { histogramBars, quantileRows } from "./FieldProfileView";
import { operationSummary } from "./operationData";
import { RunOperationButtons } from "./RunOperation";

type Call = { method: string; url: string; query: string; body: unknown };

/** Answers the client's requests in the test (no server): `reply` gives status and body. */
function answering(calls: Call[], reply: (c: Call) => Promise<[number, unknown]> | [number, unknown]): Middleware {
  return {
    async onRequest({ request }) {
      const url = new URL(request.url);
      const text = request.method === "GET" ? "" : await request.clone().text();
      const call = { method: request.method, url: url.pathname, query: url.search, body: text ? JSON.parse(text) : null };
      calls.push(call);
      const [status, body] = await reply(call);
      return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
    },
  };
}

let installed: Middleware | null = null;
function install(m: Middleware) {
  installed = m;
  api.use(m);
}
afterEach(() => {
  cleanup();
  if (installed) api.eject(installed);
  installed = null;
});

function wrap(ui: ReactNode, path = "/") {
  const client = new QueryClient({ defaultOptions: { mutations: { retry: false }, queries: { retry: false } } });
  return render(
    <MantineProvider>
      <QueryClientProvider client={client}>
        <MemoryRouter initialEntries={[path]}>{ui}</MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>,
  );
}

describe("operation buttons", () => {
  it("start one operation on a double click and are all disabled while it starts", async () => {
    const calls: Call[] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    install(
      answering(calls, async () => {
        await held;
        return [200, { id: 5, type: "scan" }];
      }),
    );
    wrap(
      <Routes>
        <Route path="/" element={<RunOperationButtons datastoreId={3} />} />
        <Route path="/operations/:id" element={<p>operation page</p>} />
      </Routes>,
    );
    const scan = screen.getByRole("button", { name: "Scan" });
    // two clicks in the same task, before React renders the pending state
    fireEvent.click(scan);
    fireEvent.click(scan);
    await waitFor(() => expect(screen.getByRole("button", { name: "Sync" })).toBeDisabled());
    expect(screen.getByRole("button", { name: "Profile" })).toBeDisabled();
    fireEvent.click(screen.getByRole("button", { name: "Profile" }));
    release();
    await screen.findByText("operation page");
    expect(calls.map((c) => [c.method, c.url, (c.body as { type: string }).type])).toEqual([
      ["POST", "/api/operations/run", "scan"],
    ]);
  });
});

describe("server validation errors", () => {
  const body = {
    detail: [
      { loc: ["body", "properties", "pattern"], msg: "properties.pattern: Value error, not a regular expression: missing )", type: "value_error" },
      { loc: ["body", "fields", 0], msg: "Value error, no field 'x' in flights", type: "value_error" },
      { loc: ["body", "owner_id"], msg: "no user 99", type: "value_error" },
    ],
  };

  it("give each message once, without its place repeated", () => {
    expect(fieldErrorsOf(body)).toEqual([
      { path: "properties.pattern", message: "not a regular expression: missing )" },
      { path: "fields", message: "no field 'x' in flights" },
      { path: "owner_id", message: "no user 99" },
    ]);
    expect(errorMessage(body, 422)).toBe(
      "properties.pattern: not a regular expression: missing ); fields: no field 'x' in flights; owner_id: no user 99",
    );
  });

  it("go to the check form's inputs, the rest to its alert", () => {
    const spec = { rule: "matchesPattern", properties: [{ field: "pattern" }] } as unknown as RuleSpec;
    const error = new ApiError(422, errorMessage(body, 422), fieldErrorsOf(body));
    const split = formErrors(error, (p) => checkErrorKey(spec, p));
    expect(split.fields).toEqual({ "properties.pattern": "not a regular expression: missing )", fields: "no field 'x' in flights" });
    expect((split.rest as Error).message).toBe("owner_id: no user 99");
    expect(checkErrorKey(spec, "container_id")).toBe("container");
    expect(checkErrorKey(spec, "properties.other")).toBeNull();
    expect(datastoreErrorKey("connection.host")).toBe("host");
    expect(datastoreErrorKey("name")).toBe("name");
    expect(datastoreErrorKey("connection")).toBeNull();
  });

  it("a failed connection test offers to save the datastore without testing", async () => {
    const calls: Call[] = [];
    const failure = {
      detail: [
        {
          loc: ["body", "connection"],
          msg: "connection test failed: could not connect to server: Connection refused (fix the datastore's settings, or add ?test_connection=false to save it without testing)",
          type: "value_error",
        },
      ],
    };
    install(
      answering(calls, (c) => {
        if (c.url === "/api/users/me") return [200, { id: 1, name: "admin", email: "a@x", role: "Admin", teams: [], permissions: {} }];
        if (c.method === "GET") return [200, { items: [], total: 0, page: 1, size: 1000 }];
        if (c.query.includes("test_connection=false")) return [200, { id: 9, name: "dw" }];
        return [422, failure];
      }),
    );
    wrap(
      <Routes>
        <Route path="/datastores/new" element={<DatastoreFormPage />} />
        <Route path="/datastores/:id" element={<p>datastore page</p>} />
      </Routes>,
      "/datastores/new",
    );
    fireEvent.change(await screen.findByLabelText(/^Name/), { target: { value: "dw" } });
    fireEvent.change(screen.getByLabelText(/^Database file/), { target: { value: "/data/dw.duckdb" } });
    await userEvent.click(screen.getByRole("button", { name: "Add datastore" }));
    const alert = (await screen.findByText("The connection test failed, nothing was saved")).closest("[role=alert]")!;
    expect(alert).toHaveTextContent("could not connect to server: Connection refused");
    expect(alert).not.toHaveTextContent("test_connection");
    expect(connectionTestFailure(new ApiError(422, "x", fieldErrorsOf(failure)))).toBe("could not connect to server: Connection refused");
    await userEvent.click(screen.getByRole("button", { name: "Save without testing" }));
    await screen.findByText("datastore page");
    expect(calls.filter((c) => c.method === "POST").map((c) => c.query)).toEqual(["", "?test_connection=false"]);
  });
});

describe("bounds are shown, not silently applied", () => {
  const maxLength = {
    rule: "maxLength",
    fields: "single",
    fields_type_filter: ["String"],
    properties: [{ field: "value", title: "Value", type: "number", required: true, values: null, description: null, minimum: 0, maximum: 2147483647 }],
  } as unknown as RuleSpec;

  it("a rule property's minimum, coverage at most 1, a token's 1–365 days", () => {
    const f = { ...emptyCheckForm, rule: "maxLength", fields: ["carrier"], properties: { value: -1 } };
    expect(validateCheckForm(maxLength, f)).toEqual({ "properties.value": "Value must be at least 0" });
    expect(validateCheckForm(maxLength, { ...f, properties: { value: 0 }, coverage: 5 })).toEqual({
      coverage: "Coverage is a share of rows: more than 0, at most 1",
    });
    expect(expiresInDaysError(0)).toBe("A token expires in 1 to 365 days (leave blank for never)");
    expect(expiresInDaysError(366)).toBe("A token expires in 1 to 365 days (leave blank for never)");
    expect(expiresInDaysError(30)).toBeUndefined();
    expect(expiresInDaysError("")).toBeUndefined();
  });

  it("a new rule type keeps only the chosen fields it accepts", () => {
    const fields = [
      { name: "carrier", type: "String" },
      { name: "dep_delay", type: "Fractional" },
    ];
    const between = { fields: "single", fields_type_filter: ["Integral", "Fractional"] } as unknown as RuleSpec;
    const notNull = { fields: "multi", fields_type_filter: [] } as unknown as RuleSpec;
    expect(keptFields(between, fields, ["carrier"])).toEqual([]);
    expect(keptFields(maxLength, fields, ["carrier"])).toEqual(["carrier"]);
    expect(keptFields(between, fields, ["carrier", "dep_delay"])).toEqual(["dep_delay"]);
    expect(keptFields(notNull, fields, ["carrier", "dep_delay"])).toEqual(["carrier", "dep_delay"]);
    expect(keptFields({ fields: "none" } as unknown as RuleSpec, fields, ["carrier"])).toEqual([]);
  });
});

describe("summaries and profiles", () => {
  it("an aborted scan's summary counts what its container table lists", () => {
    const scan = (records: number, anomalies: number) => ({ records_processed: records, anomaly_count: anomalies }) as never;
    const tiles = operationSummary({
      status: { total_containers: 3, containers_analyzed: 0, records_processed: 0, anomalies_identified: 0 },
      container_scans: [scan(3000, 30), scan(16, 6)],
    });
    expect(tiles).toEqual([
      ["Containers", 3],
      ["Analyzed", 2],
      ["Records processed", 3016],
      ["Anomalies identified", 36],
    ]);
  });

  it("an integer field's values are not digit-grouped, quantiles are approximate, bars in value order", () => {
    const year = {
      id: 1,
      name: "year",
      field_type: "Integral",
      completeness: 1,
      approximate_distinct_values: 1200,
      min: 2013,
      max: 2013,
      mean: 2013,
      median: 2013,
      q1: 2013,
      q3: 2013,
      std_dev: 0,
      histogram_buckets: [
        { value: "12", count: 5 },
        { value: "2", count: 9 },
        { value: "7", count: 1 },
      ],
    } as FieldProfile;
    expect(quantileRows(year)).toEqual([
      ["Minimum", "2013"],
      ["1st quartile (approx.)", "2013"],
      ["Median (approx.)", "2013"],
      ["3rd quartile (approx.)", "2013"],
      ["Maximum", "2013"],
      ["Mean", (2013).toLocaleString()],
      ["Standard deviation", "0"],
      ["Distinct values (approx.)", (1200).toLocaleString()],
    ]);
    expect(histogramBars(year).map((b) => b.value)).toEqual(["2", "7", "12"]);
  });
});
