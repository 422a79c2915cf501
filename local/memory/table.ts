import { controlTable } from '../../lambdas/core/definitions';

export type Item = Record<string, unknown>;

/** The control table's key attribute names, from its shared definition (as lambdas/adapters/control-table.ts reads them). */
export const PK = controlTable.partitionKey.name;
export const SK = controlTable.sortKey.name;
export const GSI_PK = controlTable.globalSecondaryIndexes[0].partitionKey.name;
export const GSI_SK = controlTable.globalSecondaryIndexes[0].sortKey.name;
export const HISTORY_PK = controlTable.globalSecondaryIndexes[1].partitionKey.name;
export const HISTORY_SK = controlTable.globalSecondaryIndexes[1].sortKey.name;
export const TTL = controlTable.timeToLiveAttribute;

/** An item without the table's key attributes: the domain record it stores (lambdas/adapters/control-table.ts `withoutKeys`). */
export function withoutKeys<T>(item: Item): T {
  const { [PK]: _pk, [SK]: _sk, [GSI_PK]: _gpk, [GSI_SK]: _gsk, [HISTORY_PK]: _hpk, [HISTORY_SK]: _hsk, ...record } = item;
  return record as T;
}

/**
 * What DynamoDB stores of a value written through the document client with
 * `removeUndefinedValues` (lambdas/shared/runtime.ts): a copy, without undefined attributes,
 * so neither the writer nor a reader can change the stored item afterwards.
 */
export function stored<T>(value: T): T {
  if (Array.isArray(value)) return value.filter((element) => element !== undefined).map((element: unknown) => stored(element)) as T;
  if (value === null || typeof value !== 'object') return value;
  // A string or number set (SS/NS), as the document client writes a JS Set.
  if (value instanceof Set) return new Set(value) as T;
  const copy: Item = {};
  for (const [key, attribute] of Object.entries(value as Item)) if (attribute !== undefined) copy[key] = stored(attribute);
  return copy as T;
}

/**
 * One DynamoDB table with its sparse `gsi1` and `gsi2`, in memory, for the in-memory port adapters
 * (local/memory/*-stores.ts). Each of its writes is one DynamoDB write: the whole item is
 * checked against the caller's condition (the adapter's ConditionExpression, as a predicate
 * of the item as stored, or undefined when there is none) and written atomically; an update
 * of an absent item creates it, as UpdateItem does. Reads are strongly consistent and so is
 * the index (DynamoDB's GSI is eventually consistent: the simulation sees it settled). Index
 * items with the same sort key come in the order of their table key (DynamoDB leaves that
 * order unspecified).
 */
export class MemoryTable {
  private readonly partitions = new Map<string, Map<string, Item>>();
  /** Per index, its partitions' sorted positions. */
  private readonly indexes = new Map<IndexName, Map<string, SortedKeys>>(INDEXES.map((index) => [index.name, new Map<string, SortedKeys>()]));

  get(pk: string, sk: string): Item | undefined {
    const item = this.partitions.get(pk)?.get(sk);
    return item === undefined ? undefined : stored(item);
  }

  /** PutItem: replaces the whole item if `condition` holds of the current one. */
  put(item: Item, condition?: (current: Item | undefined) => boolean): boolean {
    const pk = item[PK] as string;
    const sk = item[SK] as string;
    const current = this.partitions.get(pk)?.get(sk);
    if (condition && !condition(current)) return false;
    this.write(pk, sk, current, stored(item));
    return true;
  }

  /**
   * UpdateItem: `change` gets the current item (or just its key, when absent) and returns the
   * new one. Returns the new item (ReturnValues ALL_NEW), or undefined when `condition` failed.
   */
  update(pk: string, sk: string, change: (current: Item) => Item, condition?: (current: Item | undefined) => boolean): Item | undefined {
    const current = this.partitions.get(pk)?.get(sk);
    if (condition && !condition(current)) return undefined;
    const next = stored({ ...change(stored(current ?? { [PK]: pk, [SK]: sk })), [PK]: pk, [SK]: sk });
    this.write(pk, sk, current, next);
    return stored(next);
  }

  /** DeleteItem: returns the deleted item (ALL_OLD), or undefined when absent or `condition` failed. */
  delete(pk: string, sk: string, condition?: (current: Item | undefined) => boolean): Item | undefined {
    const current = this.partitions.get(pk)?.get(sk);
    if (condition && !condition(current)) return undefined;
    if (!current) return undefined;
    this.unindex(current);
    this.partitions.get(pk)!.delete(sk);
    if (this.partitions.get(pk)!.size === 0) this.partitions.delete(pk);
    return current;
  }

