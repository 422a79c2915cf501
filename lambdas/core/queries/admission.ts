import { randomUUID } from 'node:crypto';
import { IMPORTABLE_STATUSES, type ImportRequest } from '../connections/model';
import type { Clock, ConnectionRepository, Logger, WorkQueue } from '../ports';
import { createDataQueryPace } from '../ring/rate-limiter';
import type { Settings } from '../settings';
import { dueBefore, IMPORT_PRIORITIES, priorityBefore, type ImportEntry, type ImportPriority, type ImportScheduleStore } from './import-schedule';

/** What an import request became: queued (WAITING), or merged into the one already waiting or in flight. */
export interface AdmittedImport {
  /** The request the connection's import carries: the existing one when merged. */
  readonly requestedAt: string;
  readonly state: 'QUEUED' | 'IN_FLIGHT';
  readonly merged: boolean;
  readonly queryId?: string;
}

/** An import request, and for a re-request after a query ended without data, which query it was. */
export type AdmissionRequest = ImportRequest & { readonly brand: string; readonly endedQueryId?: string };

export interface AdmissionDeps {
  readonly schedule: ImportScheduleStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

const WRITE_ATTEMPTS = 8;

/**
 * Admits an import request to the connection's one entry, so a connection never has two
 * imports waiting or in flight:
 * - `connected` (a new consent): a first import, ahead of every other; it replaces whatever the
 *   previous consent left.
 * - `requested` (the integrator): merged into the import already waiting or in flight; one due
 *   later is made due now, ahead of recurring ones.
 * - `scheduled`, `recheck` (a query ended without data: canceled, failed, listing window gone):
 *   the connection waits again in its place (its priority and due time kept).
 */
export async function admitImport(deps: AdmissionDeps, request: AdmissionRequest): Promise<AdmittedImport> {
  const { schedule, clock } = deps;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const current = await schedule.get(request.customerId);
    const now = new Date(clock.now()).toISOString();
    const decided = decide(current, request, now);
    if (decided.write === undefined) return decided.answer;
    if (await schedule.replace(decided.write, current?.version)) return decided.answer;
  }
  throw new Error(`the import entry of ${request.customerId} kept changing under concurrent writes`);
}

function decide(current: ImportEntry | undefined, request: AdmissionRequest, now: string): { write?: ImportEntry; answer: AdmittedImport } {
  const fresh = (priority: ImportPriority): ImportEntry => ({
    customerId: request.customerId,
    brand: request.brand,
    state: 'WAITING',
    priority,
    dueAt: request.requestedAt,
    requestedAt: request.requestedAt,
    trigger: request.reason,
    attempt: request.attempt ?? 1,
    enrolledAt: current?.enrolledAt ?? now,
    ...(current?.lastSuccessAt ? { lastSuccessAt: current.lastSuccessAt } : {}),
    version: current?.version ?? 0,
  });
  const queued = (entry: ImportEntry, merged: boolean): AdmittedImport => ({ requestedAt: entry.requestedAt, state: 'QUEUED', merged });
  if (request.reason === 'connected') {
    // A new consent: its first import, whatever the last one left behind.
    const entry: ImportEntry = { ...fresh(IMPORT_PRIORITIES.first), enrolledAt: now };
    return { write: entry, answer: queued(entry, false) };
  }
  if (!current) {
    const entry = fresh(request.reason === 'requested' ? IMPORT_PRIORITIES.requested : IMPORT_PRIORITIES.recurring);
    return { write: entry, answer: queued(entry, false) };
  }
  if (request.reason === 'requested') {
    if (current.state === 'BUSY') return { answer: { requestedAt: current.requestedAt, state: 'IN_FLIGHT', merged: true, ...(current.queryId ? { queryId: current.queryId } : {}) } };
    if (current.priority <= IMPORT_PRIORITIES.requested && current.retryAt === undefined) return { answer: queued(current, true) };
    if (current.priority <= IMPORT_PRIORITIES.requested) {
      // Asked for again while waiting out a refusal (an account on hold): try now.
      const { retryAt: _retryAt, ...now } = current;
      return { write: now, answer: queued(current, true) };
    }
    // Waiting as a recurring import: asked for now, it goes ahead of them.
    const { retryAt: _retryAt, ...waiting } = current;
    const entry: ImportEntry = { ...waiting, priority: IMPORT_PRIORITIES.requested, dueAt: request.requestedAt, requestedAt: request.requestedAt, trigger: request.reason, attempt: 1 };
    return { write: entry, answer: queued(entry, false) };
  }
  // scheduled / recheck: the import in flight ended without data.
  if (current.state === 'BUSY' && request.endedQueryId !== undefined && current.queryId !== undefined && current.queryId !== request.endedQueryId) {
    // Another import is in flight already: it brings the data.
    return { answer: { requestedAt: current.requestedAt, state: 'IN_FLIGHT', merged: true, queryId: current.queryId } };
  }
  const { ticket: _ticket, dispatchedAt: _dispatchedAt, queryId: _queryId, retryAt: _retryAt, claimedAt: _claimedAt, ...waiting } = current;
  const dueAt = current.state === 'WAITING' && current.dueAt < now ? current.dueAt : current.state === 'BUSY' ? current.dueAt : now;
  const entry: ImportEntry = { ...waiting, state: 'WAITING', dueAt, requestedAt: request.requestedAt, trigger: request.reason, attempt: request.attempt ?? 1 };
  return { write: entry, answer: queued(entry, false) };
}

