import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ConnectionPage, ConnectionView, ImportPage, ImportView } from '../api/schemas';
import { ConnectionView as ConnectionViewSchema } from '../api/schemas';
import type { Brand } from '../settings';
import type { QueryRecord } from '../queries/model';
import type { ConnectionRepository } from '../ports';
import { manifestKey } from './partitions';
import { CONNECTION_STATUSES, CustomerId, NotFoundError, ValidationError, type ConnectionRecord, type ConnectionStatus } from './model';

/** One read of a status's connections: at most `limit` items read, in customer-id order. */
export interface ConnectionSlice {
  readonly connections: readonly ConnectionRecord[];
  /** Items read, the ones `brand` left out included. */
  readonly read: number;
  /** The last customer id read, when the status may hold more after it. */
  readonly last?: string;
}

/** Connections by status, a bounded read at a time (gsi1 `CONNSTATUS#<status>`). */
export interface ConnectionDirectory {
  slice(status: ConnectionStatus, options: { after?: string; limit: number; brand?: Brand }): Promise<ConnectionSlice>;
}

/** A query item as the history index holds it: the record and what the pipeline wrote on it. */
export type HistoryItem = QueryRecord & {
  readonly collectStartedAt?: string;
  readonly collectedAt?: string;
  readonly doneAt?: string;
  readonly failedAt?: string;
  readonly files?: number;
  /** The numbers of the files loaded and counted (the number `loadedFiles` of queries loaded before it was a set). */
  readonly loadedFileSet?: ReadonlySet<number>;
  readonly loadedFiles?: number;
  readonly totals?: Readonly<Record<string, number>>;
};

export interface HistoryPosition {
  readonly createdAt: string;
  readonly queryId: string;
}

/** A customer's queries, newest first, a bounded read at a time (gsi2 `QHISTORY#<customerId>`). */
export interface ImportHistory {
  slice(customerId: string, options: { before?: HistoryPosition; limit: number }): Promise<{ readonly queries: readonly HistoryItem[]; readonly last?: HistoryPosition }>;
}

export interface ListingDeps {
  readonly connections: Pick<ConnectionRepository, 'get'>;
  readonly directory: ConnectionDirectory;
  readonly history: ImportHistory;
}

/** The API's view of a connection: the documented fields only (never the secret's id). */
export function connectionView(record: ConnectionRecord): ConnectionView {
  return ConnectionViewSchema.parse(record);
}

// ---------------------------------------------------------------- cursors

/**
 * Where a listing stopped, and for which listing (its filters or customer): a cursor given
 * back with other filters is refused rather than silently skipping or repeating items. It is
 * base64url JSON with a digest, so a changed or truncated cursor is refused too. It is not
 * secret and not signed: the caller may list every connection anyway (IAM), and a position
 * made up by hand only moves where a listing of its own starts.
 */
const ConnectionsPosition = z.strictObject({
  list: z.literal('connections'),
  filter: z.strictObject({ status: z.enum(CONNECTION_STATUSES).optional(), brand: z.string().optional() }),
  status: z.enum(CONNECTION_STATUSES),
  after: CustomerId.optional(),
});
const ImportsPosition = z.strictObject({
  list: z.literal('imports'),
  customerId: CustomerId,
  createdAt: z.iso.datetime({ offset: true }),
  queryId: z.string().min(1).max(256),
});

const digest = (payload: string) => createHash('sha256').update(payload).digest('base64url').slice(0, 16);

export function encodeCursor(position: z.infer<typeof ConnectionsPosition> | z.infer<typeof ImportsPosition>): string {
  const payload = Buffer.from(JSON.stringify(position)).toString('base64url');
  return `${payload}.${digest(payload)}`;
}

function decodeCursor<Schema extends z.ZodType>(cursor: string, schema: Schema): z.output<Schema> {
  const [payload, check, ...rest] = cursor.split('.');
  let position: unknown;
  try {
    if (rest.length > 0 || !payload || check !== digest(payload)) throw new Error('digest');
    position = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError('cursor: is not a cursor this API returned (pass nextCursor back unchanged)');
  }
  const parsed = schema.safeParse(position);
  if (!parsed.success) throw new ValidationError('cursor: belongs to another listing');
  return parsed.data;
}

