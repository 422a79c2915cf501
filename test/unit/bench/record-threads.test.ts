import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { build } from 'esbuild';
import { JsonElementSplitter } from '../../../lambdas/core/ingest/json-elements';
import { loadFile, type LoadDeps, type RecordItem } from '../../../lambdas/core/ingest/load';
import { batchChecker, RecordThreads, toBatch, type CheckContext, type CheckedBatch } from '../../../bench/record-threads';

const quiet = () => undefined;
const schemaText = JSON.stringify({ title: 'Ring.Alarm.HubData', type: 'array', items: { type: 'object', properties: { deviceName: { type: 'string' } } } });
const context: CheckContext = { customerId: 'c1', dataset: 'Ring.Alarm.HubData', schemaText };
const message = { queryId: 'q1', customerId: 'c1', n: 0, key: 'raw/c1/q1/Ring.Alarm.HubData/0.json', schemaKey: 'raw/c1/q1/Ring.Alarm.HubData/0.schema.json', bytes: 0, sha256: '' };

/** Valid hubs, with one refused by both schemas (a numeric name) and one by ours alone (a numeric status) every 7. */
const hubs = Array.from({ length: 1_200 }, (_, i) => (i % 7 === 3 ? { deviceName: i } : i % 7 === 5 ? { deviceName: `hub ${i}`, status: i } : { deviceName: `hub ${i}`, room: `room ${i % 13}` }));

/** What load itself writes and rejects for a file: the reference the threads must match. */
async function loadedBySingleThread(text: string): Promise<{ items: RecordItem[]; rejects: string[] }> {
  const items: RecordItem[] = [];
  const rejects: string[] = [];
  const deps: LoadDeps = {
    store: { progress: () => Promise.resolve({ done: false }), saveCheckpoint: () => Promise.resolve(true), finish: () => Promise.resolve(true) },
    connections: { get: (customerId) => Promise.resolve({ customerId, brand: 'ring', region: 'eu-west-1', scopeId: 'data-portability', status: 'ACTIVE', secretId: 's', connectedAt: '2026-01-01T00:00:00Z' }) },
    writer: { write: (batch) => (items.push(...batch), Promise.resolve([])), existing: () => Promise.resolve([]) },
    raw: { read: () => Promise.resolve(Readable.from([Buffer.from(text)])), text: () => Promise.resolve(schemaText), putRejects: (_key, lines) => Promise.resolve(void rejects.push(...lines)) },
    clock: { now: () => 0, sleep: () => Promise.resolve() },
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  };
  await loadFile(deps, message);
  return { items: items.sort((a, b) => (a.sourceOffset as number) - (b.sourceOffset as number)), rejects };
}

function batchesOf(text: string, size: number) {
  const elements = new JsonElementSplitter().push(Buffer.from(text));
  return Array.from({ length: Math.ceil(elements.length / size) }, (_, i) => elements.slice(i * size, (i + 1) * size));
}

/** The checked batches as load would use them: (key, record, offset) of each valid element, and the reject lines. */
function flatten(batches: ReturnType<typeof batchesOf>, results: CheckedBatch[]) {
  const items: { pk: string; sk: string; record: unknown; sourceOffset: number }[] = [];
  const rejects: string[] = [];
  results.forEach((result, b) => {
    let valid = 0;
    result.sortKeys.forEach((sk, i) => void (sk !== null && items.push({ pk: result.partitionKey, sk, record: result.records[valid++], sourceOffset: batches[b][i].start })));
    rejects.push(...result.rejects);
  });
  return { items, rejects };
}

describe('parallel record checks', () => {
  let work: string;
  let script: string;

  beforeAll(async () => {
    // A worker thread runs JavaScript: the thread's module bundled as the bench bundles it.
    work = mkdtempSync(path.join(tmpdir(), 'record-thread-'));
    script = path.join(work, 'record-thread.js');
    await build({ entryPoints: [path.join(__dirname, '../../../bench/record-thread.ts')], bundle: true, platform: 'node', target: 'node20', outfile: script, logLevel: 'warning' });
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('gives the keys, records and rejection lines that load gives, in file order, from two threads', async () => {
    const text = JSON.stringify(hubs);
    const reference = await loadedBySingleThread(text);
    const batches = batchesOf(text, 100);
    const threads = new RecordThreads(script, 2, context);
    try {
      const results = await Promise.all(batches.map((batch) => threads.check(toBatch(batch))));
      const checked = flatten(batches, results);
      expect(checked.items).toEqual(reference.items.map(({ pk, sk, record, sourceOffset }) => ({ pk, sk, record, sourceOffset })));
      expect(checked.rejects).toEqual(reference.rejects);
      expect(reference.rejects.map((line) => Object.keys((JSON.parse(line) as { reasons: object }).reasons).join('+'))).toEqual(expect.arrayContaining(['ringSchema+zod', 'zod']));
    } finally {
      await threads.close();
    }
  });

  it('checks on the main thread exactly as on a thread', async () => {
    const batches = batchesOf(JSON.stringify(hubs), 250);
    const threads = new RecordThreads(script, 1, context);
    try {
      const check = batchChecker(context);
      for (const batch of batches) expect(await threads.check(toBatch(batch))).toEqual(check(toBatch(batch)));
    } finally {
      await threads.close();
    }
  });

  it('stops a batch at an element that is not JSON, after checking the ones before it', async () => {
    const [batch] = batchesOf('[{"deviceName":"a"},{"deviceName":"b"},{"deviceName":},{"deviceName":"c"}]', 10);
    const threads = new RecordThreads(script, 1, context);
    try {
      const result = await threads.check(toBatch(batch));
      expect(result).toMatchObject({ malformedAt: 2, records: [{ deviceName: 'a' }, { deviceName: 'b' }] });
      expect(result.sortKeys).toHaveLength(2);
    } finally {
      await threads.close();
    }
  });

  it('fails the batches waiting on a thread that dies, and every later one', async () => {
    // Schema text that is not text: the thread throws as it starts, and exits.
    const threads = new RecordThreads(script, 1, { ...context, schemaText: 42 as unknown as string });
    try {
      const [batch] = batchesOf(JSON.stringify(hubs.slice(0, 3)), 10);
      await expect(threads.check(toBatch(batch))).rejects.toThrow('"data" argument must be of type string');
      await expect(threads.check(toBatch(batch))).rejects.toThrow('"data" argument must be of type string');
    } finally {
      await threads.close();
    }
  });
});