  /** Query on the base table: a partition's items whose sort key begins with `prefix`, in sort-key order. */
  queryPartition(pk: string, prefix: string): Item[] {
    const partition = this.partitions.get(pk);
    if (!partition) return [];
    return [...partition.keys()]
      .filter((sk) => sk.startsWith(prefix))
      .sort()
      .map((sk) => stored(partition.get(sk)!));
  }

  /**
   * Query on an index (gsi1 unless named): the items of a partition in sort-key order (or the
   * reverse, as ScanIndexForward false), those whose sort key sorts before `before` when given,
   * `limit` at most, from after `startAfter` (a position from `indexPosition` or a previous
   * `last`, as ExclusiveStartKey).
   */
  queryIndex(partition: string, options: { before?: string; limit?: number; startAfter?: string; index?: IndexName; reverse?: boolean } = {}): { items: Item[]; last?: string } {
    const sorted = this.indexes.get(options.index ?? 'gsi1')!.get(partition);
    const keys = (options.reverse ? sorted?.rangeDescending(options.startAfter, options.limit) : sorted?.range(options.startAfter, options.before, options.limit)) ?? [];
    const items = keys.map((key) => {
      const [, pk, sk] = key.split(SEPARATOR);
      return stored(this.partitions.get(pk)!.get(sk)!);
    });
    return { items, last: keys.at(-1) };
  }

  /** How many items a gsi1 partition holds. */
  indexSize(partition: string): number {
    return this.indexes.get('gsi1')!.get(partition)?.size ?? 0;
  }

  private write(pk: string, sk: string, current: Item | undefined, next: Item): void {
    if (current) this.unindex(current);
    let partition = this.partitions.get(pk);
    if (!partition) this.partitions.set(pk, (partition = new Map<string, Item>()));
    partition.set(sk, next);
    for (const index of INDEXES) {
      const key = indexKey(index, next);
      if (!key) continue;
      const partitions = this.indexes.get(index.name)!;
      let keys = partitions.get(key.partition);
      if (!keys) partitions.set(key.partition, (keys = new SortedKeys()));
      keys.add(key.sort);
    }
  }

  private unindex(item: Item): void {
    for (const index of INDEXES) {
      const key = indexKey(index, item);
      if (key) this.indexes.get(index.name)!.get(key.partition)?.delete(key.sort);
    }
  }
}

/** Sorts after every character a key holds: index positions are `<index sort key>\u0001<pk>\u0001<sk>`. */
const SEPARATOR = '\u0001';

const INDEXES = controlTable.globalSecondaryIndexes.map((index) => ({ name: index.indexName, pk: index.partitionKey.name, sk: index.sortKey.name }));
type IndexName = (typeof controlTable.globalSecondaryIndexes)[number]['indexName'];

/** An item's position in an index partition, as ExclusiveStartKey names it: its index sort key and table key. */
export function indexPosition(sort: string, pk: string, sk: string): string {
  return [sort, pk, sk].join(SEPARATOR);
}

/** An item's place in an index, if it has one (both attributes set: the indexes are sparse). */
function indexKey(index: (typeof INDEXES)[number], item: Item): { partition: string; sort: string } | undefined {
  const partition = item[index.pk];
  const sort = item[index.sk];
  if (typeof partition !== 'string' || typeof sort !== 'string') return undefined;
  return { partition, sort: indexPosition(sort, item[PK] as string, item[SK] as string) };
}

/** Strings in order, with binary-search insert, delete and range reads. */
export class SortedKeys {
  private readonly keys: string[] = [];

  get size(): number {
    return this.keys.length;
  }

  add(key: string): void {
    const at = this.position(key);
    if (this.keys[at] !== key) this.keys.splice(at, 0, key);
  }

  delete(key: string): void {
    const at = this.position(key);
    if (this.keys[at] === key) this.keys.splice(at, 1);
  }

  /** How many keys sort below `bound`. */
  countBefore(bound: string): number {
    return this.position(bound);
  }

  /** Keys after `after` (exclusive) and below `before` (exclusive), `limit` at most. */
  range(after: string | undefined, before: string | undefined, limit = Number.POSITIVE_INFINITY): string[] {
    let start = after === undefined ? 0 : this.position(after);
    if (after !== undefined && this.keys[start] === after) start++;
    const end = before === undefined ? this.keys.length : this.position(before);
    return this.keys.slice(start, Math.max(start, Math.min(end, start + limit)));
  }

  /** Keys below `before` (exclusive; all when undefined), highest first, `limit` at most. */
  rangeDescending(before: string | undefined, limit = Number.POSITIVE_INFINITY): string[] {
    const end = before === undefined ? this.keys.length : this.position(before);
    return this.keys.slice(Math.max(0, end - limit), end).reverse();
  }

  /** The first index whose key is not below `key`. */
  private position(key: string): number {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.keys[middle] < key) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
