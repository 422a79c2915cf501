import type { ConnectionDirectory, ConnectionSlice, HistoryItem, HistoryPosition, ImportHistory } from '../../lambdas/core/connections/listing';
import type { ConnectionRecord, ConnectionStatus } from '../../lambdas/core/connections/model';
import { controlItemPrefixes } from '../../lambdas/core/definitions';
import { HISTORY_SK, indexPosition, PK, withoutKeys, type MemoryTable } from './table';

/**
 * lambdas/adapters/listings.ts `DynamoDbConnectionDirectory`, in memory: one read of at most
 * `limit` index items, `brand` filtered after it, and a last position whenever `limit` items
 * were read (DynamoDB's LastEvaluatedKey then, even when nothing follows).
 */
export class MemoryConnectionDirectory implements ConnectionDirectory {
  constructor(private readonly table: MemoryTable) {}

  slice(status: ConnectionStatus, options: { after?: string; limit: number; brand?: string }): Promise<ConnectionSlice> {
    const startAfter = options.after === undefined ? undefined : indexPosition(options.after, `CONN#${options.after}`, 'CONNECTION');
    const { items } = this.table.queryIndex(`CONNSTATUS#${status}`, { startAfter, limit: options.limit });
    const connections = items.map((item) => withoutKeys<ConnectionRecord>(item)).filter((record) => options.brand === undefined || record.brand === options.brand);
    const last = items.length === options.limit ? withoutKeys<ConnectionRecord>(items.at(-1)!).customerId : undefined;
    return Promise.resolve({ connections, read: items.length, ...(last === undefined ? {} : { last }) });
  }
}

/** lambdas/adapters/listings.ts `DynamoDbImportHistory`, in memory: gsi2, newest first. */
export class MemoryImportHistory implements ImportHistory {
  constructor(private readonly table: MemoryTable) {}

  slice(customerId: string, options: { before?: HistoryPosition; limit: number }): Promise<{ queries: HistoryItem[]; last?: HistoryPosition }> {
    const startAfter = options.before && indexPosition(options.before.createdAt, `${controlItemPrefixes.query}${options.before.queryId}`, 'QUERY');
    const { items } = this.table.queryIndex(`QHISTORY#${customerId}`, { index: 'gsi2', reverse: true, startAfter, limit: options.limit });
    const lastItem = items.length === options.limit ? items.at(-1) : undefined;
    return Promise.resolve({
      queries: items.map((item) => withoutKeys<HistoryItem>(item)),
      ...(lastItem ? { last: { createdAt: lastItem[HISTORY_SK] as string, queryId: (lastItem[PK] as string).slice(controlItemPrefixes.query.length) } } : {}),
    });
  }
}
