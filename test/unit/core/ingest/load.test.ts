import { Readable } from 'node:stream';
import type { Context, SQSEvent } from 'aws-lambda';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { loadFile, type LoadCheckpoint, type LoadDeps, type RecordItem } from '../../../../lambdas/core/ingest/load';
import { makeLoadHandler } from '../../../../lambdas/load/app';
import { powertoolsCounter } from '../../../../lambdas/shared/metrics';

const quiet = () => undefined;
const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
const message = { queryId: 'q1', customerId: 'c1', n: 0, key: 'raw/c1/q1/Ring.Alarm.HubData/0.json', schemaKey: 'raw/c1/q1/Ring.Alarm.HubData/0.schema.json', bytes: 0, sha256: '' };

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
  it('keeps at most writeConcurrency batch writes in flight, and all are done before a checkpoint', async () => {
    let inFlight = 0;
    let peak = 0;
    const written: RecordItem[] = [];
    const { deps, checkpoints } = world(hubs(500), {
      write: async (items) => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        written.push(...items);
        inFlight--;
      },
    });
    const outcome = await loadFile({ ...deps, writeConcurrency: 3, checkpointEvery: 200 }, message);
    expect(outcome).toMatchObject({ outcome: 'loaded', records: 500 });
    expect(peak).toBe(3);
    expect(written).toHaveLength(500);
    expect(checkpoints.map((checkpoint) => checkpoint.records)).toEqual([200, 400]);
  });

  it('fails the message, without a later checkpoint, when a batch write fails', async () => {
    let calls = 0;
    const { deps, checkpoints } = world(hubs(300), {
      write: async () => {
        if (++calls === 2) throw new Error('DynamoDB is unavailable');
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    await expect(loadFile({ ...deps, checkpointEvery: 100 }, message)).rejects.toThrow('DynamoDB is unavailable');
    expect(checkpoints).toEqual([]);
  });

  it('counts repeats within a file and still writes them (same key, same item)', async () => {
    const written: RecordItem[] = [];
    const { deps } = world([...hubs(3), { deviceName: 'hub 1' }, { deviceName: 7 }], { write: (items) => Promise.resolve(void written.push(...items)) });
    const outcome = await loadFile(deps, message);
    expect(outcome).toMatchObject({ outcome: 'loaded', records: 4, rejected: 1, stats: { records: 4, rejected: 1, duplicates: 1 } });
    expect(new Set(written.map((item) => item.sk)).size).toBe(3);
  });
});

describe('ingestion metrics', () => {
  it('are emitted by the load handler in their units: bytes, counts and milliseconds', async () => {
    const metrics = new Metrics({ namespace: 'RingPortability', serviceName: 'load' });
    const { deps } = world([...hubs(3), { deviceName: 'hub 1' }, { deviceName: 7 }], { write: () => Promise.resolve() });
    const handler = makeLoadHandler({ ...deps, loadsQueue: { send: () => Promise.resolve() }, metrics: powertoolsCounter(metrics) });
    const event = { Records: [{ messageId: 'm1', body: JSON.stringify(message), attributes: { ApproximateReceiveCount: '1' } }] } as unknown as SQSEvent;
    expect(await handler(event, { getRemainingTimeInMillis: () => 900_000 } as Context)).toEqual({ batchItemFailures: [] });

    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] } };
    const units = Object.fromEntries(emf._aws.CloudWatchMetrics[0].Metrics.map((metric) => [metric.Name, metric.Unit]));
    expect(units).toEqual({ LoadDuration: 'Milliseconds', BytesLoaded: 'Bytes', RecordsLoaded: 'Count', RecordsRejected: 'Count', DuplicateRecords: 'Count', FilesLoaded: 'Count' });
    expect(emf).toMatchObject({ BytesLoaded: JSON.stringify([...hubs(3), { deviceName: 'hub 1' }, { deviceName: 7 }]).length - 1, RecordsLoaded: 4, RecordsRejected: 1, DuplicateRecords: 1, FilesLoaded: 1 });
  });
});
