import { IMPORTABLE_STATUSES, type ImportRequest, type ImportState, type LastImport } from '../connections/model';
import { holdConnection } from '../connections/status';
import type { Clock, Connection, ConnectionRepository, Logger } from '../ports';
import { RelinkRequiredError, RetryLaterError, RingApiError } from '../ring/errors';
import type { CallOptions, IntakeClient } from '../ring/intake-client';
import type { QueryRecord } from './model';

export interface QueryRepository {
  /** Records a new query; a second call with the same id is a no-op (a redelivered request, Ring's 5-minute cache). */
  create(record: QueryRecord): Promise<void>;
  get(queryId: string): Promise<QueryRecord | undefined>;
  /** Queries still REQUESTED that were created before `createdBefore` (ISO), oldest first. */
  listRequestedBefore(createdBefore: string): AsyncIterable<QueryRecord>;
  /** Ends a query as FAILED with the reason, if it is still REQUESTED. */
  fail(queryId: string, reason: string, now: number): Promise<void>;
}

export interface ImportDeps {
  readonly connections: ConnectionRepository;
  readonly queries: QueryRepository;
  readonly intake: IntakeClient;
  readonly clock: Clock;
  readonly logger: Logger;
}

export type ImportOutcome =
  | { readonly outcome: 'requested'; readonly queryId: string; readonly detail?: string }
  | { readonly outcome: 'skipped'; readonly reason: string }
  | { readonly outcome: 'retry-later'; readonly retryAfterSeconds: number; readonly reason: string };

/** The reference: "During the five-minute period, the API will return the same response for the same parameters." */
export const RING_RESPONSE_CACHE_MS = 5 * 60_000;
/** A query Ring says is in flight (REQUEST_CONFLICT) is given this long before asking again. */
const REQUEST_CONFLICT_RETRY_SECONDS = 15 * 60;
/** Asked again this long after the cache should have let go: Ring's clock and ours need not agree to the second. */
const CACHE_MARGIN_MS = 30_000;

/** Tells import requests apart: what triggered it, when, and which attempt (a re-check follows its canceled query at once). */
export function importRequestKey(request: ImportRequest): string {
  return `${request.reason}@${request.requestedAt}#${request.attempt ?? 1}`;
}

/**
 * Handles one import request: createDataQuery on the intake of the connection's brand and
 * region, and the query recorded as REQUESTED so its notification finds the customer. Ring's
 * answers decide what happens next: retry later (a delayed message, never a sleeping Lambda),
 * wait for the query already in flight, hold a connection whose account Ring has put on hold,
 * or fail loudly for configuration errors (the message goes to the DLQ and its alarm). What
 * became of the request is kept on the connection (`lastImport`), which GET /connections shows.
 */
export async function requestDataQuery(deps: ImportDeps, request: ImportRequest, options: CallOptions = {}): Promise<ImportOutcome> {
  const { connections, clock, logger } = deps;
  const record = await connections.get(request.customerId);
  if (!record) return { outcome: 'skipped', reason: 'no such connection' };
  const report = async (state: ImportState, extra: Pick<LastImport, 'detail' | 'queryId' | 'retryAt'>) => {
    const now = new Date(clock.now()).toISOString();
    await connections.recordImport(record.customerId, { requestedAt: request.requestedAt, trigger: request.reason, state, ...extra, updatedAt: now });
  };
  if (!IMPORTABLE_STATUSES.includes(record.status)) {
    const reason = `connection is ${record.status}`;
    await report('SKIPPED', { detail: reason });
    return { outcome: 'skipped', reason };
  }
  const connection: Connection = { customerId: record.customerId, brand: record.brand, region: record.region, secretId: record.secretId };

  let outcome: ImportOutcome;
  try {
    outcome = await createQuery(deps, request, { ...record, connection }, options);
  } catch (error) {
    // Ring's own answer (status, type, message) or nothing: no internal error reaches the integrator's API.
    const detail = error instanceof RingApiError ? `${error.message}; retried, then the dead-letter queue` : 'an internal error; retried, then the dead-letter queue';
    await report('FAILED', { detail }).catch((failure: unknown) => logger.warn('could not record the failed import', { customerId: record.customerId, errorName: (failure as Error).name }));
    throw error;
  }
  if (outcome.outcome === 'requested') await report('REQUESTED', { queryId: outcome.queryId, ...(outcome.detail ? { detail: outcome.detail } : {}) });
  else if (outcome.outcome === 'skipped') await report('SKIPPED', { detail: outcome.reason });
  else await report('WAITING', { detail: outcome.reason, retryAt: new Date(clock.now() + outcome.retryAfterSeconds * 1000).toISOString() });
  return outcome;
}