/** What asks for imports: the integrator's API. */
export interface ImportAdmitter {
  admit(request: ImportRequest & { brand?: string; endedQueryId?: string }): Promise<AdmittedImport | undefined>;
}

/**
 * A `WorkQueue` that admits the import requests sent to it, for the code that asks for an
 * import by sending one (the callback, a canceled or lost query's re-check).
 */
export class ImportAdmission implements WorkQueue, ImportAdmitter {
  constructor(
    private readonly deps: AdmissionDeps,
    private readonly brandOf: (customerId: string) => Promise<string | undefined>,
  ) {}

  async send(body: object): Promise<void> {
    await this.admit(body as ImportRequest & { endedQueryId?: string });
  }

  async admit(request: ImportRequest & { brand?: string; endedQueryId?: string }): Promise<AdmittedImport | undefined> {
    const brand = request.brand ?? (await this.brandOf(request.customerId));
    if (!brand) {
      this.deps.logger.warn('import request for a connection that does not exist; dropped', { customerId: request.customerId });
      return undefined;
    }
    return admitImport(this.deps, { ...request, brand });
  }
}

export interface DispatchDeps {
  readonly settings: Settings;
  readonly schedule: ImportScheduleStore;
  readonly connections: Pick<ConnectionRepository, 'get' | 'recordImport'>;
  /** The imports queue: each dispatched import is one message, delayed to its slot. */
  readonly imports: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** How often EventBridge runs the dispatcher; each run hands out the slots of the next period. */
export const DISPATCH_PERIOD_MS = 60_000;
/** At most this many imports per brand per run, whatever the limits (scope `customer`): the per-invocation bound. */
export const MAX_DISPATCH_PER_RUN = 100;
/** Entries read past the slots, for those still waiting out a retry. */
const LOOKAHEAD = 25;
/** A BUSY entry older than this lost its import (a message in a dead-letter queue, a crash): it waits again. */
export const STALE_BUSY_MS = 48 * 3_600_000;
const STALE_PER_RUN = 25;

export interface DispatchResult {
  readonly dispatched: number;
  readonly stale: number;
  /** Connections due and waiting, by brand, after this run. */
  readonly backlog: Record<string, number>;
  /** Hours since the oldest successful import among waiting connections (or since enrolment, never imported). */
  readonly oldestImportAgeHours: number;
}

/**
 * Hands out each brand's createDataQuery budget for the next period: one slot every
 * `createDataQueryPace` interval (the limits' minimum, evenly spaced, so no burst and no 429 of
 * our own making), given to the waiting connections in order: first imports, then requests,
 * then recurring imports oldest successful import first. Each gets one imports-queue message
 * delayed to its slot and becomes BUSY until its query ends. The pacing mark is moved with a
 * conditional write, so two runs at once never hand out the same slots.
 */
export async function dispatchImports(deps: DispatchDeps): Promise<DispatchResult> {
  const { settings, schedule, clock } = deps;
  const now = clock.now();
  const pace = createDataQueryPace(settings.rateLimits.createDataQuery);
  // Per-customer limits do not bound the app: only the per-run bound applies.
  const intervalMs = settings.rateLimits.scope === 'customer' ? DISPATCH_PERIOD_MS / MAX_DISPATCH_PER_RUN : pace.intervalMs;
  let dispatched = 0;
  let stale = 0;
  const backlog: Record<string, number> = {};
  let oldestAgeMs = 0;
  for (const brand of settings.brands) {
    stale += await requeueStale(deps, brand, now);
    dispatched += await dispatchBrand(deps, brand, now, intervalMs);
    backlog[brand] = await schedule.count(brand, 'WAITING', dueBefore(now));
    oldestAgeMs = Math.max(oldestAgeMs, await oldestImportAge(schedule, brand, now));
  }
  return { dispatched, stale, backlog, oldestImportAgeHours: oldestAgeMs / 3_600_000 };
}

async function dispatchBrand(deps: DispatchDeps, brand: string, now: number, intervalMs: number): Promise<number> {
  const { schedule, logger } = deps;
  const pacer = await schedule.pacer(brand);
  const start = Math.max(pacer?.nextSlotAt ?? now, now);
  const slots: number[] = [];
  for (let at = start; at < now + DISPATCH_PERIOD_MS && slots.length < MAX_DISPATCH_PER_RUN; at += intervalMs) slots.push(at);
  if (slots.length === 0) return 0;
  const nowIso = new Date(now).toISOString();
  const candidates = (await schedule.list(brand, 'WAITING', { before: dueBefore(now), limit: slots.length + LOOKAHEAD }))
    .filter((entry) => entry.retryAt === undefined || entry.retryAt <= nowIso)
    .slice(0, slots.length);
  // Claim the slots about to be used; a run that loses this race dispatches nothing.
  const next = candidates.length > 0 ? slots[candidates.length - 1] + intervalMs : start;
  if (!(await schedule.movePacer(brand, next, pacer?.version))) {
    logger.info('another dispatcher run is handing out these slots', { brand });
    return 0;
  }
  let dispatched = 0;
  for (const [i, entry] of candidates.entries()) {
    if (await dispatchOne(deps, entry, slots[i], now)) dispatched++;
  }
  return dispatched;
}

async function dispatchOne(deps: DispatchDeps, entry: ImportEntry, slot: number, now: number): Promise<boolean> {
  const { schedule, connections, imports, logger } = deps;
  const connection = await connections.get(entry.customerId);
  if (!connection || !IMPORTABLE_STATUSES.includes(connection.status)) {
    await schedule.remove(entry.customerId);
    logger.info('connection no longer imports; left the import schedule', { customerId: entry.customerId, status: connection?.status ?? 'gone' });
    return false;
  }
  const { retryAt: _retryAt, ...waiting } = entry;
  const nowIso = new Date(now).toISOString();
  // A recurring import is asked for when it goes; a first or requested one keeps its request's time.
  const requestedAt = entry.trigger === 'scheduled' && entry.attempt === 1 ? nowIso : entry.requestedAt;
  const busy: ImportEntry = { ...waiting, state: 'BUSY', requestedAt, ticket: randomUUID(), dispatchedAt: nowIso };
  if (!(await schedule.replace(busy, entry.version))) return false;
  const message: ImportRequest & { ticket: string } = { customerId: entry.customerId, reason: entry.trigger, requestedAt, attempt: entry.attempt, ticket: busy.ticket! };
  try {
    // Never before its slot (SQS delays are whole seconds); the rate limiter absorbs the rounding.
    await imports.send(message, { delaySeconds: Math.min(900, Math.max(0, Math.ceil((slot - now) / 1000))) });
  } catch (error) {
    // Not sent: waiting again, in its place.
    await schedule.replace(entry, busy.version + 1).catch(() => undefined);
    throw error;
  }
  return true;
}

async function requeueStale(deps: DispatchDeps, brand: string, now: number): Promise<number> {
  const { schedule, logger } = deps;
  const stale = await schedule.list(brand, 'BUSY', { before: new Date(now - STALE_BUSY_MS).toISOString(), limit: STALE_PER_RUN });
  let requeued = 0;
  for (const entry of stale) {
    const { ticket: _ticket, dispatchedAt: _dispatchedAt, queryId: _queryId, claimedAt: _claimedAt, ...waiting } = entry;
    if (await schedule.replace({ ...waiting, state: 'WAITING' }, entry.version)) {
      requeued++;
      logger.warn('an import in flight for two days was lost; the connection waits for another', { customerId: entry.customerId, queryId: entry.queryId });
    }
  }
  return requeued;
}

/** The age of the oldest successful import among a brand's connections: the first waiting of each priority, and the oldest in flight. */
async function oldestImportAge(schedule: ImportScheduleStore, brand: string, now: number): Promise<number> {
  const heads = [
    ...(await schedule.list(brand, 'WAITING', { before: priorityBefore(IMPORT_PRIORITIES.first), limit: 1 })),
    ...(await schedule.list(brand, 'WAITING', { before: priorityBefore(IMPORT_PRIORITIES.requested), limit: 2 })),
    ...(await schedule.list(brand, 'WAITING', { before: priorityBefore(IMPORT_PRIORITIES.recurring), limit: 3 })),
    ...(await schedule.list(brand, 'BUSY', { limit: 1 })),
  ];
  let oldest = 0;
  for (const entry of heads) {
    const since = entry.lastSuccessAt ?? entry.enrolledAt;
    oldest = Math.max(oldest, now - Date.parse(since));
  }
  return oldest;
}

/** What the imports consumer reports back for a dispatched import. */
export type DispatchedOutcome =
  | { readonly outcome: 'requested'; readonly queryId: string }
  | { readonly outcome: 'retry'; readonly retryAt: number }
  | { readonly outcome: 'leave' };

/**
 * The imports consumer's answer for a dispatched import (`ticket`): a query was created (BUSY
 * until it ends), the attempt must be retried (waiting again in its place, not before
 * `retryAt`), or the connection no longer imports (it leaves the schedule).
 */
export async function settleDispatch(deps: AdmissionDeps, customerId: string, ticket: string, outcome: DispatchedOutcome): Promise<void> {
  const { schedule } = deps;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const current = await schedule.get(customerId);
    if (!current || current.ticket !== ticket || current.state !== 'BUSY') return;
    if (outcome.outcome === 'leave') return schedule.remove(customerId);
    let next: ImportEntry;
    if (outcome.outcome === 'requested') next = { ...current, queryId: outcome.queryId };
    else {
      const { ticket: _ticket, dispatchedAt: _dispatchedAt, queryId: _queryId, claimedAt: _claimedAt, ...waiting } = current;
      next = { ...waiting, state: 'WAITING', retryAt: new Date(outcome.retryAt).toISOString() };
    }
    if (await schedule.replace(next, current.version)) return;
  }
}

