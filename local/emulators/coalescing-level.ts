/**
 * Turns the single-key LevelDB calls dynalite makes into a few native calls. dynalite reads and
 * writes one key at a time — per item of a BatchWriteItem a read of the table's description, a
 * read of the item and a put; per key of a BatchGetItem two reads — and each `get`/`put` of
 * classic-level is one task handed to libuv's thread pool and back. On their own, 100 parallel
 * `get`s cost 7.4 µs of CPU a key against 1.2-2.9 for one `getMany` of the 100, and 25
 * parallel `put`s 14.2 µs a key against 6.1 for one `batch` of the 25; with about five calls
 * per record, that was a quarter of dynalite's CPU under load (`bench/dynalite-load.ts`: 229-263
 * µs per record before, 165 after, with the larger memtable of bounded-level.ts). Here the
 * calls made in one turn of the event loop go out together at the next: the writes as one
 * `batch()`, the reads (each key once) as one `getMany()`.
 *
 * A read sees every write issued before it (one LevelDB has not yet acknowledged is answered
 * from memory, as the value the database would return: classic-level alone does not promise
 * even that for calls in flight), a write settles once LevelDB has it, as an unsynced put did,
 * and a failed `batch()` or `getMany()` rejects exactly the calls it carried. Calls with
 * options of their own go straight to the database.
 */

/** What this needs of an abstract-level database (classic-level's `Level`). */
export interface CoalescedDatabase {
  getMany(keys: string[], options: { valueEncoding: string }): Promise<(string | undefined)[]>;
  batch(operations: BatchOperation[], options?: unknown): Promise<void>;
}

export interface BatchOperation {
  readonly type: 'put' | 'del';
  readonly key: string;
  readonly value?: string;
  readonly valueEncoding?: string;
}

/** The database's value encoding: `json` for dynalite (level-transcoder's, whose format is utf8). */
export interface TextEncoding {
  readonly format: string;
  encode(value: unknown): string;
  decode(text: string): unknown;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A write not yet acknowledged by LevelDB: what a read of its key answers meanwhile. */
interface PendingWrite {
  readonly text: string | undefined;
}

export class Coalescer {
  private writes: BatchOperation[] = [];
  private writeWaiters: Waiter<void>[] = [];
  private reads = new Map<string, Waiter<unknown>[]>();
  /** Keys written and not yet acknowledged, with the last value written (undefined: deleted). */
  private readonly unwritten = new Map<string, PendingWrite>();
  private scheduled = false;

  constructor(
    private readonly db: CoalescedDatabase,
    private readonly encoding: TextEncoding,
  ) {}

  get(key: string): Promise<unknown> {
    const pending = this.unwritten.get(key);
    if (pending) return Promise.resolve(pending.text === undefined ? undefined : this.encoding.decode(pending.text));
    return new Promise((resolve, reject) => {
      const waiters = this.reads.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.reads.set(key, [{ resolve, reject }]);
      this.schedule();
    });
  }

  put(key: string, value: unknown): Promise<void> {
    return this.write(() => [{ type: 'put', key, value: this.encoded(value) }]);
  }

  del(key: string): Promise<void> {
    return this.write(() => [{ type: 'del', key }]);
  }

  /** An array batch of puts and dels: written with the others, all or none (one LevelDB batch). */
  batch(operations: readonly { type: 'put' | 'del'; key: string; value?: unknown }[]): Promise<void> {
    return this.write(() => operations.map((operation) => (operation.type === 'put' ? { type: 'put', key: operation.key, value: this.encoded(operation.value) } : { type: 'del', key: operation.key })));
  }

  /** A value the encoding cannot write fails its own call, not the batch it would have joined. */
  private encoded(value: unknown): string {
    const text = value === undefined || value === null ? undefined : this.encoding.encode(value);
    if (typeof text !== 'string') throw Object.assign(new Error('Value cannot be null or undefined'), { code: 'LEVEL_INVALID_VALUE' });
    return text;
  }

  private write(prepare: () => BatchOperation[]): Promise<void> {
    let operations: BatchOperation[];
    try {
      operations = prepare();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // Nothing to write (dynalite's DeleteTable of an empty table or of its tags): no flush would settle it.
    if (operations.length === 0) return Promise.resolve();
    for (const operation of operations) this.unwritten.set(operation.key, { text: operation.value });
    this.writes.push(...operations);
    return new Promise((resolve, reject) => {
      this.writeWaiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate, not a microtask: dynalite issues an action's reads from separate callbacks of one turn.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const writes = this.writes;
    const writeWaiters = this.writeWaiters;
    const reads = this.reads;
    this.writes = [];
    this.writeWaiters = [];
    this.reads = new Map();
    if (writes.length > 0) {
      // What this batch wrote stays readable from memory until LevelDB has it (a later write of a key replaces its entry).
      const entries = writes.map((operation) => [operation.key, this.unwritten.get(operation.key)] as const);
      const settle = () => {
        for (const [key, entry] of entries) if (this.unwritten.get(key) === entry) this.unwritten.delete(key);
      };
      this.db
        .batch(writes.map((operation) => (operation.type === 'put' ? { ...operation, valueEncoding: this.encoding.format } : operation)))
        .then(
          () => {
            settle();
            for (const waiter of writeWaiters) waiter.resolve();
          },
          (error: unknown) => {
            settle();
            for (const waiter of writeWaiters) waiter.reject(error);
          },
        );
    }
    if (reads.size > 0) {
      const keys = [...reads.keys()];
      this.db.getMany(keys, { valueEncoding: this.encoding.format }).then(
        (texts) => {
          keys.forEach((key, i) => {
            const text = texts[i];
            // Decoded once per caller: dynalite may change the object it gets (a table's description).
            for (const waiter of reads.get(key)!) {
              try {
                waiter.resolve(text === undefined ? undefined : this.encoding.decode(text));
              } catch (error) {
                waiter.reject(error);
              }
            }
          });
        },
        (error: unknown) => {
          for (const waiters of reads.values()) for (const waiter of waiters) waiter.reject(error);
        },
      );
    }
  }
}
