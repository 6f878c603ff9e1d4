import { CronExpressionParser } from "cron-parser";

/** The next `count` fire times (UTC) of a standard 5-field crontab after `from`, or an error
 * message. The server (croniter) is the authority; this is the preview the form shows. */
export function nextFireTimes(crontab: string, count = 3, from: Date = new Date()): Date[] | string {
  const fields = crontab.trim().split(/\s+/);
  if (fields.length !== 5 || fields[0] === "") return "A crontab has 5 fields: minute hour day-of-month month day-of-week";
  try {
    const it = CronExpressionParser.parse(fields.join(" "), { currentDate: from, tz: "UTC", strict: false });
    return it.take(count).map((d) => new Date(d.getTime()));
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export function formatUtc(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