/** How long a consumer's claim on a dispatch holds: longer than an imports invocation, so only a crashed one's claim lapses. */
export const DISPATCH_CLAIM_MS = 10 * 60_000;

/**
 * Takes a dispatched import's message for this invocation: `claimed` (go ahead), `stale` (its
 * import was settled or superseded, or its query already created: nothing to do) or `busy`
 * (another delivery of the same message is at it now: SQS delivers at least once).
 */
export async function claimDispatch(deps: AdmissionDeps, customerId: string, ticket: string): Promise<'claimed' | 'stale' | 'busy'> {
  const { schedule, clock } = deps;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const current = await schedule.get(customerId);
    if (current?.state !== 'BUSY' || current.ticket !== ticket || current.queryId !== undefined) return 'stale';
    if (current.claimedAt !== undefined && clock.now() - Date.parse(current.claimedAt) < DISPATCH_CLAIM_MS) return 'busy';
    if (await schedule.replace({ ...current, claimedAt: new Date(clock.now()).toISOString() }, current.version)) return 'claimed';
  }
  return 'busy';
}

/** The import schedule as the end of a query sees it (see releaseImport). */
export class ScheduleRelease {
  constructor(private readonly deps: AdmissionDeps & { readonly intervalMs: number }) {}

  release(customerId: string, query: { queryId: string; createdAt: string; succeeded: boolean }): Promise<void> {
    return releaseImport(this.deps, customerId, query);
  }
}

