import { api, unwrap } from "../api/client";

export type AnomalyAction = "Acknowledged" | "Active" | "Resolved" | "Invalid" | "Discarded";

export const ACTION_LABELS: Record<AnomalyAction, string> = {
  Acknowledged: "Acknowledge",
  Active: "Reopen",
  Resolved: "Resolve",
  Invalid: "Mark invalid",
  Discarded: "Discard",
};

/** Set the status of anomalies: open statuses by bulk PATCH, archiving ones by bulk DELETE (archive). */
export async function setAnomalyStatus(ids: number[], status: AnomalyAction): Promise<void> {
  if (ids.length === 0) return;
  if (status === "Acknowledged" || status === "Active") {
    await unwrap(api.PATCH("/api/anomalies", { body: ids.map((id) => ({ id, status })) as never }));
  } else {
    await unwrap(api.DELETE("/api/anomalies", { body: ids.map((id) => ({ id, archive: true, status })) as never }));
  }
}