async function createQuery(
  deps: ImportDeps,
  request: ImportRequest,
  record: { customerId: string; brand: string; region: string; scopeId: string; status: string; connection: Connection },
  options: CallOptions,
): Promise<ImportOutcome> {
  const { connections, queries, intake, clock, logger } = deps;
  try {
    const { queryId } = await intake.createDataQuery(record.connection, options);
    const known = await queries.get(queryId);
    if (known && known.importRequest !== importRequestKey(request)) {
      // Ring's 5-minute response cache: the same answer as to an earlier request. A query still
      // in flight brings this request's data too; one that has ended brings nothing, so ask
      // again once the cache has let go of it (a delayed message).
      if (known.status === 'REQUESTED') return { outcome: 'requested', queryId, detail: 'Ring answered with the query already in progress for this customer' };
      const cached = `Ring answered with query ${queryId}, which is already ${known.status} (its 5-minute response cache)`;
      const createdAt = Date.parse(known.createdAt);
      const retryAt = (Number.isFinite(createdAt) ? createdAt : clock.now()) + RING_RESPONSE_CACHE_MS + CACHE_MARGIN_MS;
      if (retryAt <= clock.now()) throw new RingApiError(201, undefined, undefined, `${cached}, though it was created more than 5 minutes ago`, 'fail');
      logger.info('Ring answered from its response cache with a query that has ended; asking again after the cache', { customerId: record.customerId, queryId, status: known.status });
      return { outcome: 'retry-later', retryAfterSeconds: Math.ceil((retryAt - clock.now()) / 1000), reason: `${cached}: asking again after it` };
    }
    await queries.create({
      queryId,
      customerId: record.customerId,
      brand: record.brand,
      region: record.region,
      scopeId: record.scopeId,
      status: 'REQUESTED',
      createdAt: new Date(clock.now()).toISOString(),
      attempt: request.attempt ?? 1,
      importRequest: importRequestKey(request),
    });
    if (record.status === 'ON_HOLD') {
      await connections.setStatus(record.customerId, 'ACTIVE', 'Ring accepted an import again: the hold is over', clock.now(), ['ON_HOLD']);
      logger.info('Ring accepted an import again: connection active', { customerId: record.customerId });
    }
    logger.info('data query requested', { customerId: record.customerId, queryId, reason: request.reason });
    return { outcome: 'requested', queryId };
  } catch (error) {
    if (error instanceof RetryLaterError) return { outcome: 'retry-later', retryAfterSeconds: Math.ceil(error.retryAfterSeconds), reason: error.reason };
    if (error instanceof RelinkRequiredError) return { outcome: 'skipped', reason: `the customer must connect again: ${error.reason}` };
    if (!(error instanceof RingApiError)) throw error;
    switch (error.decision) {
      case 'retry':
        return { outcome: 'retry-later', retryAfterSeconds: Math.max(60, Math.ceil(error.retryAfterSeconds ?? 0)), reason: `Ring answered ${error.status} ${error.type ?? ''}`.trim() };
      case 'wait':
        if (error.type === 'QUOTA_EXCEEDED') return { outcome: 'retry-later', retryAfterSeconds: Math.ceil(error.retryAfterSeconds ?? 3600), reason: 'daily quota exceeded' };
        // 409: Ring is running a query for this customer that this import does not know: ask again once it has ended.
        logger.info('a query is already in progress at Ring; asking again later', { customerId: record.customerId });
        return { outcome: 'retry-later', retryAfterSeconds: REQUEST_CONFLICT_RETRY_SECONDS, reason: 'Ring is already running a query for this customer (REQUEST_CONFLICT)' };
      case 'stop-connection':
        await holdConnection(connections, record.customerId, error, clock.now());
        logger.warn('Ring refused access to a fresh token: connection on hold', { customerId: record.customerId, type: error.type });
        return { outcome: 'skipped', reason: 'Ring refused access to a token it had just issued: the account is on hold' };
      default:
        // fail, relist, recreate, refresh-then-retry (already tried): an operator must look.
        logger.error('import failed; the message goes to the dead-letter queue', { customerId: record.customerId, status: error.status, type: error.type, decision: error.decision });
        throw error;
    }
  }
}