/**
 * A query of the connection ended: COMPLETED (a successful import: the next one falls due one
 * interval after this query was created) or CANCELED for the last time (re-checked one interval
 * on). Only the import in flight for that query is released.
 */
export async function releaseImport(deps: AdmissionDeps & { readonly intervalMs: number }, customerId: string, query: { queryId: string; createdAt: string; succeeded: boolean }): Promise<void> {
  const { schedule, clock } = deps;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const current = await schedule.get(customerId);
    if (!current || current.state !== 'BUSY' || (current.queryId !== undefined && current.queryId !== query.queryId)) return;
    const { ticket: _ticket, dispatchedAt: _dispatchedAt, queryId: _queryId, retryAt: _retryAt, claimedAt: _claimedAt, ...rest } = current;
    const base = query.succeeded ? Date.parse(query.createdAt) : clock.now();
    const next: ImportEntry = {
      ...rest,
      state: 'WAITING',
      priority: IMPORT_PRIORITIES.recurring,
      dueAt: new Date((Number.isFinite(base) ? base : clock.now()) + deps.intervalMs).toISOString(),
      requestedAt: new Date(clock.now()).toISOString(),
      trigger: 'scheduled',
      attempt: 1,
      ...(query.succeeded ? { lastSuccessAt: query.createdAt } : {}),
    };
    if (await schedule.replace(next, current.version)) return;
  }
}
