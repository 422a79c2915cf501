import type { ImportRequest } from '../connections/model';
import type { Clock, Connection, ConnectionRepository, Logger } from '../ports';
import { RelinkRequiredError, RetryLaterError, RingApiError } from '../ring/errors';
import type { CallOptions, IntakeClient } from '../ring/intake-client';
import type { QueryRecord } from './model';

export interface QueryRepository {
  /** Records a new query; a second call with the same id is a no-op (redelivery, Ring's 5-minute cache). */
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
  | { readonly outcome: 'requested'; readonly queryId: string }
  | { readonly outcome: 'skipped'; readonly reason: string }
  | { readonly outcome: 'retry-later'; readonly retryAfterSeconds: number; readonly reason: string };

/**
 * Handles one import request: createDataQuery on the intake of the connection's brand and
 * region, and the query recorded as REQUESTED so its notification finds the customer. Ring's
 * answers decide what happens next: retry later (a delayed message, never a sleeping Lambda),
 * wait for the query already in flight, stop a connection whose authorization is gone, or fail
 * loudly for configuration errors (the message goes to the DLQ and its alarm).
 */
export async function requestDataQuery(deps: ImportDeps, request: ImportRequest, options: CallOptions = {}): Promise<ImportOutcome> {
  const { connections, queries, intake, clock, logger } = deps;
  const record = await connections.get(request.customerId);
  if (!record) return { outcome: 'skipped', reason: 'no such connection' };
  if (record.status !== 'ACTIVE') return { outcome: 'skipped', reason: `connection is ${record.status}` };
  const connection: Connection = { customerId: record.customerId, brand: record.brand, region: record.region, secretId: record.secretId };

  try {
    const { queryId } = await intake.createDataQuery(connection, options);
    await queries.create({
      queryId,
      customerId: record.customerId,
      brand: record.brand,
      region: record.region,
      scopeId: record.scopeId,
      status: 'REQUESTED',
      createdAt: new Date(clock.now()).toISOString(),
      attempt: request.attempt ?? 1,
    });
    logger.info('data query requested', { customerId: record.customerId, queryId, reason: request.reason });
    return { outcome: 'requested', queryId };
  } catch (error) {
    if (error instanceof RetryLaterError) return { outcome: 'retry-later', retryAfterSeconds: error.retryAfterSeconds, reason: error.reason };
    if (error instanceof RelinkRequiredError) return { outcome: 'skipped', reason: 'the customer must connect again' };
    if (!(error instanceof RingApiError)) throw error;
    switch (error.decision) {
      case 'retry':
        return { outcome: 'retry-later', retryAfterSeconds: Math.max(60, error.retryAfterSeconds ?? 0), reason: `Ring answered ${error.status} ${error.type ?? ''}`.trim() };
      case 'wait':
        if (error.type === 'QUOTA_EXCEEDED') return { outcome: 'retry-later', retryAfterSeconds: error.retryAfterSeconds ?? 3600, reason: 'daily quota exceeded' };
        // 409: a query is already in flight for this customer; its notification will bring the data.
        logger.info('a query is already in progress; not creating another', { customerId: record.customerId });
        return { outcome: 'skipped', reason: 'a query is already in progress' };
      case 'stop-connection':
        await connections.setStatus(record.customerId, 'REVOKED', `Ring refused access (${error.type ?? error.status}) with a fresh token`, clock.now());
        logger.warn('authorization gone: connection revoked', { customerId: record.customerId, type: error.type });
        return { outcome: 'skipped', reason: 'authorization revoked, expired or on hold' };
      default:
        // fail, relist, recreate, refresh-then-retry (already tried): an operator must look.
        logger.error('import failed; the message goes to the dead-letter queue', { customerId: record.customerId, status: error.status, type: error.type, decision: error.decision });
        throw error;
    }
  }
}
