import type { ImportRequest } from '../connections/model';

/**
 * Where every connection waits for its next import: one entry per connection, WAITING in
 * priority order or BUSY while one import is in flight. All imports go through it (a new
 * connection's first, an integrator's request, the recurring one, a re-check), so one
 * dispatcher can hand out Ring's createDataQuery budget fairly and evenly, and a connection
 * never has two imports in flight.
 */
export const IMPORT_PRIORITIES = {
  /** A new connection's first import: ahead of everyone. */
  first: 0,
  /** An integrator's explicit request (POST …/imports). */
  requested: 1,
  /** Recurring imports and re-checks: oldest successful import first. */
  recurring: 2,
} as const;
export type ImportPriority = (typeof IMPORT_PRIORITIES)[keyof typeof IMPORT_PRIORITIES];

export type ImportEntryState = 'WAITING' | 'BUSY';

export interface ImportEntry {
  readonly customerId: string;
  readonly brand: string;
  readonly state: ImportEntryState;
  readonly priority: ImportPriority;
  /**
   * WAITING: its place within the priority (ISO): when it was asked for (first, requested) or
   * fell due (recurring: last successful import + the interval), so the longest-waiting goes first.
   */
  readonly dueAt: string;
  /** The request it carries: what `POST …/imports` answers with, and what `lastImport` describes. */
  readonly requestedAt: string;
  readonly trigger: ImportRequest['reason'];
  /** 1 for a first request; a re-check after a canceled query is attempt 2, and the last. */
  readonly attempt: number;
  /** WAITING after a refused or failed attempt: not dispatched before this (ISO). */
  readonly retryAt?: string;
  /** BUSY: the dispatch it belongs to; a message with another ticket is stale. */
  readonly ticket?: string;
  readonly dispatchedAt?: string;
  /** BUSY: when an imports consumer took the dispatch (a second delivery of its message waits). */
  readonly claimedAt?: string;
  /** BUSY: Ring's query for it, once created. */
  readonly queryId?: string;
  /** When the last successful import's query was created (ISO): how old the customer's data is. */
  readonly lastSuccessAt?: string;
  /** When this consent's entry was created (ISO). */
  readonly enrolledAt: string;
  /** Optimistic concurrency: every write names the version it read. */
  readonly version: number;
}

export interface ImportScheduleStore {
  get(customerId: string): Promise<ImportEntry | undefined>;
  /** Writes `entry` (its version one past `expectedVersion`) if the stored one still has `expectedVersion` (undefined: none stored). */
  replace(entry: ImportEntry, expectedVersion: number | undefined): Promise<boolean>;
  remove(customerId: string): Promise<void>;
  /**
   * A brand's entries in one state, in order: WAITING by priority then `dueAt`, BUSY by
   * `dispatchedAt`; with `before`, only those whose order key (`orderKey`) sorts before it.
   */
  list(brand: string, state: ImportEntryState, options: { before?: string; limit: number }): Promise<ImportEntry[]>;
  /** How many of a brand's entries in `state` sort before `before` (a count, not a read of each). */
  count(brand: string, state: ImportEntryState, before: string): Promise<number>;
  /** The dispatcher's pacing mark for a brand: the earliest time its next createDataQuery may go (epoch ms). */
  pacer(brand: string): Promise<{ nextSlotAt: number; version: number } | undefined>;
  /** Moves the pacing mark, if nobody moved it since `expectedVersion` was read. */
  movePacer(brand: string, nextSlotAt: number, expectedVersion: number | undefined): Promise<boolean>;
}

/** The key an entry is ordered by within its brand and state (the index's sort key). */
export function orderKey(entry: Pick<ImportEntry, 'state' | 'priority' | 'dueAt' | 'dispatchedAt' | 'customerId'>): string {
  return entry.state === 'WAITING' ? `${entry.priority}|${entry.dueAt}|${entry.customerId}` : `${entry.dispatchedAt ?? ''}|${entry.customerId}`;
}

/** The upper bound (exclusive) of the WAITING entries due at `now`: every first and requested import, and recurring ones due by then. */
export function dueBefore(now: number): string {
  return `${IMPORT_PRIORITIES.recurring}|${new Date(now).toISOString()}|~`;
}

/** The upper bound (exclusive) of the entries of one priority. */
export function priorityBefore(priority: ImportPriority): string {
  return `${priority}|~`;
}

/** The token-age index's sort key: the refresh token's issue time (ISO, sorts as time), then the customer. */
export function tokenAgeKey(issuedAt: number, customerId: string): string {
  return `${new Date(issuedAt).toISOString()}|${customerId}`;
}
