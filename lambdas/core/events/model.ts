import { z } from 'zod';
import { CONNECTION_STATUSES } from '../connections/model';
import type { Settings } from '../settings';

/**
 * The change events the product puts on its EventBridge bus (README: Change events). The zod
 * schemas below are the contract: `npm run docs:events` writes them as JSON Schema under
 * docs/events/, and a test fails when the committed files drift from them.
 */

export const EVENT_SOURCE = 'ring-portability';
export const IMPORT_COMPLETED = 'Import Completed';
export const CONNECTION_STATUS_CHANGED = 'Connection Status Changed';

/** The bus change events go to: the integrator's own (`events.busName`), or the one the stack creates. */
export function eventBusName(settings: Pick<Settings, 'resourcePrefix' | 'events'>): string {
  return settings.events.busName ?? `${settings.resourcePrefix}-events`;
}

const count = z.number().int().min(0);
const isoTime = z.iso.datetime();

/** One dataset's part of an import, as the manifest's `datasets` carries it. */
export const DatasetCountsSchema = z
  .strictObject({
    files: count,
    bytes: count,
    records: count.describe('Valid records seen (new + unchanged + duplicates).'),
    recordsNew: count.describe('Records stored by this import: not in the records table before it.'),
    recordsUnchanged: count.describe('Records already stored, identical: not written again.'),
    duplicates: count.describe('Repeats of a record this import had already seen: counted once.'),
    rejected: count.describe('Records that failed validation, kept under rejected/ in the bucket.'),
  })
  .meta({ title: 'DatasetCounts' });

export const ImportCompletedDetail = z
  .strictObject({
    eventId: z.string().min(1).describe('Stable across re-deliveries (the query id): deduplicate on it.'),
    customerId: z.string().min(1),
    brand: z.string().min(1),
    region: z.string().min(1).describe("The connection's intake region."),
    queryId: z.string().min(1),
    completedAt: isoTime,
    manifest: z.strictObject({ bucket: z.string().min(1), key: z.string().min(1) }).describe('Where the manifest (every file, its bytes, sha256 and counts) is.'),
    totals: z
      .strictObject({ files: count, bytes: count, records: count, recordsNew: count, recordsUnchanged: count, duplicates: count, rejected: count })
      .describe('The sums over every dataset.'),
    datasets: z.record(z.string(), DatasetCountsSchema).describe('Counts per dataset (`Unknown` for files of no known dataset).'),
  })
  .meta({ title: 'Import Completed', description: 'A data query finished loading: its files are in S3 and its records in the records table.' });
export type ImportCompletedDetail = z.infer<typeof ImportCompletedDetail>;

/** A purge is not a connection status: the event says it with `PURGED`, from REVOKED. */
export const ANNOUNCED_STATUSES = [...CONNECTION_STATUSES, 'PURGED'] as const;
export type AnnouncedStatus = (typeof ANNOUNCED_STATUSES)[number];

export const ConnectionStatusChangedDetail = z
  .strictObject({
    eventId: z.string().min(1).describe('Stable across re-deliveries (`<customerId>#<status>#<changedAt>`): deduplicate on it.'),
    customerId: z.string().min(1),
    brand: z.string().min(1),
    region: z.string().min(1),
    status: z.enum(ANNOUNCED_STATUSES).describe('PURGED: every raw file and record of the customer is deleted for good (the connection stays REVOKED).'),
    previousStatus: z.enum(CONNECTION_STATUSES).nullable().describe('null for a first connection.'),
    reason: z.string().describe('What is known of the cause; Ring gives one answer to a revoked consent, an expired one and a refused token (RELINK_REQUIRED).'),
    changedAt: isoTime,
  })
  .meta({ title: 'Connection Status Changed', description: "A connection's status changed: connected (ACTIVE), on hold, the customer must connect again, disconnected, or purged." });
export type ConnectionStatusChangedDetail = z.infer<typeof ConnectionStatusChangedDetail>;

export type ChangeEvent =
  | { readonly detailType: typeof IMPORT_COMPLETED; readonly detail: ImportCompletedDetail }
  | { readonly detailType: typeof CONNECTION_STATUS_CHANGED; readonly detail: ConnectionStatusChangedDetail };

/** The schema of each detail-type: what docs/events/ holds. */
export const DETAIL_SCHEMAS = {
  [IMPORT_COMPLETED]: ImportCompletedDetail,
  [CONNECTION_STATUS_CHANGED]: ConnectionStatusChangedDetail,
} as const;

/** The port the domain publishes through; `lambdas/adapters/event-bus.ts` implements it for EventBridge. */
export interface EventPublisher {
  /** Puts the events on the bus, all or an error: delivery is at least once, never silently dropped. */
  publish(events: readonly ChangeEvent[]): Promise<void>;
}
