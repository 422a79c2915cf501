import { createRequire } from 'node:module';
import { Coalescer, type CoalescedDatabase, type TextEncoding } from './coalescing-level';

/**
 * Bounds the memory of dynalite's LevelDB (on disk, `level`) and of its in-memory database
 * (`memory-level`), which grew with every write: ≈ 8.6 MiB of RSS per MiB imported.
 *
 * dynalite reads through streams it builds over `db.values()` / `db.keys()` iterators and, when
 * a stream ends or is destroyed, closes the iterator only through `iterator.return`, which
 * abstract-level 3's iterators do not have: every Query and Scan left an iterator open, and an
 * open iterator holds a snapshot of the database. LevelDB then keeps every table file a
 * snapshot may read (1,613 files, 2.8 GB, for 138 live ones at 0.5 M records, each mapped into
 * the process) and memory-level keeps every overwritten value. Here an iterator closes itself
 * when it reaches its end, and gets the `return` dynalite calls.
 *
 * On disk, LevelDB also maps each table file it keeps open (1,000 by default, 2 MB each) and
 * the pages read count as resident memory: 64 open files cap that near 128 MB.
 *
 * On disk, the single-key reads and writes dynalite makes in one turn of the event loop go to
 * LevelDB together (coalescing-level.ts): one native call each for the turn's reads and writes
 * instead of one per key.
 *
 * dynalite builds its database with `new Level(path, …)` or `new MemoryLevel(…)`, reading the
 * classes when its module loads: this replaces both exports with subclasses before that, so
 * import this module before dynalite.
 */
const MAX_OPEN_FILES = 64;

/**
 * LevelDB's memtable, 4 MiB by default: each one full becomes a level-0 table that compaction
 * merges down, and on load's writes that merging cost dynalite's background threads 60-100 µs
 * of CPU per record by 200,000 records (`bench/dynalite-load.ts`, its "node" threads); with
 * 16 MiB, 42-47 µs. It costs up to twice that in memory (the memtable being written and the
 * one being flushed).
 */
const WRITE_BUFFER_BYTES = 16 * 1024 * 1024;

interface LevelIterator {
  next(): Promise<unknown>;
  close(): Promise<void>;
  return?: () => Promise<{ done: true; value: undefined }>;
}
interface LevelDatabase extends CoalescedDatabase {
  values(options?: unknown): LevelIterator;
  keys(options?: unknown): LevelIterator;
  get(key: unknown, options?: unknown): Promise<unknown>;
  put(key: unknown, value: unknown, options?: unknown): Promise<void>;
  del(key: unknown, options?: unknown): Promise<void>;
  batch(operations?: unknown, options?: unknown): Promise<void>;
  valueEncoding(): TextEncoding;
}
type LevelClass = new (...args: never[]) => LevelDatabase;

/** Closes the iterator at its end, and when dynalite's stream is destroyed (its `return`). */
function closing(iterator: LevelIterator): LevelIterator {
  const next = iterator.next.bind(iterator);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await iterator.close();
  };
  iterator.next = async () => {
    const value = await next();
    if (value === undefined) await close();
    return value;
  };
  iterator.return = async () => {
    await close();
    return { done: true, value: undefined };
  };
  return iterator;
}

const load = createRequire(__filename);

function patch(moduleName: string, exportName: string, extraOptions: Record<string, unknown>, coalesce: boolean): void {
  const exports = load(moduleName) as Record<string, LevelClass>;
  const Base = exports[exportName];
  if (Base.name.startsWith('Bounded')) return;
  const Bounded = class extends Base {
    /** Set when the database's values are text (dynalite's json): the coalesced path writes them encoded. */
    private readonly coalescer: Coalescer | undefined;

    constructor(...args: never[]) {
      // (location, options) for Level, (options) for MemoryLevel: our options go into the last.
      const last = args.length - 1;
      const options = { ...extraOptions, ...((args[last] as Record<string, unknown> | undefined) ?? {}) };
      super(...([...args.slice(0, last), options] as never[]));
      const encoding = this.valueEncoding();
      const direct: CoalescedDatabase = { getMany: (keys, getOptions) => super.getMany(keys, getOptions), batch: (operations, batchOptions) => super.batch(operations, batchOptions) };
      this.coalescer = coalesce && encoding.format === 'utf8' ? new Coalescer(direct, encoding) : undefined;
    }

    override get(key: unknown, options?: unknown): Promise<unknown> {
      return this.coalescer && typeof key === 'string' && options === undefined ? this.coalescer.get(key) : super.get(key, options);
    }

    override put(key: unknown, value: unknown, options?: unknown): Promise<void> {
      return this.coalescer && typeof key === 'string' && options === undefined ? this.coalescer.put(key, value) : super.put(key, value, options);
    }

    override del(key: unknown, options?: unknown): Promise<void> {
      return this.coalescer && typeof key === 'string' && options === undefined ? this.coalescer.del(key) : super.del(key, options);
    }

    override batch(operations?: unknown, options?: unknown): Promise<void> {
      // With no arguments: a chained batch, LevelDB's own.
      if (!this.coalescer || !simpleOperations(operations) || options !== undefined) return arguments.length === 0 ? super.batch() : super.batch(operations, options);
      return this.coalescer.batch(operations);
    }

    override values(options?: unknown): LevelIterator {
      return closing(super.values(options));
    }

    override keys(options?: unknown): LevelIterator {
      return closing(super.keys(options));
    }
  };
  Object.defineProperty(Bounded, 'name', { value: `Bounded${Base.name}` });
  exports[exportName] = Bounded;
}

/** Puts and dels of string keys with no options of their own (dynalite's): what the coalesced path writes. */
function simpleOperations(operations: unknown): operations is { type: 'put' | 'del'; key: string; value?: unknown }[] {
  return (
    Array.isArray(operations) &&
    operations.every((operation: Record<string, unknown>) => (operation.type === 'put' || operation.type === 'del') && typeof operation.key === 'string' && Object.keys(operation).every((name) => name === 'type' || name === 'key' || name === 'value'))
  );
}

patch('level', 'Level', { maxOpenFiles: MAX_OPEN_FILES, writeBufferSize: WRITE_BUFFER_BYTES }, true);
// In memory a get or put is a call into a JavaScript structure: nothing to save by coalescing.
patch('memory-level', 'MemoryLevel', {}, false);
