import type { LeaseStore, RateLimitStore, RateLog } from '../../lambdas/core/ports';
import { PK, SK, TTL, type MemoryTable } from './table';

/** lambdas/adapters/dynamodb-stores.ts `DynamoDbLeaseStore`, in memory: a conditional put that succeeds when free or expired. */
export class MemoryLeaseStore implements LeaseStore {
  constructor(private readonly table: MemoryTable) {}

  acquire(key: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    const written = this.table.put(
      { [PK]: key, [SK]: 'LEASE', holder, leaseUntil: now + ttlMs, [TTL]: Math.ceil((now + ttlMs) / 1000) + 3600 },
      (current) => current === undefined || (current.leaseUntil as number) < now,
    );
    return Promise.resolve(written);
  }

  release(key: string, holder: string): Promise<void> {
    this.table.delete(key, 'LEASE', (current) => current?.holder === holder);
    return Promise.resolve();
  }
}

/** lambdas/adapters/dynamodb-stores.ts `DynamoDbRateLimitStore`, in memory: logs and counters with optimistic concurrency. */
export class MemoryRateLimitStore implements RateLimitStore {
  constructor(private readonly table: MemoryTable) {}

  readLog(key: string): Promise<RateLog> {
    const item = this.table.get(key, 'LOG');
    return Promise.resolve({ times: (item?.times as number[] | undefined) ?? [], version: (item?.version as number | undefined) ?? 0 });
  }

  writeLog(key: string, times: readonly number[], expectedVersion: number, expiresAt: number): Promise<boolean> {
    const written = this.table.put({ [PK]: key, [SK]: 'LOG', times: [...times], version: expectedVersion + 1, [TTL]: expiresAt }, (current) =>
      expectedVersion === 0 ? current === undefined : current?.version === expectedVersion,
    );
    return Promise.resolve(written);
  }

  incrementBelow(key: string, limit: number, expiresAt: number): Promise<boolean> {
    const updated = this.table.update(
      key,
      'COUNTER',
      (item) => ({ ...item, count: ((item.count as number | undefined) ?? 0) + 1, [TTL]: expiresAt }),
      (current) => current?.count === undefined || (current.count as number) < limit,
    );
    return Promise.resolve(updated !== undefined);
  }
}
