import { createRequire } from 'node:module';
import '../../../local/emulators/bounded-level';

/**
 * dynalite closes a read's iterator only through `iterator.return`, which abstract-level 3's
 * iterators lack: every Query and Scan left one open, holding a snapshot, and the local
 * DynamoDB's memory grew with every write (local/emulators/bounded-level.ts).
 */
interface Iterator {
  next(): Promise<unknown>;
  return?: () => Promise<unknown>;
}
interface Db {
  put(key: string, value: string): Promise<void>;
  values(): Iterator;
  close(): Promise<void>;
}
const { MemoryLevel } = createRequire(__filename)('memory-level') as { MemoryLevel: new (options?: object) => Db };

describe('dynalite’s LevelDB iterators', () => {
  it('close themselves at their end, so a drained read holds no snapshot', async () => {
    const db = new MemoryLevel({ valueEncoding: 'json' });
    await db.put('a', '1');
    const iterator = db.values();
    expect(await iterator.next()).toBe('1');
    expect(await iterator.next()).toBeUndefined();
    // A closed iterator refuses to go on; one left open would answer undefined again.
    await expect(iterator.next()).rejects.toMatchObject({ code: 'LEVEL_ITERATOR_NOT_OPEN' });
    await db.close();
  });

  it('close on `return`, which dynalite calls when it destroys a stream it stopped reading', async () => {
    const db = new MemoryLevel({ valueEncoding: 'json' });
    await db.put('a', '1');
    await db.put('b', '2');
    const iterator = db.values();
    expect(await iterator.next()).toBe('1');
    expect(typeof iterator.return).toBe('function');
    await iterator.return!();
    await expect(iterator.next()).rejects.toMatchObject({ code: 'LEVEL_ITERATOR_NOT_OPEN' });
    await db.close();
  });

  it('are the classes dynalite gets: level and memory-level export the bounded subclasses', () => {
    const load = createRequire(require.resolve('dynalite'));
    expect((load('level') as { Level: { name: string } }).Level.name).toBe('BoundedClassicLevel');
    expect((load('memory-level') as { MemoryLevel: { name: string } }).MemoryLevel.name).toBe('BoundedMemoryLevel');
  });
});
