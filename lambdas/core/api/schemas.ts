import { z } from 'zod';
import { CONNECTION_STATUSES, CustomerId, IMPORT_STATES } from '../connections/model';
import { QUERY_STATUSES } from '../queries/model';
import { Brand, Region } from '../settings';

/**
 * The admin API's requests and answers as zod schemas: the handlers parse their input with
 * them, their answers are `z.infer` of them, and docs/openapi.json is generated from them
 * (routes.ts), so the document cannot say something the code does not do.
 */

const isoTime = z.iso.datetime({ offset: true });

// ---------------------------------------------------------------- requests

export const ConnectBody = z.strictObject({
  customerId: CustomerId,
  brand: Brand,
  region: Region.optional(),
  returnUrl: z.string().max(2048).optional().describe("Where the customer's browser goes after the consent; its origin must be in the allowedReturnOrigins setting."),
});

export const CustomerPath = z.strictObject({ customerId: CustomerId });

/** An opaque position in a listing, as the previous page's `nextCursor` gave it. */
export const Cursor = z.string().min(1).max(1024).describe('The previous page’s `nextCursor`, unchanged; the filters must be the same as that page’s.');

const limit = (fallback: number) => z.coerce.number().int().min(1).max(100).default(fallback).describe(`Items read for this page, 1-100 (default ${fallback}).`);

export const ListConnectionsQuery = z.strictObject({
  status: z.enum(CONNECTION_STATUSES).optional(),
  brand: Brand.optional().describe('Keeps only this brand’s connections: a page may then hold fewer than `limit` (even none) and still have a `nextCursor`.'),
  limit: limit(50),
  cursor: Cursor.optional(),
});

export const ListImportsQuery = z.strictObject({
  limit: limit(20),
  cursor: Cursor.optional(),
});

export const DisconnectQuery = z.strictObject({
  purge: z.enum(['true', 'false']).optional().describe('true: also delete every raw object and record of the customer (README: Erasure).'),
});

export const CallbackQuery = z.object({
  state: z.string().max(512).optional(),
  code: z.string().max(2048).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(1024).optional(),
});

// ---------------------------------------------------------------- answers

export const LastImportView = z.object({
  requestedAt: isoTime,
  trigger: z.enum(['connected', 'requested', 'scheduled', 'recheck']),
  state: z.enum(IMPORT_STATES),
  detail: z.string().optional(),
  queryId: z.string().optional(),
  retryAt: isoTime.optional(),
  updatedAt: isoTime,
});

/** A connection as the API shows it: never its secret's id, never a token. */
export const ConnectionView = z.object({
  customerId: CustomerId,
  brand: Brand,
  region: Region,
  scopeId: z.string(),
  status: z.enum(CONNECTION_STATUSES),
  connectedAt: isoTime,
  statusReason: z.string().optional(),
  statusChangedAt: isoTime.optional(),
  lastImport: LastImportView.optional(),
  nextImportAt: isoTime.optional(),
  purgeRequestedAt: isoTime.optional(),
});
export type ConnectionView = z.infer<typeof ConnectionView>;

export const ConnectionPage = z.object({
  connections: z.array(ConnectionView),
  nextCursor: z.string().optional().describe('Absent on the last page.'),
});
export type ConnectionPage = z.infer<typeof ConnectionPage>;

const count = z.number().int().min(0);

/** What the query's import counted, from its totals (written when it became DONE). */
export const ImportCounts = z.object({
  files: count,
  bytes: count,
  records: count.describe('Valid records seen (new + unchanged + duplicates).'),
  recordsNew: count.optional().describe('Records written: new or changed.'),
  recordsUnchanged: count.optional().describe('Records already stored, identical: not written again.'),
  duplicates: count.optional().describe('Repeats of a record this import had already seen (in the same file or another of its files): not written again.'),
  rejected: count,
  malformedFiles: count.optional(),
  filesWithoutUsableSchema: count.optional(),
});

const duration = count.describe('milliseconds');

/** One data query of the customer's: its status, timestamps, durations and counts. */
export const ImportView = z.object({
  queryId: z.string(),
  status: z.enum(QUERY_STATUSES),
  attempt: z.number().int().min(1),
  createdAt: isoTime.describe('When the data query was created at Ring.'),
  notifiedAt: isoTime.optional().describe('When Ring said it was COMPLETED or CANCELED.'),
  collectStartedAt: isoTime.optional(),
  collectedAt: isoTime.optional().describe('When every file Ring listed had a task.'),
  doneAt: isoTime.optional().describe('When the last file was loaded and the manifest written.'),
  failedAt: isoTime.optional(),
  statusReason: z.string().optional(),
  files: count.optional().describe('Files Ring listed.'),
  filesLoaded: count.optional(),
  timings: z.object({
    ringMs: duration.optional().describe('Created → notified: Ring preparing the data.'),
    collectMs: duration.optional().describe('Listing the files.'),
    fetchAndLoadMs: duration.optional().describe('Collected → done: copying the files to S3 and loading their records (they overlap, file by file).'),
    totalMs: duration.optional().describe('Created → done.'),
  }),
  counts: ImportCounts.optional().describe('Present once DONE.'),
  manifestKey: z.string().optional().describe('The S3 key of the manifest, once DONE.'),
});
export type ImportView = z.infer<typeof ImportView>;

export const ImportPage = z.object({
  imports: z.array(ImportView).describe('Newest first.'),
  nextCursor: z.string().optional().describe('Absent on the last page.'),
});
export type ImportPage = z.infer<typeof ImportPage>;

export const ConnectLink = z.object({ authorizeUrl: z.url(), expiresAt: isoTime });

export const ImportRequested = z.object({
  queued: z.literal(true),
  requestedAt: isoTime,
  merged: z.boolean().describe('true: an import was already waiting or under way; this request joined it.'),
  state: z.enum(['QUEUED', 'IN_FLIGHT']),
  queryId: z.string().optional(),
});

export const Disconnected = z.object({
  customerId: CustomerId,
  status: z.literal('REVOKED'),
  purged: z
    .object({
      objects: count.describe('Object versions deleted by this call.'),
      records: count,
      failed: count.optional().describe('Object versions S3 refused to delete; the next call tries again.'),
      complete: z.boolean(),
      settlesAt: isoTime.optional().describe('Until then ingestion already under way may still write: call again after it.'),
      remains: z.array(z.object({ what: z.string(), until: isoTime.optional() })).describe('What outlives the purge, out of reach of any API.'),
    })
    .optional(),
});

export const NotificationAccepted = z.object({
  ok: z.literal(true),
  outcome: z.enum(['completed', 'canceled', 'duplicate', 'accepted', 'subscription-confirmed', 'subscription-pending', 'unsubscribed']),
});

// ---------------------------------------------------------------- errors

/** Every error the handlers answer (lambdas/shared/http.ts): a code and a message naming what is wrong. */
export const ERROR_CODES = ['bad_request', 'invalid_state', 'not_found', 'conflict', 'payload_too_large', 'rejected', 'unavailable', 'configuration', 'internal'] as const;
export const ApiError = z.object({ error: z.enum(ERROR_CODES), message: z.string() });
export type ApiError = z.infer<typeof ApiError>;

/** What API Gateway itself answers before any handler runs (bad signature, throttling, oversized request). */
export const GatewayError = z.object({ message: z.string() });
