import { createRequire } from 'node:module';

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
 * dynalite builds its database with `new Level(path, …)` or `new MemoryLevel(…)`, reading the
 * classes when its module loads: this replaces both exports with subclasses before that, so
 * import this module before dynalite.
 */
const MAX_OPEN_FILES = 64;

interface LevelIterator {
  next(): Promise<unknown>;
  close(): Promise<void>;
  return?: () => Promise<{ done: true; value: undefined }>;
}
type LevelClass = new (...args: never[]) => { values(options?: unknown): LevelIterator; keys(options?: unknown): LevelIterator };

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

function patch(moduleName: string, exportName: string, extraOptions: Record<string, unknown>): void {
  const exports = load(moduleName) as Record<string, LevelClass>;
  const Base = exports[exportName];
  if (Base.name.startsWith('Bounded')) return;
  const Bounded = class extends Base {
    constructor(...args: never[]) {
      // (location, options) for Level, (options) for MemoryLevel: our options go into the last.
      const last = args.length - 1;
      const options = { ...extraOptions, ...((args[last] as Record<string, unknown> | undefined) ?? {}) };
      super(...([...args.slice(0, last), options] as never[]));
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

patch('level', 'Level', { maxOpenFiles: MAX_OPEN_FILES });
patch('memory-level', 'MemoryLevel', {});
