import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbQueryRepository } from '../../lambdas/adapters/query-store';
import { DATASET_PARTITIONS } from '../../lambdas/core/connections/partitions';
import type { LoadMessage } from '../../lambdas/core/ingest/fetch';
import { loadFile } from '../../lambdas/core/ingest/load';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { crashOn, drive, ingestion } from './support/drive';
import { anotherCompletedQuery, completedQuery, storedObject } from './support/pipeline';

let world: ConnectWorld;
beforeAll(async () => {
  world = await connectWorld({ sandbox: { queryDelayMs: 100 }, retry: { scheduleSeconds: [] } });
});
afterAll(() => world.stop());
beforeEach(() => world.control('DELETE', '/faults'));

interface Truth {
  datasets: Record<string, { records: number; uniqueRecords: number }>;
  files: { dataset: string; bytes: number; sha256: string }[];
  totalRecords: number;
  uniqueRecords: number;
}

const MIX = {
  'Ring.EventManager.Events': 260,
  'Ring.EventManager.DeviceEvents': 90,
  'Ring.Alarm.HistoryLog': 70,
  'Ring.Alarm.DeviceInformation': 3,
  'Ring.RingDeviceRegistry.Device': 4,
  'Ring.Alarm.HubData': 6,
};

const truthOf = (queryId: string) => world.control<Truth>('GET', `/queries/${queryId}/ground-truth`);

const sha256Of = (key: string) => storedObject(world, key);

async function count(command: QueryCommand): Promise<number> {
  let total = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await world.aws.clients.documents.send(new QueryCommand({ ...command.input, ExclusiveStartKey: start, Select: 'COUNT' }));
    total += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return total;
}

const bodyOf = (response: { body?: string }) => JSON.parse(response.body ?? 'null') as Record<string, unknown>;

