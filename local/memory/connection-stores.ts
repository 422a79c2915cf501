import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { ConnectionRecord, ConnectionStatus, LastImport, PendingAuthorization } from '../../lambdas/core/connections/model';
import { statusChangeOf } from '../../lambdas/adapters/connection-stores';
import type { AuthorizationStateStore, ConnectionRepository, ConnectionStatusStore, StatusChange } from '../../lambdas/core/ports';
import { GSI_PK, GSI_SK, PK, SK, TTL, withoutKeys, type Item, type MemoryTable } from './table';

/** DynamoDB returns a query's items a page (1 MB) at a time; this many connection rows is about that. */
const PAGE = 1_000;

const connectionKey = (customerId: string) => ({ [PK]: `CONN#${customerId}`, [SK]: 'CONNECTION' });

/** Items every index page reads: gsi1 partitions page by page, each page read when reached (ExclusiveStartKey). */
export async function* pagesOf<T>(table: MemoryTable, partition: string, before?: string): AsyncGenerator<T> {
  let last: string | undefined;
  do {
    const page = table.queryIndex(partition, { before, limit: PAGE, startAfter: last });
    for (const item of page.items) yield withoutKeys<T>(item);
    last = page.items.length === PAGE ? page.last : undefined;
    // A page is one request: let others run between them, as between DynamoDB round trips.
    await Promise.resolve();
  } while (last !== undefined);
}

/** lambdas/adapters/connection-stores.ts `DynamoDbConnectionRepository`, in memory: the same items, keys and conditions. */
export class MemoryConnectionRepository implements ConnectionRepository {
  constructor(private readonly table: MemoryTable) {}

  get(customerId: string): Promise<ConnectionRecord | undefined> {
    const item = this.table.get(`CONN#${customerId}`, 'CONNECTION');
    return Promise.resolve(item ? withoutKeys<ConnectionRecord>(item) : undefined);
  }

  put(record: ConnectionRecord): Promise<void> {
    this.table.put({ ...connectionKey(record.customerId), ...record, [GSI_PK]: `CONNSTATUS#${record.status}`, [GSI_SK]: record.customerId });
    return Promise.resolve();
  }

  listByStatus(status: ConnectionStatus): AsyncIterable<ConnectionRecord> {
    return pagesOf<ConnectionRecord>(this.table, `CONNSTATUS#${status}`);
  }

  markPurgeRequested(customerId: string, now: number): Promise<string> {
    const updated = this.table.update(
      `CONN#${customerId}`,
      'CONNECTION',
      (item) => ({ ...item, purgeRequestedAt: item.purgeRequestedAt ?? new Date(now).toISOString() }),
      (current) => current !== undefined,
    );
    if (!updated) return Promise.reject(conditionFailed());
    return Promise.resolve(updated.purgeRequestedAt as string);
  }

  setNextImport(customerId: string, nextImportAt: string, expected: string | undefined): Promise<boolean> {
    const updated = this.table.update(
      `CONN#${customerId}`,
      'CONNECTION',
      (item) => ({ ...item, nextImportAt }),
      (current) => (expected === undefined ? current !== undefined && current.nextImportAt === undefined : current?.nextImportAt === expected),
    );
    return Promise.resolve(updated !== undefined);
  }

  setStatus(customerId: string, status: ConnectionStatus, reason: string, now: number, from?: readonly ConnectionStatus[]): Promise<StatusChange | undefined> {
    // A connection gone, already in the status, or in one it may not leave this way, is left alone.
    const previous = this.table.get(`CONN#${customerId}`, 'CONNECTION');
    const updated = this.table.update(
      `CONN#${customerId}`,
      'CONNECTION',
      (item) => ({ ...item, status, statusReason: reason, statusChangedAt: new Date(now).toISOString(), [GSI_PK]: `CONNSTATUS#${status}` }),
      (current) => current !== undefined && current.status !== status && (from === undefined || from.includes(current.status as ConnectionStatus)),
    );
    return Promise.resolve(updated && previous ? statusChangeOf(previous) : undefined);
  }

  recordImport(customerId: string, lastImport: LastImport): Promise<void> {
    // A retried older request does not hide what became of a newer one.
    this.table.update(
      `CONN#${customerId}`,
      'CONNECTION',
      (item) => ({ ...item, lastImport }),
      (current) => current !== undefined && (current.lastImport === undefined || (current.lastImport as LastImport).requestedAt <= lastImport.requestedAt),
    );
    return Promise.resolve();
  }
}

/** lambdas/adapters/dynamodb-stores.ts `DynamoDbConnectionStatusStore`, in memory. */
export class MemoryConnectionStatusStore implements ConnectionStatusStore {
  constructor(private readonly table: MemoryTable) {}

  markRelinkRequired(customerId: string, reason: string, now: number): Promise<StatusChange | undefined> {
    // No connection row (deleted meanwhile), or one the integrator disconnected: nothing to mark.
    const previous = this.table.get(`CONN#${customerId}`, 'CONNECTION');
    const updated = this.table.update(
      `CONN#${customerId}`,
      'CONNECTION',
      (item) => ({ ...item, status: 'RELINK_REQUIRED', statusReason: reason, statusChangedAt: new Date(now).toISOString(), [GSI_PK]: 'CONNSTATUS#RELINK_REQUIRED' }),
      (current) => current !== undefined && (current.status === 'ACTIVE' || current.status === 'ON_HOLD'),
    );
    return Promise.resolve(updated && previous ? statusChangeOf(previous) : undefined);
  }
}

/** lambdas/adapters/connection-stores.ts `DynamoDbAuthorizationStateStore`, in memory. */
export class MemoryAuthorizationStateStore implements AuthorizationStateStore {
  constructor(private readonly table: MemoryTable) {}

  put(pending: PendingAuthorization): Promise<void> {
    const item: Item = { [PK]: `STATE#${pending.state}`, [SK]: 'STATE', ...pending, expiresAtMs: pending.expiresAt, [TTL]: Math.ceil(pending.expiresAt / 1000) };
    if (!this.table.put(item, (current) => current === undefined)) return Promise.reject(conditionFailed());
    return Promise.resolve();
  }

  consume(state: string): Promise<PendingAuthorization | undefined> {
    const deleted = this.table.delete(`STATE#${state}`, 'STATE', (current) => current !== undefined);
    if (!deleted) return Promise.resolve(undefined);
    const { [PK]: _pk, [SK]: _sk, [TTL]: _ttl, expiresAtMs, ...pending } = deleted;
    return Promise.resolve({ ...pending, expiresAt: expiresAtMs as number } as PendingAuthorization);
  }
}

/** What DynamoDB throws for a failed condition the adapter does not catch. */
export function conditionFailed(): Error {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}