const sameFilter = (a: { status?: string; brand?: string }, b: { status?: string; brand?: string }) => a.status === b.status && a.brand === b.brand;

// ---------------------------------------------------------------- use cases

/**
 * One page of connections: the statuses in CONNECTION_STATUSES order (or the one asked for),
 * each in customer-id order. One call reads at most `limit` items in at most one query per
 * status, however many connections there are.
 */
export async function listConnections(deps: ListingDeps, request: { status?: ConnectionStatus; brand?: Brand; limit: number; cursor?: string }): Promise<ConnectionPage> {
  const filter = { ...(request.status ? { status: request.status } : {}), ...(request.brand ? { brand: request.brand } : {}) };
  const statuses = request.status ? [request.status] : CONNECTION_STATUSES;
  const start = request.cursor ? decodeCursor(request.cursor, ConnectionsPosition) : undefined;
  if (start && (!sameFilter(start.filter, filter) || !statuses.includes(start.status))) throw new ValidationError('cursor: belongs to a listing with other filters');
  const connections: ConnectionView[] = [];
  let left = request.limit;
  let next: { status: ConnectionStatus; after?: string } | undefined;
  const first = start ? statuses.indexOf(start.status) : 0;
  for (let i = first; i < statuses.length; i++) {
    if (left === 0) {
      next = { status: statuses[i] };
      break;
    }
    const slice = await deps.directory.slice(statuses[i], { after: i === first ? start?.after : undefined, limit: left, brand: request.brand });
    connections.push(...slice.connections.map(connectionView));
    left -= slice.read;
    if (slice.last !== undefined) {
      next = { status: statuses[i], after: slice.last };
      break;
    }
  }
  return { connections, ...(next ? { nextCursor: encodeCursor({ list: 'connections', filter, ...next }) } : {}) };
}

/** One page of the customer's imports, newest first; `not_found` for a customer never connected. */
export async function listImports(deps: ListingDeps, customerId: string, request: { limit: number; cursor?: string }): Promise<ImportPage> {
  if (!(await deps.connections.get(customerId))) throw new NotFoundError(`no connection for customer ${customerId}`);
  const start = request.cursor ? decodeCursor(request.cursor, ImportsPosition) : undefined;
  if (start && start.customerId !== customerId) throw new ValidationError('cursor: belongs to another customer’s listing');
  const slice = await deps.history.slice(customerId, { before: start, limit: request.limit });
  return {
    imports: slice.queries.map(importView),
    ...(slice.last ? { nextCursor: encodeCursor({ list: 'imports', customerId, ...slice.last }) } : {}),
  };
}

const between = (from?: string, to?: string): number | undefined => (from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : undefined);

/** A query item as the history shows it: durations from its timestamps, counts from its totals. */
export function importView(item: HistoryItem): ImportView {
  const totals = item.totals;
  const timings = {
    ringMs: between(item.createdAt, item.notifiedAt),
    collectMs: between(item.collectStartedAt, item.collectedAt),
    fetchAndLoadMs: between(item.collectedAt, item.doneAt),
    totalMs: between(item.createdAt, item.doneAt),
  };
  return {
    queryId: item.queryId,
    status: item.status,
    attempt: item.attempt,
    createdAt: item.createdAt,
    ...optional({ notifiedAt: item.notifiedAt, collectStartedAt: item.collectStartedAt, collectedAt: item.collectedAt, doneAt: item.doneAt, failedAt: item.failedAt }),
    ...optional({ statusReason: item.statusReason, files: item.files, filesLoaded: item.loadedFileSet?.size ?? item.loadedFiles }),
    timings: optional(timings),
    ...(totals
      ? {
          counts: {
            files: totals.files ?? 0,
            bytes: totals.bytes ?? 0,
            records: totals.records ?? 0,
            rejected: totals.rejected ?? 0,
            ...optional({ recordsNew: totals.recordsNew, recordsUnchanged: totals.recordsUnchanged, duplicates: totals.duplicates, malformedFiles: totals.malformedFiles, filesWithoutUsableSchema: totals.filesWithoutUsableSchema }),
          },
        }
      : {}),
    ...(item.status === 'DONE' ? { manifestKey: manifestKey(item.customerId, item.queryId) } : {}),
  };
}

function optional<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
