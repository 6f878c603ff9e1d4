import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router-dom";

/** Query-string state: filters and paging live in the URL, so a view can be shared. */
export function useQueryState<K extends string>(keys: readonly K[]) {
  const [params, setParams] = useSearchParams();
  const values = useMemo(() => {
    const out = {} as Record<K, string | null>;
    for (const k of keys) out[k] = params.get(k);
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [params, keys.join(",")]);
  const set = useCallback(
    (changes: Partial<Record<K | "page", string | number | null | undefined>>) => {
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          for (const [k, v] of Object.entries(changes)) {
            if (v === null || v === undefined || v === "") next.delete(k);
            else next.set(k, String(v));
          }
          if (!("page" in changes)) next.delete("page"); // a new filter starts on page 1
          return next;
        },
        { replace: false },
      );
    },
    [setParams],
  );
  return [values, set] as const;
}

/** Only the filters that are set, as API query parameters (numbers where the API wants numbers). */
export function definedParams(values: Record<string, string | null>, numeric: string[] = []) {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === "") continue;
    out[k] = numeric.includes(k) ? Number(v) : v;
  }
  return out;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

/** "3 min ago" style, for last scans and triggers. */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "never";
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, "second");
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  return rtf.format(Math.round(seconds / 86400), "day");
}

export function formatNumber(value: unknown, digits = 2): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "number") {
    return Number.isInteger(value)
      ? value.toLocaleString()
      : value.toLocaleString(undefined, { maximumFractionDigits: digits });
  }
  return String(value);
}

/** A value of a field as shown in profiles: an integer field's own values without digit
 * grouping (a year reads 2013, an id 100234), other numbers as formatNumber does. */
export function formatFieldValue(value: unknown, fieldType: string | null | undefined): string {
  if (fieldType === "Integral" && typeof value === "number" && Number.isInteger(value)) return String(value);
  return formatNumber(value);
}

export function duration(start: string | null, end: string | null, now: number = Date.now()): string {
  if (!start) return "—";
  const ms = (end ? new Date(end).getTime() : now) - new Date(start).getTime();
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
