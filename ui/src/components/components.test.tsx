import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import type { FieldProfile, RuleSpec } from "../api/types";
import { CheckFields } from "./CheckFields";
import { checkBody, emptyCheckForm, validateCheckForm, type CheckFormState } from "./checkForm";
import { nextFireTimes } from "./cron";
import { FieldProfileView, percent, quantileRows } from "./FieldProfileView";
import { anomaliesByDay, checkOutcomes } from "./overviewData";

const between: RuleSpec = {
  rule: "between",
  rule_description: "Asserts that values are equal to or between two numbers.",
  deprecated: false,
  author: true,
  fields: "single",
  fields_type_filter: ["Integral", "Fractional"],
  filterable: true,
  supports_coverage: true,
  properties: [
    { field: "min", title: "Min", type: "number", required: true, values: null, description: null },
    { field: "max", title: "Max", type: "number", required: true, values: null, description: null },
    { field: "inclusive_min", title: "Inclusive min", type: "boolean", required: false, values: null, description: null },
  ],
};
const expectedValues: RuleSpec = {
  ...between,
  rule: "expectedValues",
  rule_description: "Asserts that values are contained within a list of expected values.",
  fields_type_filter: [],
  properties: [{ field: "list", title: "List", type: "list", required: true, values: null, description: null }],
};

describe("check form (generated from the rule specification)", () => {
  it("validates as the API does", () => {
    const f: CheckFormState = { ...emptyCheckForm, rule: "between" };
    expect(validateCheckForm(undefined, f)).toEqual({ rule: "Choose a rule type" });
    expect(validateCheckForm(between, f)).toEqual({
      fields: "Choose one field",
      "properties.min": "Min is required",
      "properties.max": "Max is required",
    });
    const g = { ...f, fields: ["dep_delay"], properties: { min: 10, max: 5 }, coverage: 1.5 };
    expect(validateCheckForm(between, g)).toEqual({
      "properties.max": "Max must not be less than min",
      coverage: "Coverage is a share of rows: more than 0, at most 1",
    });
  });

  it("builds the request body without blank optional properties", () => {
    const f: CheckFormState = {
      ...emptyCheckForm,
      rule: "between",
      fields: ["dep_delay"],
      properties: { min: -10, max: 120, inclusive_min: null },
      filter: " origin = 'JFK' ",
      tags: ["ops"],
    };
    expect(checkBody(between, f)).toEqual({
      rule: "between",
      fields: ["dep_delay"],
      properties: { min: -10, max: 120 },
      description: null,
      tags: ["ops"],
      filter: "origin = 'JFK'",
    });
  });

  it("renders one control per property and offers only fields of the rule's types", async () => {
    function Harness() {
      const [value, setValue] = useState<CheckFormState>({ ...emptyCheckForm, rule: "between" });
      return (
        <CheckFields
          specs={[between, expectedValues]}
          fields={[
            { id: 1, name: "dep_delay", type: "Fractional" },
            { id: 2, name: "carrier", type: "String" },
          ]}
          datastoreId={1}
          value={value}
          errors={validateCheckForm(between, value)}
          onChange={setValue}
        />
      );
    }
    render(
      <MantineProvider>
        <QueryClientProvider client={new QueryClient()}>
          <Harness />
        </QueryClientProvider>
      </MantineProvider>,
    );
    expect(screen.getByText("Asserts that values are equal to or between two numbers.")).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Min" })).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Max" })).toBeInTheDocument();
    expect(screen.getByRole("checkbox", { name: "Inclusive min" })).toBeInTheDocument();
    expect(screen.getByText("Min is required")).toBeInTheDocument();
    await userEvent.type(screen.getByRole("textbox", { name: "Min" }), "5");
    expect(screen.queryByText("Min is required")).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole("textbox", { name: "Field" }));
    const options = screen.getAllByRole("option", { hidden: true }).map((o) => o.textContent);
    expect(options).toContain("dep_delay (Fractional)");
    expect(options).not.toContain("carrier (String)"); // text: not a field for between
  });
});

describe("field profile", () => {
  const profile: FieldProfile = {
    id: 1,
    name: "origin",
    field_type: "String",
    completeness: 0.99267,
    approximate_distinct_values: 3,
    min: null,
    max: null,
    mean: null,
    median: null,
    q1: null,
    q3: null,
    std_dev: null,
    min_length: 3,
    max_length: 3,
    histogram_buckets: [
      { value: "EWR", count: 1200 },
      { value: "JFK", count: 1000 },
      { value: "LGA", count: 800 },
    ],
  };

  it("formats completeness and lists only known quantiles", () => {
    expect(percent(0.99267)).toBe("99.3%");
    expect(percent(1)).toBe("100.0%");
    expect(percent(null)).toBe("—");
    expect(quantileRows(profile)).toEqual([
      ["Distinct values (approx.)", "3"],
      ["Shortest text", "3"],
      ["Longest text", "3"],
    ]);
  });

  it("renders the completeness and the quantile table", () => {
    render(
      <MantineProvider>
        <FieldProfileView profile={profile} />
      </MantineProvider>,
    );
    expect(screen.getByRole("region", { name: "Profile of origin" })).toBeInTheDocument();
    expect(screen.getAllByText("99.3%").length).toBeGreaterThan(0);
    const table = screen.getByRole("table", { name: "Quantiles" });
    expect(table.querySelectorAll("tr")).toHaveLength(3);
    // the chart is hidden from screen readers; its numbers are read from a list instead
    const list = screen.getByRole("list", { name: "Histogram of origin" });
    expect(Array.from(list.querySelectorAll("li")).map((li) => li.textContent)).toEqual([
      "EWR: 1200 rows",
      "JFK: 1000 rows",
      "LGA: 800 rows",
    ]);
  });
});

describe("schedules and overview", () => {
  it("previews the next fire times of a crontab in UTC", () => {
    const from = new Date("2026-12-06T03:00:00Z");
    const next = nextFireTimes("30 2 * * *", 3, from);
    expect(Array.isArray(next) && next.map((d) => d.toISOString())).toEqual([
      "2026-12-07T02:30:00.000Z",
      "2026-12-08T02:30:00.000Z",
      "2026-12-09T02:30:00.000Z",
    ]);
    expect(nextFireTimes("30 2 * *")).toBe("A crontab has 5 fields: minute hour day-of-month month day-of-week");
    expect(typeof nextFireTimes("99 2 * * *")).toBe("string");
  });

  it("counts anomalies per day and datastore, and checks by outcome", () => {
    const ds = (name: string) => ({ id: 1, name, type: "duckdb" });
    const { rows, series } = anomaliesByDay(
      [
        { created: "2026-12-06T01:00:00Z", datastore: ds("a") },
        { created: "2026-12-06T02:00:00Z", datastore: ds("b") },
        { created: "2026-12-04T02:00:00Z", datastore: ds("a") },
        { created: "2026-11-01T02:00:00Z", datastore: ds("a") }, // outside the window
      ],
      3,
      new Date("2026-12-06T12:00:00Z"),
    );
    expect(series).toEqual(["a", "b"]);
    expect(rows).toEqual([
      { day: "2026-12-04", a: 1, b: 0 },
      { day: "2026-12-05", a: 0, b: 0 },
      { day: "2026-12-06", a: 1, b: 1 },
    ]);
    expect(checkOutcomes([{ is_passing: true }, { is_passing: false }, { is_passing: null }, { is_passing: true }])).toEqual({
      passing: 2,
      failing: 1,
      notRun: 1,
    });
  });
});
