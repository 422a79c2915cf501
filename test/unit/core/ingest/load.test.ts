import { Readable } from 'node:stream';
import type { Context, SQSEvent } from 'aws-lambda';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { loadFile, MAX_INLINE_RECORD_BYTES, type LoadCheckpoint, type LoadDeps, type RecordItem, type RecordWriter } from '../../../../lambdas/core/ingest/load';
import { makeLoadHandler } from '../../../../lambdas/load/app';
import { powertoolsCounter } from '../../../../lambdas/shared/metrics';

const quiet = () => undefined;
const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
const message = { queryId: 'q1', customerId: 'c1', n: 0, key: 'raw/c1/q1/Ring.Alarm.HubData/0.json', schemaKey: 'raw/c1/q1/Ring.Alarm.HubData/0.schema.json', bytes: 0, sha256: '' };

/** A records table in memory: `existing` answers from what `write` stored; `write` can be slowed or made to fail. */
function table(write: (items: RecordItem[]) => Promise<void> = () => Promise.resolve(), stored = new Map<string, RecordItem>()): RecordWriter & { stored: Map<string, RecordItem> } {
  return {
    stored,
    write: async (items) => {
      await write(items);
      for (const item of items) stored.set(`${item.pk}|${item.sk}`, item);
      return [];
    },
    existing: (keys) => Promise.resolve(keys.flatMap((key) => stored.get(`${key.pk}|${key.sk}`) ?? [])),
  };
}

/** A load's collaborators in memory: a file of `records`, a writer that can be slowed or fail. */
function world(records: unknown[], writer: LoadDeps['writer']) {
  const checkpoints: LoadCheckpoint[] = [];
  const rejects: string[] = [];
  const text = JSON.stringify(records);
  const deps: LoadDeps = {
    store: {
      progress: () => Promise.resolve({ done: false }),
      saveCheckpoint: (_q, _n, checkpoint) => Promise.resolve(checkpoints.push(checkpoint) > 0),
      finish: () => Promise.resolve(true),
    },
    connections: { get: (customerId) => Promise.resolve({ customerId, brand: 'ring', region: 'eu-west-1', scopeId: 'data-portability', status: 'ACTIVE', secretId: 's', connectedAt: '2026-01-01T00:00:00Z' }) },
    writer,
    raw: {
      read: (_key, offset) => Promise.resolve(Readable.from([Buffer.from(text).subarray(offset)])),
      text: () => Promise.resolve(JSON.stringify({ title: 'Ring.Alarm.HubData', type: 'array', items: { type: 'object', properties: { deviceName: { type: 'string' } } } })),
      putRejects: (_key, lines) => Promise.resolve(void rejects.push(...lines)),
    },
    clock: { now: () => 0, sleep: () => Promise.resolve() },
    logger,
  };
  return { deps, checkpoints, rejects };
}

const hubs = (count: number) => Array.from({ length: count }, (_, i) => ({ deviceName: `hub ${i}` }));