/** Items per records-table partition of a customer, for every partition load can write. */
async function itemsByDataset(customerId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const dataset of DATASET_PARTITIONS) {
    const items = await count(new QueryCommand({ TableName: world.aws.resources.recordsTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${customerId}#${dataset}` } }));
    if (items > 0) counts[dataset] = items;
  }
  return counts;
}

/**
 * The query ended exactly as the sandbox's ground truth: DONE, one task per file, every file
 * byte-identical in S3 and nothing else there but its schema and the manifest, manifest totals.
 */
async function expectQueryMatchesTruth(customerId: string, queryId: string, truth: Truth): Promise<void> {
  expect(await new DynamoDbQueryRepository(world.aws.clients.documents, world.table).get(queryId)).toMatchObject({ status: 'DONE' });
  const tasks = await count(new QueryCommand({ TableName: world.table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :file)', ExpressionAttributeValues: { ':pk': `QUERY#${queryId}`, ':file': 'FILE#' } }));
  expect(tasks).toBe(truth.files.length);
  const listed = await world.aws.clients.s3.send(new ListObjectsV2Command({ Bucket: world.aws.resources.rawDataBucket, Prefix: `raw/${customerId}/${queryId}/` }));
  const expectedKeys = truth.files.flatMap((file, n) => [`raw/${customerId}/${queryId}/${file.dataset}/${n}.json`, `raw/${customerId}/${queryId}/${file.dataset}/${n}.schema.json`]);
  expect((listed.Contents ?? []).map((object) => object.Key).sort()).toEqual([...expectedKeys, `raw/${customerId}/${queryId}/manifest.json`].sort());
  for (const [n, file] of truth.files.entries()) expect(await sha256Of(`raw/${customerId}/${queryId}/${file.dataset}/${n}.json`)).toEqual({ bytes: file.bytes, sha256: file.sha256 });
  const manifest = JSON.parse(await (await world.aws.clients.s3.send(new GetObjectCommand({ Bucket: world.aws.resources.rawDataBucket, Key: `raw/${customerId}/${queryId}/manifest.json` }))).Body!.transformToString()) as {
    totals: Record<string, number>;
  };
  expect(manifest.totals).toMatchObject({ files: truth.files.length, bytes: truth.files.reduce((sum, file) => sum + file.bytes, 0), records: truth.totalRecords, rejected: 0, malformedFiles: 0 });
}

const uniqueByDataset = (truth: Truth) => Object.fromEntries(Object.entries(truth.datasets).map(([dataset, counts]) => [dataset, counts.uniqueRecords]));

describe('ingestion end to end (collect → fetch → load)', () => {
  it('delivers every SQS message twice at once, with each stage crashing between its steps, and ends with the ground truth exactly', async () => {
    const { customerId, queryId, body } = await completedQuery(world, { datasets: MIX, recordsPerFile: 50 }, 'twice');
    const truth = await truthOf(queryId);
    expect(truth.files.length).toBeGreaterThan(8);

    const delivered = await drive(world, [body], {
      copies: 2,
      crashes: {
        // after a task is written, before its fetch message is marked sent
        collect: (deps) => ({ ...deps, files: { send: crashOn((message, options) => deps.files.send(message, options), [3], 'collect: sending a fetch message') } }),
        fetch: (deps) => ({
          ...deps,
          // after the upload, before the file is recorded FETCHED; then after FETCHED, before the load is asked for
          store: { ...deps.store, fetched: deps.store.fetched.bind(deps.store), markFetched: crashOn(deps.store.markFetched.bind(deps.store), [2], 'fetch: recording the file') },
          loads: { send: crashOn((message, options) => deps.loads.send(message, options), [4], 'fetch: asking for the load') },
        }),
        load: (deps) => ({
          ...deps,
          // mid-file, after a checkpoint; then after the last write, before the file is marked loaded
          writer: { write: crashOn((items) => deps.writer.write(items), [5], 'load: writing a batch'), existing: (keys) => deps.writer.existing(keys) },
          store: { ...deps.store, progress: deps.store.progress.bind(deps.store), saveCheckpoint: deps.store.saveCheckpoint.bind(deps.store), finish: crashOn(deps.store.finish.bind(deps.store), [3], 'load: marking the file loaded') },
        }),
      },
    });
    expect(delivered.failed).toBeGreaterThanOrEqual(4);
    await expectQueryMatchesTruth(customerId, queryId, truth);
    expect(await itemsByDataset(customerId)).toEqual(uniqueByDataset(truth));
  });

  it('gets past 429, 500 and 504 from the list call during collect and fetch, and download errors, to the ground truth exactly', async () => {
    const { customerId, queryId, body } = await completedQuery(world, { datasets: MIX, recordsPerFile: 100 }, 'faults');
    const truth = await truthOf(queryId);
    await world.control('PUT', '/faults', {
      rules: [
        { operation: 'listDataQueryRecords', nth: [1], error: 'TOO_MANY_REQUESTS', retryAfterSeconds: 3 },
        { operation: 'listDataQueryRecords', nth: [2], error: 'INTERNAL_SERVER_ERROR' },
        { operation: 'listDataQueryRecords', nth: [3], error: 'INTEGRATION_TIMEOUT' },
      ],
    });
    // Collect lists (through the three errors), then the URLs go stale: fetch must list again.
    const pipeline = ingestion(world);
    pipeline.enqueue(body);
    await pipeline.run({ maxRounds: 10, stopBefore: 'files' });
    world.sandbox.clock.advance(6 * 60_000);
    await world.control('PUT', '/faults', {
      rules: [
        { operation: 'listDataQueryRecords', nth: [1], error: 'INTEGRATION_TIMEOUT' },
        { operation: 'listDataQueryRecords', nth: [2], error: 'TOO_MANY_REQUESTS' },
        { operation: 'listDataQueryRecords', nth: [4], error: 'INTERNAL_SERVER_ERROR' },
        { operation: 'download', nth: [2], downloadError: 'InternalError' },
        { operation: 'download', nth: [5], cutAfterBytes: 1_000 },
      ],
    });
    await pipeline.run({ maxRounds: 30 });
    const calls = await world.control<{ path: string; status: number }[]>('GET', '/calls');
    const listings = calls.filter((call) => call.path.includes('/records'));
    expect(new Set(listings.map((call) => call.status))).toEqual(new Set([200, 429, 500, 504]));
    await expectQueryMatchesTruth(customerId, queryId, truth);
    expect(await itemsByDataset(customerId)).toEqual(uniqueByDataset(truth));
  });

  it('purges while ingestion runs: later stages stop, and the purge is complete only once a load already running has finished', async () => {
    const { customerId, body } = await completedQuery(world, { datasets: MIX, recordsPerFile: 80 }, 'purge');
    const pipeline = ingestion(world);
    pipeline.enqueue(body);
    await pipeline.run({ stopBefore: 'loads' });
    const [inFlight, ...later] = pipeline.pending('loads').splice(0);
    expect(later.length).toBeGreaterThan(2);
    // A load already running: it has read the connection and opened its file, and writes after the purge's sweep.
    let purged!: () => void;
    let writing!: () => void;
    const purgeDone = new Promise<void>((resolve) => (purged = resolve));
    const firstWrite = new Promise<void>((resolve) => (writing = resolve));
    const writer = pipeline.loadDeps.writer;
    const held = { write: async (items: Parameters<typeof writer.write>[0]) => (writing(), await purgeDone, writer.write(items)), existing: (keys: Parameters<typeof writer.existing>[0]) => writer.existing(keys) };
    const running = loadFile({ ...pipeline.loadDeps, writer: held }, inFlight as LoadMessage);
    await firstWrite;

    const first = await world.disconnect(customerId, true);
    expect(first.statusCode).toBe(202);
    purged();
    expect(await running).toMatchObject({ outcome: 'loaded' });
    const total = async () => Object.values(await itemsByDataset(customerId)).reduce((sum, items) => sum + items, 0);
    const writtenByTheRunningLoad = await total();
    expect(writtenByTheRunningLoad).toBeGreaterThan(0);

    // Loads delivered after the request write nothing; no manifest is written either.
    pipeline.pending('loads').push(...later);
    await pipeline.run();
    expect(await total()).toBe(writtenByTheRunningLoad);

    // Not complete before the running load's time is up; then one more sweep, and nothing is left.
    expect(bodyOf(await world.disconnect(customerId, true))).toMatchObject({ purged: { complete: false } });
    world.sandbox.clock.advance(16 * 60_000);
    const last = await world.disconnect(customerId, true);
    expect(last.statusCode).toBe(200);
    expect(bodyOf(last)).toMatchObject({ purged: { complete: true } });
    expect(await itemsByDataset(customerId)).toEqual({});
    for (const prefix of [`raw/${customerId}/`, `rejected/${customerId}/`]) {
      expect((await world.aws.clients.s3.send(new ListObjectsV2Command({ Bucket: world.aws.resources.rawDataBucket, Prefix: prefix }))).KeyCount).toBe(0);
    }
  });

  it('imports the same customer twice at once (overlapping queries) and holds each record once', async () => {
    const first = await completedQuery(world, { datasets: MIX, recordsPerFile: 60 }, 'overlap');
    const second = await anotherCompletedQuery(world, first.customerId);
    const [truth1, truth2] = await Promise.all([truthOf(first.queryId), truthOf(second.queryId)]);
    expect(uniqueByDataset(truth2)).toEqual(uniqueByDataset(truth1));

    await drive(world, [first.body, second.body], { copies: 2 });
    await expectQueryMatchesTruth(first.customerId, first.queryId, truth1);
    await expectQueryMatchesTruth(first.customerId, second.queryId, truth2);
    expect(await itemsByDataset(first.customerId)).toEqual(uniqueByDataset(truth1));
  });
});
