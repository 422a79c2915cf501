import type { TokenAgeIndex } from '../../lambdas/core/ports';
import { SortedKeys } from './table';
import { orderKey, tokenAgeKey as tokenKey, type ImportEntry, type ImportEntryState, type ImportScheduleStore } from '../../lambdas/core/queries/import-schedule';

/**
 * The import schedule in memory, for the simulation and unit tests: the same contract as the
 * DynamoDB store (test/integration/import-schedule-store.test.ts runs one suite against both).
 * Lists sort on every call: fine for the simulation's tens of thousands of entries only
 * because it keeps each state's entries apart and in order.
 */
export class MemoryImportScheduleStore implements ImportScheduleStore {
  private readonly entries = new Map<string, ImportEntry>();
  private readonly ordered = new Map<string, SortedKeys>();
  private readonly pacers = new Map<string, { nextSlotAt: number; version: number }>();

  get(customerId: string): Promise<ImportEntry | undefined> {
    return Promise.resolve(this.entries.get(customerId));
  }

  replace(entry: ImportEntry, expectedVersion: number | undefined): Promise<boolean> {
    const current = this.entries.get(entry.customerId);
    if (current?.version !== expectedVersion) return Promise.resolve(false);
    if (current) this.index(current).delete(orderKey(current));
    const stored = { ...entry, version: (expectedVersion ?? 0) + 1 };
    this.entries.set(entry.customerId, stored);
    this.index(stored).add(orderKey(stored));
    return Promise.resolve(true);
  }

  remove(customerId: string): Promise<void> {
    const current = this.entries.get(customerId);
    if (current) this.index(current).delete(orderKey(current));
    this.entries.delete(customerId);
    return Promise.resolve();
  }

  list(brand: string, state: ImportEntryState, options: { before?: string; limit: number }): Promise<ImportEntry[]> {
    const keys = this.ordered.get(`${brand}#${state}`)?.range(undefined, options.before, options.limit) ?? [];
    return Promise.resolve(keys.map((key) => this.entries.get(key.slice(key.lastIndexOf('|') + 1))!));
  }

  count(brand: string, state: ImportEntryState, before: string): Promise<number> {
    return Promise.resolve(this.ordered.get(`${brand}#${state}`)?.countBefore(before) ?? 0);
  }

  pacer(brand: string): Promise<{ nextSlotAt: number; version: number } | undefined> {
    return Promise.resolve(this.pacers.get(brand));
  }

  movePacer(brand: string, nextSlotAt: number, expectedVersion: number | undefined): Promise<boolean> {
    if (this.pacers.get(brand)?.version !== expectedVersion) return Promise.resolve(false);
    this.pacers.set(brand, { nextSlotAt, version: (expectedVersion ?? 0) + 1 });
    return Promise.resolve(true);
  }

  private index(entry: ImportEntry): SortedKeys {
    const name = `${entry.brand}#${entry.state}`;
    let keys = this.ordered.get(name);
    if (!keys) this.ordered.set(name, (keys = new SortedKeys()));
    return keys;
  }
}

/** Refresh-token ages in memory (see MemoryImportScheduleStore). */
export class MemoryTokenAgeIndex implements TokenAgeIndex {
  private readonly issued = new Map<string, number>();
  private readonly ordered = new SortedKeys();

  record(customerId: string, refreshTokenIssuedAt: number): Promise<void> {
    const current = this.issued.get(customerId);
    if (current !== undefined) this.ordered.delete(tokenKey(current, customerId));
    this.issued.set(customerId, refreshTokenIssuedAt);
    this.ordered.add(tokenKey(refreshTokenIssuedAt, customerId));
    return Promise.resolve();
  }

  issuedBefore(before: number, limit: number): Promise<{ customerId: string; refreshTokenIssuedAt: number }[]> {
    const keys = this.ordered.range(undefined, tokenKey(before, ''), limit);
    return Promise.resolve(keys.map((key) => ({ customerId: key.slice(key.indexOf('|') + 1), refreshTokenIssuedAt: this.issued.get(key.slice(key.indexOf('|') + 1))! })));
  }

  remove(customerId: string): Promise<void> {
    const current = this.issued.get(customerId);
    if (current !== undefined) this.ordered.delete(tokenKey(current, customerId));
    this.issued.delete(customerId);
    return Promise.resolve();
  }
}
