import { POINT_IN_TIME_RECOVERY_DAYS } from '../definitions';
import type { Settings } from '../settings';

/**
 * What a purge cannot reach, and for how long it lives on: a purge that says `complete: true`
 * says so in the same answer (README, "Erasure: what a purge guarantees").
 */
export interface RetentionWindows {
  /** A table's point-in-time recovery: a deleted item can be restored this many days after. */
  readonly pointInTimeRecoveryDays: number;
  /** Server access logs of the raw-data bucket. */
  readonly accessLogDays: number;
  /** CloudWatch log groups of the functions and of the API. */
  readonly logRetentionDays: number;
  /** Pipeline queues and their dead-letter queues. */
  readonly queueRetentionDays: number;
}

export const retentionWindows = (settings: Settings): RetentionWindows => ({
  pointInTimeRecoveryDays: POINT_IN_TIME_RECOVERY_DAYS,
  accessLogDays: settings.retention.accessLogDays,
  logRetentionDays: settings.retention.logRetentionDays,
  queueRetentionDays: settings.pipeline.queueRetentionDays,
});

export interface Remaining {
  /** What is left, where, and what of the customer it holds. */
  readonly what: string;
  /** When it is gone at the latest (ISO); absent for what is kept as the record of the connection. */
  readonly until?: string;
}

const DAY_MS = 86_400_000;
/** CloudWatch Logs deletes events "typically up to 72 hours" after their retention ends. */
const LOG_DELETION_LAG_MS = 3 * DAY_MS;
/** S3 delivers server access logs within hours (best effort): a day is allowed for it. */
const ACCESS_LOG_DELIVERY_MS = DAY_MS;
/** S3 lifecycle expires an object at the midnight UTC after its days have passed. */
const nextMidnightUtc = (ms: number) => Math.ceil(ms / DAY_MS) * DAY_MS;

/**
 * Copies of the customer's data, or of their ids, that outlive a purge finished at `now`
 * (epoch ms): none can be removed through an API, and each ends at the date given.
 */
export function remainsAfterPurge(windows: RetentionWindows, now: number): Remaining[] {
  const at = (ms: number) => new Date(ms).toISOString();
  const recovery = at(now + windows.pointInTimeRecoveryDays * DAY_MS);
  return [
    { what: "the customer's deleted records, in the records table's point-in-time recovery (a restore of the table to an earlier time brings them back)", until: recovery },
    { what: "earlier versions of the customer's control-table items (ids, statuses, counts; no imported data), in the control table's point-in-time recovery", until: recovery },
    {
      what: "the raw-data bucket's server access logs, whose lines name the customer's object keys (customer and query ids; no file contents)",
      until: at(nextMidnightUtc(now + ACCESS_LOG_DELIVERY_MS + windows.accessLogDays * DAY_MS)),
    },
    {
      what: "CloudWatch logs of the functions and of the API: the customer's id, query ids and counts, and in the API's access log the IP address of each caller (the customer's browser on the OAuth callback); no imported data",
      until: at(now + windows.logRetentionDays * DAY_MS + LOG_DELETION_LAG_MS),
    },
    { what: "messages naming the customer in the pipeline's dead-letter queues, if any (ids and Ring's expired download links)", until: at(now + windows.queueRetentionDays * DAY_MS) },
    { what: "the customer's control-table items (the connection, now REVOKED, its queries and file tasks: ids, statuses, counts, S3 keys; no imported data), kept as the record of the connection and of this purge" },
  ];
}
