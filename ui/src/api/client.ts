// The one way the UI talks to Assay: a typed client over the public /api, generated from
// /api/openapi.json (src/api/schema.d.ts, `npm run gen:api`).
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

const TOKEN_KEY = "assay.token";

/** The API token the user signed in with (localStorage, so it survives a reload). */
export function getToken(): string | null {
  return window.localStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) window.localStorage.setItem(TOKEN_KEY, token);
  else window.localStorage.removeItem(TOKEN_KEY);
  window.dispatchEvent(new Event("assay-token"));
}

/** One offending input of a 422: where (`properties.pattern`, `connection.host`, `fields`: the
 * body's keys joined by dots, list indices dropped) and the message, without the place repeated. */
export interface FieldError {
  path: string;
  message: string;
}

/** An error answer of the API, with the message its body gives (and, for a 422, each field's). */
export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public fieldErrors: FieldError[] = [],
  ) {
    super(message);
  }
}

/** The message of a 422 entry without what only repeats the place ("properties.pattern: ") or
 * Pydantic's "Value error, " prefix. */
function cleanMessage(path: string, msg: string): string {
  const last = path.split(".").pop() ?? "";
  let out = msg.trim();
  for (;;) {
    const before = out;
    for (const prefix of [`${path}: `, last ? `${last}: ` : "", "Value error, ", "Assertion failed, "]) {
      if (prefix && out.startsWith(prefix)) out = out.slice(prefix.length).trimStart();
    }
    if (out === before) return out;
  }
}

/** The field errors of a FastAPI-shaped 422 body (`detail: [{loc, msg}]`); [] for any other body. */
export function fieldErrorsOf(body: unknown): FieldError[] {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  if (!Array.isArray(detail)) return [];
  return detail.map((d: { loc?: unknown[]; msg?: string }) => {
    const loc = (d.loc ?? []).slice();
    if (["body", "query", "path"].includes(String(loc[0]))) loc.shift();
    const path = loc.filter((p) => typeof p !== "number").join(".");
    return { path, message: cleanMessage(path, String(d.msg ?? "")) };
  });
}

/** The readable message of an error body: FastAPI's `detail` (a string or a list of field errors). */
export function errorMessage(body: unknown, status: number): string {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return fieldErrorsOf(body)
      .map((e) => (e.path ? `${e.path}: ${e.message}` : e.message))
      .join("; ");
  }
  if (body && typeof body === "object" && "message" in body) return String((body as { message: unknown }).message);
  return `request failed with status ${status}`;
}

/** An API error split for a form: the messages of the inputs the form shows (keyed by the form's
 * own error keys, via `keyOf`, which answers null for an input the form does not show) and the
 * rest as one error for the form's alert (null when every message found its field). */
export function formErrors(
  error: unknown,
  keyOf: (path: string) => string | null,
): { fields: Record<string, string>; rest: unknown } {
  if (!(error instanceof ApiError) || error.fieldErrors.length === 0) return { fields: {}, rest: error ?? null };
  const fields: Record<string, string> = {};
  const left: FieldError[] = [];
  for (const e of error.fieldErrors) {
    const key = keyOf(e.path);
    if (key !== null && !(key in fields)) fields[key] = e.message;
    else if (key === null) left.push(e);
  }
  const rest = left.length
    ? new ApiError(error.status, left.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join("; "), left)
    : null;
  return { fields, rest };
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401 && getToken()) setToken(null); // expired or revoked: sign in again
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

/** The data of an openapi-fetch result, or an ApiError with the API's message. */
export async function unwrap<T = unknown>(
  call: Promise<{ data?: unknown; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, errorMessage(error, response.status), fieldErrorsOf(error));
  return data as T;
}
