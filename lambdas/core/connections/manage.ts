import { DATASET_PARTITIONS } from './partitions';
import type { Clock, ConnectionRepository, CustomerDataStore, Logger, SecretAdmin, WorkQueue } from '../ports';
import { ConflictError, NotFoundError, type ConnectionRecord, type ImportRequest } from './model';

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

/** Asks for an import now; only an ACTIVE connection can import. */
export async function requestImport(deps: ManageDeps, customerId: string): Promise<{ queued: true }> {
  const record = await deps.connections.get(customerId);
  if (!record) throw new NotFoundError(`no connection for customer ${customerId}`);
  if (record.status !== 'ACTIVE') throw new ConflictError(`connection ${customerId} is ${record.status}; the customer must connect again`);
  const request: ImportRequest = { customerId, reason: 'requested', requestedAt: new Date(deps.clock.now()).toISOString() };
  await deps.imports.send(request);
  return { queued: true };
}

export interface DisconnectResult {
  readonly customerId: string;
  readonly status: 'REVOKED';
  /** With purge: what was deleted by this call, and whether everything is gone. */
  readonly purged?: { readonly objects: number; readonly records: number; readonly complete: boolean };
}

/**
 * Forgets the customer's tokens and marks the connection REVOKED; with `purge`, also deletes
 * every raw object and record of the customer, until done or until `deadline` (epoch ms):
 * then `complete: false` asks the caller to call again, which continues where this stopped.
 */
export async function disconnect(
  deps: ManageDeps,
  customerId: string,
  options: { purge: boolean; rawPrefixes: (customerId: string) => string[]; deadline?: number },
): Promise<DisconnectResult> {
  const { connections, secretAdmin, data, clock, logger } = deps;
  const record = await connections.get(customerId);
  if (!record) throw new NotFoundError(`no connection for customer ${customerId}`);
  await secretAdmin.remove(record.secretId);
  await connections.setStatus(customerId, 'REVOKED', 'disconnected by the integrator', clock.now());
  logger.info('connection revoked', { customerId, purge: options.purge });
  if (!options.purge) return { customerId, status: 'REVOKED' };

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
  logger.info('customer data purged', { customerId, objects, records, complete });
  return { customerId, status: 'REVOKED', purged: { objects, records, complete } };
}