describe('load (in memory)', () => {
  it('keeps at most writeConcurrency batches in flight, and all are done before a checkpoint', async () => {
    let inFlight = 0;
    let peak = 0;
    const written: RecordItem[] = [];
    const { deps, checkpoints } = world(
      hubs(500),
      table(async (items) => {
        expect(items.length).toBeLessThanOrEqual(25);
        peak = Math.max(peak, ++inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        written.push(...items);
        inFlight--;
      }),
    );
    const outcome = await loadFile({ ...deps, writeConcurrency: 3, checkpointEvery: 400 }, message);
    expect(outcome).toMatchObject({ outcome: 'loaded', records: 500, stats: { recordsNew: 500, recordsUnchanged: 0 } });
    expect(peak).toBe(3);
    expect(written).toHaveLength(500);
    expect(checkpoints.map((checkpoint) => [checkpoint.records, checkpoint.recordsNew])).toEqual([[400, 400]]);
  });

  it('fails the message, without a later checkpoint, when a batch write fails', async () => {
    let calls = 0;
    const { deps, checkpoints } = world(
      hubs(300),
      table(async () => {
        if (++calls === 2) throw new Error('DynamoDB is unavailable');
        await new Promise((resolve) => setImmediate(resolve));
      }),
    );
    await expect(loadFile({ ...deps, checkpointEvery: 100 }, message)).rejects.toThrow('DynamoDB is unavailable');
    expect(checkpoints).toEqual([]);
  });

  it('writes rejected records out by bytes as well as at checkpoints, so large refused records never pile up in memory', async () => {
    const big = 'x'.repeat(300_000);
    const { deps, checkpoints } = world(Array.from({ length: 40 }, (_, i) => ({ deviceName: i, note: big })), table());
    const objects: { key: string; bytes: number }[] = [];
    deps.raw.putRejects = (key, lines) => Promise.resolve(void objects.push({ key, bytes: lines.reduce((sum, line) => sum + line.length, 0) }));
    const outcome = await loadFile(deps, message);
    expect(outcome).toMatchObject({ outcome: 'loaded', records: 0, rejected: 40 });
    expect(checkpoints).toHaveLength(0);
    expect(objects.length).toBeGreaterThanOrEqual(3);
    for (const object of objects) expect(object.bytes).toBeLessThan(4 * 1024 * 1024 + 310_000);
    expect(objects.reduce((sum, object) => sum + object.bytes, 0)).toBeGreaterThan(40 * 300_000);
    expect(new Set(objects.map((object) => object.key)).size).toBe(objects.length);
  });

  it('counts repeats within a file and writes each record once', async () => {
    const written: RecordItem[] = [];
    const { deps } = world([...hubs(3), { deviceName: 'hub 1' }, { deviceName: 7 }], table((items) => Promise.resolve(void written.push(...items))));
    const outcome = await loadFile(deps, message);
    expect(outcome).toMatchObject({ outcome: 'loaded', records: 4, rejected: 1, stats: { records: 4, recordsNew: 3, recordsUnchanged: 0, duplicates: 1, rejected: 1 } });
    expect(written.map((item) => item.sk)).toHaveLength(3);
  });

  it('writes only the records the table does not hold; those another query wrote are unchanged', async () => {
    const earlier = table();
    await loadFile(world(hubs(150), earlier).deps, { ...message, queryId: 'q0' });
    const written: RecordItem[] = [];
    const later = table((items) => Promise.resolve(void written.push(...items)), earlier.stored);
    const outcome = await loadFile(world([...hubs(160), { deviceName: 'hub 3' }], later).deps, message);
    expect(outcome).toMatchObject({ outcome: 'loaded', records: 161, stats: { recordsNew: 10, recordsUnchanged: 150, duplicates: 1 } });
    expect(written.map((item) => (item.record as { deviceName: string }).deviceName).sort()).toEqual(hubs(160).slice(150).map((hub) => hub.deviceName).sort());
  });

  it('re-points an unchanged oversize record at the newest raw copy of its bytes, keeping who first stored it', async () => {
    const big = { deviceName: 'big hub', notes: 'x'.repeat(MAX_INLINE_RECORD_BYTES) };
    const stored = table();
    await loadFile(world([big, ...hubs(2)], stored).deps, { ...message, queryId: 'q0', key: 'raw/c1/q0/Ring.Alarm.HubData/0.json' });
    const [pointerItem] = [...stored.stored.values()].filter((item) => item.pointer);
    expect(pointerItem).toMatchObject({ queryId: 'q0', pointer: { key: 'raw/c1/q0/Ring.Alarm.HubData/0.json' } });
    expect(pointerItem.record).toBeUndefined();

    for (let attempt = 0; attempt < 2; attempt++) {
      const written: RecordItem[] = [];
      const outcome = await loadFile(world([big, ...hubs(2)], table((items) => Promise.resolve(void written.push(...items)), stored.stored)).deps, message);
      expect(outcome.stats).toMatchObject({ recordsNew: 0, recordsUnchanged: 3 });
      expect(written).toEqual([expect.objectContaining({ sk: pointerItem.sk, queryId: 'q0', ingestedAt: pointerItem.ingestedAt, pointer: expect.objectContaining({ key: message.key }) })]);
    }
  });

  it('counts what an earlier attempt of the same load wrote past its checkpoint as new, and does not write it again', async () => {
    const records = [...hubs(250), { deviceName: 'hub 7' }];
    let writes = 0;
    const crashing = table(() => (++writes === 7 ? Promise.reject(new Error('crash (injected)')) : Promise.resolve()));
    const first = world(records, crashing);
    await expect(loadFile({ ...first.deps, checkpointEvery: 100, writeConcurrency: 1 }, message)).rejects.toThrow('crash (injected)');
    expect(first.checkpoints.map((checkpoint) => checkpoint.recordsNew)).toEqual([100]);
    // Batches of 100 are written 25 at a time: the seventh write died, the 150 before it landed.
    expect(crashing.stored.size).toBe(150);

    const rewritten: RecordItem[] = [];
    const second = world(records, table((items) => Promise.resolve(void rewritten.push(...items)), crashing.stored));
    const resumeAt = first.checkpoints[0];
    const retry = { ...second.deps, checkpointEvery: 100, store: { ...second.deps.store, progress: () => Promise.resolve({ done: false, checkpoint: resumeAt }) } };
    const outcome = await loadFile(retry, message);
    expect(outcome).toMatchObject({ outcome: 'loaded', records: 251 });
    expect(second.checkpoints.at(-1)).toMatchObject({ records: 200, recordsNew: 200 });
    expect(rewritten).toHaveLength(100);
    expect(crashing.stored.size).toBe(250);
    expect(outcome.stats).toMatchObject({ records: 151, recordsNew: 150, recordsUnchanged: 0, duplicates: 1 });
  });
});

describe('ingestion metrics', () => {
  it('are emitted by the load handler in their units: bytes, counts and milliseconds', async () => {
    const metrics = new Metrics({ namespace: 'RingPortability', serviceName: 'load' });
    const { deps } = world([...hubs(3), { deviceName: 'hub 1' }, { deviceName: 7 }], table());
    const handler = makeLoadHandler({ ...deps, loadsQueue: { send: () => Promise.resolve() }, metrics: powertoolsCounter(metrics) });
    const event = { Records: [{ messageId: 'm1', body: JSON.stringify(message), attributes: { ApproximateReceiveCount: '1' } }] } as unknown as SQSEvent;
    expect(await handler(event, { getRemainingTimeInMillis: () => 900_000 } as Context)).toEqual({ batchItemFailures: [] });

    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] } };
    const units = Object.fromEntries(emf._aws.CloudWatchMetrics[0].Metrics.map((metric) => [metric.Name, metric.Unit]));
    expect(units).toEqual({ LoadDuration: 'Milliseconds', BytesLoaded: 'Bytes', RecordsLoaded: 'Count', RecordsNew: 'Count', RecordsUnchanged: 'Count', RecordsRejected: 'Count', DuplicateRecords: 'Count', FilesLoaded: 'Count' });
    expect(emf).toMatchObject({ BytesLoaded: JSON.stringify([...hubs(3), { deviceName: 'hub 1' }, { deviceName: 7 }]).length - 1, RecordsLoaded: 4, RecordsNew: 3, RecordsUnchanged: 0, RecordsRejected: 1, DuplicateRecords: 1, FilesLoaded: 1 });
  });
});
