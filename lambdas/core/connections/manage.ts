import type { ConnectionView } from '../api/schemas';
import { remainsAfterPurge, type Remaining, type RetentionWindows } from './erasure';
import { connectionView, type ConnectionDirectory, type ImportHistory } from './listing';
import { DATASET_PARTITIONS } from './partitions';
import type { Clock, ConnectionRepository, CustomerDataStore, DeletionProgress, Logger, SecretAdmin } from '../ports';
import type { AdmittedImport, ImportAdmitter } from '../queries/admission';
import { ConflictError, IMPORTABLE_STATUSES, NotFoundError, type ConnectionRecord, type ImportRequest } from './model';

export interface ManageDeps {
  readonly connections: ConnectionRepository;
  readonly secretAdmin: SecretAdmin;
  /** The import schedule: a request is merged into the import already waiting or in flight. */
  readonly imports: ImportAdmitter;
  readonly data: CustomerDataStore;
  /** How long what a purge cannot reach lives on; a purge's answer names it. */
  readonly retention: RetentionWindows;
  /** Told once a purge is complete, with an event id stable across the calls that find it so (the change events). */
  readonly onPurged?: (connection: ConnectionRecord, eventId: string) => Promise<void>;
  /** GET /connections: connections by status, a bounded read at a time. */
  readonly directory: ConnectionDirectory;
  /** GET /connections/{customerId}/imports: the customer's queries, newest first. */
  readonly history: ImportHistory;
  readonly clock: Clock;
  readonly logger: Logger;
}

export async function getConnection(deps: ManageDeps, customerId: string): Promise<ConnectionView> {
  const record = await deps.connections.get(customerId);
  if (!record) throw new NotFoundError(`no connection for customer ${customerId}`);
  return connectionView(record);
}

/**
 * Asks for an import now. A connection has one import at a time: a request while one is
 * waiting or in flight is merged into it and answered with that import's `requestedAt`
 * (`merged: true`); otherwise it waits in line, ahead of recurring imports. What became of it
 * (a new query, a wait and why, or why it did not start) shows in GET /connections/{id} as
 * `lastImport`. An ACTIVE connection imports; an ON_HOLD one is re-checked by the import.
 */
export async function requestImport(deps: ManageDeps, customerId: string): Promise<{ queued: true; requestedAt: string; merged: boolean; state: AdmittedImport['state']; queryId?: string }> {
  const record = await deps.connections.get(customerId);
  if (!record) throw new NotFoundError(`no connection for customer ${customerId}`);
  if (!IMPORTABLE_STATUSES.includes(record.status)) {
    throw new ConflictError(`connection ${customerId} is ${record.status}; ${record.status === 'REVOKED' ? 'it was disconnected' : 'the customer must connect again'}`);
  }
  const requestedAt = new Date(deps.clock.now()).toISOString();
  const request: ImportRequest & { brand: string } = { customerId, brand: record.brand, reason: 'requested', requestedAt };
  const admitted = await deps.imports.admit(request);
  if (!admitted) throw new NotFoundError(`no connection for customer ${customerId}`);
  if (!admitted.merged) await deps.connections.recordImport(customerId, { requestedAt: admitted.requestedAt, trigger: 'requested', state: 'QUEUED', updatedAt: requestedAt });
  return { queued: true, requestedAt: admitted.requestedAt, merged: admitted.merged, state: admitted.state, ...(admitted.queryId ? { queryId: admitted.queryId } : {}) };
}

export interface DisconnectResult {
  readonly customerId: string;
  readonly status: 'REVOKED';
  /**
   * With purge: what was deleted by this call, and whether everything is gone for good. Until
   * `settlesAt` (ISO) it is not complete even when nothing is left: ingestion already running
   * when the purge was requested may still write, and the next call deletes that too.
   */
  readonly purged?: PurgeResult;
}

export interface PurgeResult {
  /** Object versions (every stored copy of a raw file, overwritten ones included) deleted by this call. */
  readonly objects: number;
  readonly records: number;
  /** Object versions S3 refused to delete in this call: not complete; the next call tries again. */
  readonly failed?: number;
  readonly complete: boolean;
  readonly settlesAt?: string;
  /** What outlives the purge, out of reach of any API, and until when (README: Erasure). */
  readonly remains: readonly Remaining[];
}

/**
 * Forgets the customer's tokens and marks the connection REVOKED; with `purge`, also deletes
 * for good every raw object of the customer (every version: the bucket is versioned) and every
 * record, until done or until `deadline` (epoch ms): then `complete: false` asks the caller to
 * call again, which continues where this stopped. The answer names what no API can remove
 * (backups, logs) and until when.
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
  const purgeRequestedAt = await connections.markPurgeRequested(customerId, sweepStartedAt);
  const settlesAt = Date.parse(purgeRequestedAt) + (options.settleMs ?? 0);
  const shouldStop = () => options.deadline !== undefined && clock.now() >= options.deadline;
  let objects = 0;
  let records = 0;
  let complete = true;
  const refused: Record<string, number> = {};
  const count = (progress: DeletionProgress) => {
    for (const [code, n] of Object.entries(progress.refused ?? {})) refused[code] = (refused[code] ?? 0) + n;
    complete &&= progress.complete;
    return progress.deleted;
  };
  // Each store checks the time budget before every page; a refusal does not stop the sweep.
  for (const prefix of options.rawPrefixes(customerId)) objects += count(await data.deleteObjects(prefix, shouldStop));
  for (const partition of DATASET_PARTITIONS) {
    if (shouldStop()) {
      complete = false;
      break;
    }
    records += count(await data.deleteRecords(`${customerId}#${partition}`, shouldStop));
  }
  const failed = Object.values(refused).reduce((sum, n) => sum + n, 0);
  if (failed > 0) logger.warn('S3 refused to delete some of the customer’s object versions; the next call tries again', { customerId, refused });
  const settled = sweepStartedAt >= settlesAt;
  logger.info('customer data purged', { customerId, objects, records, failed, complete, settled });
  if (complete && settled) await deps.onPurged?.({ ...record, status: 'REVOKED' }, `${customerId}#PURGED#${purgeRequestedAt}`);
  return {
    customerId,
    status: 'REVOKED',
    purged: {
      objects,
      records,
      ...(failed > 0 ? { failed } : {}),
      complete: complete && settled,
      ...(settled ? {} : { settlesAt: new Date(settlesAt).toISOString() }),
      remains: remainsAfterPurge(deps.retention, clock.now()),
    },
  };
}
