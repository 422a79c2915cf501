import { DATASET_PARTITIONS } from './partitions';
import type { Clock, ConnectionRepository, CustomerDataStore, Logger, SecretAdmin, WorkQueue } from '../ports';
import { ConflictError, IMPORTABLE_STATUSES, NotFoundError, type ConnectionRecord, type ImportRequest } from './model';

export interface ManageDeps {
  readonly connections: ConnectionRepository;
  readonly secretAdmin: SecretAdmin;
  readonly imports: WorkQueue;
  readonly data: CustomerDataStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

export type ConnectionView = Omit<ConnectionRecord, 'secretId'>;

export async function getConnection(deps: ManageDeps, customerId: string): Promise<ConnectionView> {
  const record = await deps.connections.get(customerId);
  if (!record) throw new NotFoundError(`no connection for customer ${customerId}`);
  const { secretId: _secretId, ...view } = record;
  return view;
}

/**
 * Asks for an import now: it is queued, and what became of it (a new query, a wait and why,
 * or why it did not start) shows in GET /connections/{id} as `lastImport`, for the request
 * whose `requestedAt` this answers with. An ACTIVE connection imports; an ON_HOLD one is
 * re-checked by the import.
 */
export async function requestImport(deps: ManageDeps, customerId: string): Promise<{ queued: true; requestedAt: string }> {
  const record = await deps.connections.get(customerId);
  if (!record) throw new NotFoundError(`no connection for customer ${customerId}`);
  if (!IMPORTABLE_STATUSES.includes(record.status)) {
    throw new ConflictError(`connection ${customerId} is ${record.status}; ${record.status === 'REVOKED' ? 'it was disconnected' : 'the customer must connect again'}`);
  }
  const requestedAt = new Date(deps.clock.now()).toISOString();
  const request: ImportRequest = { customerId, reason: 'requested', requestedAt };
  await deps.connections.recordImport(customerId, { requestedAt, trigger: 'requested', state: 'QUEUED', updatedAt: requestedAt });
  try {
    await deps.imports.send(request);
  } catch (error) {
    const failedAt = new Date(deps.clock.now()).toISOString();
    await deps.connections.recordImport(customerId, { requestedAt, trigger: 'requested', state: 'FAILED', detail: 'the import could not be queued', updatedAt: failedAt }).catch(() => undefined);
    throw error;
  }
  return { queued: true, requestedAt };
}

export interface DisconnectResult {
  readonly customerId: string;
  readonly status: 'REVOKED';
  /**
   * With purge: what was deleted by this call, and whether everything is gone for good. Until
   * `settlesAt` (ISO) it is not complete even when nothing is left: ingestion already running
   * when the purge was requested may still write, and the next call deletes that too.
   */
  readonly purged?: { readonly objects: number; readonly records: number; readonly complete: boolean; readonly settlesAt?: string };
}

/**
 * Forgets the customer's tokens and marks the connection REVOKED; with `purge`, also deletes
 * every raw object and record of the customer, until done or until `deadline` (epoch ms):
 * then `complete: false` asks the caller to call again, which continues where this stopped.
 *
 * A purge first records that it was requested: collect, fetch and load stop for the customer
 * from then on. An invocation that started earlier can still write for up to `settleMs`
 * (the longest invocation), so the purge is complete only after a sweep that begins once that
 * time has passed since the request.
 */
export async function disconnect(
  deps: ManageDeps,
  customerId: string,
  options: { purge: boolean; rawPrefixes: (customerId: string) => string[]; deadline?: number; settleMs?: number },
): Promise<DisconnectResult> {
  const { connections, secretAdmin, data, clock, logger } = deps;
  const record = await connections.get(customerId);
  if (!record) throw new NotFoundError(`no connection for customer ${customerId}`);
  await secretAdmin.remove(record.secretId);
  await connections.setStatus(customerId, 'REVOKED', 'disconnected by the integrator', clock.now());
  logger.info('connection revoked', { customerId, purge: options.purge });
  if (!options.purge) return { customerId, status: 'REVOKED' };

  const sweepStartedAt = clock.now();
  const settlesAt = Date.parse(await connections.markPurgeRequested(customerId, sweepStartedAt)) + (options.settleMs ?? 0);
  const shouldStop = () => options.deadline !== undefined && clock.now() >= options.deadline;
  let objects = 0;
  let records = 0;
  let complete = true;
  for (const prefix of options.rawPrefixes(customerId)) {
    const progress = await data.deleteObjects(prefix, shouldStop);
    objects += progress.deleted;
    complete &&= progress.complete;
  }
  for (const partition of DATASET_PARTITIONS) {
    if (!complete) break;
    const progress = await data.deleteRecords(`${customerId}#${partition}`, shouldStop);
    records += progress.deleted;
    complete &&= progress.complete;
  }
  const settled = sweepStartedAt >= settlesAt;
  logger.info('customer data purged', { customerId, objects, records, complete, settled });
  return { customerId, status: 'REVOKED', purged: { objects, records, complete: complete && settled, ...(settled ? {} : { settlesAt: new Date(settlesAt).toISOString() }) } };
}
