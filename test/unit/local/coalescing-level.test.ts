import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import '../../../local/emulators/bounded-level';

/**
 * dynalite's single-key LevelDB calls of one event-loop turn go to LevelDB as one `batch()`
 * and one `getMany()` (local/emulators/coalescing-level.ts), on a real LevelDB on disk. A read
 * sees every write issued before it (classic-level alone does not promise that for calls in
 * flight), a write settles once LevelDB has it, and each failure reaches the calls it concerns.
 */
interface Db {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  batch(operations: { type: 'put' | 'del'; key: string; value?: unknown }[]): Promise<void>;
  open(): Promise<void>;
  close(): Promise<void>;
}
type LevelClass = (new (location: string, options: object) => Db) & { prototype: Record<string, unknown> };
// The class dynalite gets (level's export, replaced by bounded-level), and classic-level's own underneath it.
const { Level } = createRequire(require.resolve('dynalite'))('level') as { Level: LevelClass };
const { ClassicLevel } = createRequire(require.resolve('level'))('classic-level') as { ClassicLevel: LevelClass };

const dirs: string[] = [];
const open: Db[] = [];
afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.allSettled(open.splice(0).map((db) => db.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function database(): Promise<{ db: Db; dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'coalescing-level-'));
  dirs.push(dir);
  const db = new Level(dir, { valueEncoding: 'json' });
  open.push(db);
  await db.open();
  return { db, dir };
}

/** Counts the native calls classic-level makes. */
function nativeCalls(): Record<'get' | 'getMany' | 'put' | 'batch', jest.SpyInstance> {
  return {
    get: jest.spyOn(ClassicLevel.prototype as never, '_get' as never),
    getMany: jest.spyOn(ClassicLevel.prototype as never, '_getMany' as never),
    put: jest.spyOn(ClassicLevel.prototype as never, '_put' as never),
    batch: jest.spyOn(ClassicLevel.prototype as never, '_batch' as never),
  };
}

describe('coalesced LevelDB calls (dynalite on disk)', () => {
  it('sends the reads and writes of one turn as one getMany (each key once) and one batch', async () => {
    const { db } = await database();
    const calls = nativeCalls();
    const keys = Array.from({ length: 100 }, (_, i) => `item~${i}`);
    await Promise.all(keys.map((key, i) => db.put(key, { n: i })));
    expect(calls.batch).toHaveBeenCalledTimes(1);
    expect(calls.put).not.toHaveBeenCalled();

    const values = await Promise.all([...keys, ...keys, 'item~absent'].map((key) => db.get(key)));
    expect(values).toEqual([...keys.map((_, i) => ({ n: i })), ...keys.map((_, i) => ({ n: i })), undefined]);
    expect(calls.getMany).toHaveBeenCalledTimes(1);
    expect((calls.getMany.mock.calls[0] as unknown[][])[0]).toHaveLength(101);
    expect(calls.get).not.toHaveBeenCalled();
  });

  it('reads its writes: a read after a write answers it before and after it reaches disk, and the last write of a key wins', async () => {
    const { db, dir } = await database();
    const first = db.put('k', { v: 1 });
    const second = db.put('k', { v: 2 });
    // Issued after the writes, before LevelDB has them.
    expect(await db.get('k')).toEqual({ v: 2 });
    await Promise.all([first, second]);
    expect(await db.get('k')).toEqual({ v: 2 });
    const deleted = db.del('k');
    expect(await db.get('k')).toBeUndefined();
    await deleted;
    await db.batch([
      { type: 'put', key: 'a', value: 'A' },
      { type: 'put', key: 'b', value: ['B'] },
      { type: 'del', key: 'a' },
    ]);
    // On disk, as a fresh open (no memory of this process) reads it.
    await db.close();
    const again = new Level(dir, { valueEncoding: 'json' });
    open.push(again);
    await again.open();
    expect(await Promise.all(['k', 'a', 'b'].map((key) => again.get(key)))).toEqual([undefined, undefined, ['B']]);
  });

  it('gives each reader its own copy of a value, so one changing it does not change another’s', async () => {
    const { db } = await database();
    await db.put('table~records', { TableStatus: 'ACTIVE' });
    const [one, two] = (await Promise.all([db.get('table~records'), db.get('table~records')])) as { TableStatus: string }[];
    one.TableStatus = 'UPDATING';
    expect(two.TableStatus).toBe('ACTIVE');
    expect(await db.get('table~records')).toEqual({ TableStatus: 'ACTIVE' });
  });

  it('fails only the call whose value cannot be written, not the others of its turn', async () => {
    const { db } = await database();
    const results = await Promise.allSettled([db.put('good', 1), db.put('bad', undefined), db.put('also-good', 2)]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'LEVEL_INVALID_VALUE' });
    expect(await Promise.all(['good', 'bad', 'also-good'].map((key) => db.get(key)))).toEqual([1, undefined, 2]);
  });

  it('rejects exactly the writes a failed batch carried, and forgets what they wrote', async () => {
    const { db } = await database();
    await db.put('k', 'on disk');
    const failure = new Error('disk full');
    jest.spyOn(ClassicLevel.prototype as never, '_batch' as never).mockImplementationOnce((() => Promise.reject(failure)) as never);
    const failed = [db.put('k', 'lost'), db.put('other', 'lost')];
    await expect(Promise.all(failed.map((write) => write.then(() => 'written', (error: unknown) => error)))).resolves.toEqual([failure, failure]);
    // The next turn's write is a batch of its own, and goes through.
    await db.put('next', 'written');
    expect(await Promise.all(['k', 'other', 'next'].map((key) => db.get(key)))).toEqual(['on disk', undefined, 'written']);
  });

  it('rejects every read of a failed getMany with its error', async () => {
    const { db } = await database();
    const failure = new Error('read failed');
    jest.spyOn(ClassicLevel.prototype as never, '_getMany' as never).mockImplementationOnce((() => Promise.reject(failure)) as never);
    const results = await Promise.allSettled([db.get('a'), db.get('b'), db.get('a')]);
    expect(results).toEqual([0, 1, 2].map(() => ({ status: 'rejected', reason: failure })));
    expect(await db.get('a')).toBeUndefined();
  });

  it('settles an empty batch on its own (dynalite deletes an empty table’s items and tags with one)', async () => {
    const { db } = await database();
    await db.put('k', 1);
    // No other write joins its turn: without a write of its own it must still settle.
    await expect(db.batch([])).resolves.toBeUndefined();
    expect(await db.get('k')).toBe(1);
  });

  it('rejects calls made after the database closed with LevelDB’s own error', async () => {
    const { db } = await database();
    await db.close();
    await expect(db.get('k')).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' });
    await expect(db.put('k', 1)).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' });
  });
});
