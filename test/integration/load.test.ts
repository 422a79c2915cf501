import { PutObjectCommand, ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbCompletionStore, DynamoDbLoadStore } from '../../lambdas/adapters/ingest-store';
import { DynamoDbQueryRepository } from '../../lambdas/adapters/query-store';
import { DynamoDbRecordWriter, S3RawReader } from '../../lambdas/adapters/raw-files';
import { completeIfLastFile, reconcileLoadingQueries } from '../../lambdas/core/ingest/complete';
import { loadFile, type LoadDeps } from '../../lambdas/core/ingest/load';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { fetchedQuery } from './support/pipeline';

let world: ConnectWorld;
let deps: LoadDeps;
beforeAll(async () => {
  world = await connectWorld({ sandbox: { queryDelayMs: 100 }, retry: { scheduleSeconds: [] } });
  deps = {
    store: new DynamoDbLoadStore(world.aws.clients.documents, world.table),
    connections: world.connections,
    writer: new DynamoDbRecordWriter(world.aws.clients.documents, world.aws.resources.recordsTable),
    raw: new S3RawReader(world.aws.clients.s3, world.aws.resources.rawDataBucket),
    clock: world.clock,
    logger: world.logger,
  };
});
afterAll(() => world.stop());


interface Truth {
  datasets: Record<string, { records: number; uniqueRecords: number }>;
  files: { sha256: string }[];
  totalRecords: number;
  uniqueRecords: number;
}

/** A completed query of a new customer, collected and fetched: its load messages and ground truth. */
async function fetched(customer: Record<string, unknown>) {
  const query = await fetchedQuery(world, customer, 'load');
  return { ...query, truth: await world.control<Truth>('GET', `/queries/${query.queryId}/ground-truth`) };
}

async function itemsOf(customerId: string, dataset: string): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await world.aws.clients.documents.send(
      new QueryCommand({ TableName: world.aws.resources.recordsTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${customerId}#${dataset}` }, ExclusiveStartKey: start, Select: 'COUNT' }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

const ALL_15 = {
  'Ring.EventManager.Events': 120,
  'Ring.EventManager.DeviceEvents': 40,
  'Ring.RGDS.DeviceLocationMapReference': 3,
  'Ring.RingDeviceRegistry.Location': 2,
  'Ring.RingDeviceRegistry.Authorization': 4,
  'Ring.RingDeviceRegistry.Device': 4,
  'Ring.RingDeviceRegistry.Group': 2,
  'Ring.Alarm.HistoryLog': 60,
  'Ring.Alarm.SmartLightingHistoryLog': 20,
  'Ring.Alarm.DeviceInformation': 3,
  'Ring.Alarm.DeviceLog': 30,
  'Ring.Alarm.ModeSettingPreference': 6,
  'Ring.Alarm.ModeSharingPreference': 2,
  'Ring.Alarm.AuditLog': 10,
  'Ring.Alarm.HubData': 8,
};

describe('load stage', () => {
  it('loads all 15 datasets: the records table holds exactly the ground truth’s distinct records, the manifest is written, the query is DONE, and a replay adds nothing', async () => {
    const { customerId, queryId, loads, truth } = await fetched({ datasets: ALL_15, recordsPerFile: 25 });
    const completion = { store: new DynamoDbCompletionStore(world.aws.clients.documents, world.table), manifests: deps.raw as S3RawReader, connections: world.connections, clock: world.clock, logger: world.logger };
    const completing: LoadDeps = { ...deps, onFileLoaded: (query) => completeIfLastFile(completion, query) };
    for (const message of loads) expect(await loadFile(completing, message)).toMatchObject({ outcome: 'loaded', rejected: 0 });
    for (const [dataset, expected] of Object.entries(truth.datasets)) expect({ dataset, items: await itemsOf(customerId, dataset) }).toEqual({ dataset, items: expected.uniqueRecords });
    for (const message of loads) expect((await loadFile(completing, message)).outcome).toBe('already');

    const query = await new DynamoDbQueryRepository(world.aws.clients.documents, world.table).get(queryId);
    expect(query).toMatchObject({ status: 'DONE' });
    const manifestObject = await world.aws.clients.s3.send(new GetObjectCommand({ Bucket: world.aws.resources.rawDataBucket, Key: `raw/${customerId}/${queryId}/manifest.json` }));
    const manifest = JSON.parse(await manifestObject.Body!.transformToString()) as { totals: Record<string, number>; files: { n: number; sha256: string }[] };
    expect(manifest.totals).toMatchObject({ files: truth.files.length, records: truth.totalRecords, rejected: 0, malformedFiles: 0, filesWithoutUsableSchema: 0 });
    expect(manifest.files.map((file) => file.sha256)).toEqual(truth.files.map((file) => file.sha256));
  });

  it('resumes a load stopped mid-file from its checkpoint, ending with the same items', async () => {
    const { customerId, loads, truth } = await fetched({ datasets: { 'Ring.EventManager.Events': 500 }, recordsPerFile: 500 });
    const stopping = { ...deps, checkpointEvery: 100 };
    let remaining = 10_000; // under the 30 s the stage keeps free: it stops at its first checkpoint
    const first = await loadFile(stopping, loads[0], { remainingMs: () => remaining });
    expect(first).toMatchObject({ outcome: 'continue', checkpoint: { records: 100 } });
    remaining = 300_000;
    expect(await loadFile(stopping, loads[0], { remainingMs: () => remaining })).toMatchObject({ outcome: 'loaded', records: 500 });
    expect(await itemsOf(customerId, 'Ring.EventManager.Events')).toBe(truth.datasets['Ring.EventManager.Events'].uniqueRecords);
  });

  it('keeps a malformed file raw and reports it; rejects records that fail validation with the reason', async () => {
    const { customerId, loads } = await fetched({ datasets: { 'Ring.Alarm.HistoryLog': 5 }, recordsPerFile: 5, malformed: ['Ring.Alarm.HistoryLog'] });
    expect(await loadFile(deps, loads[0])).toMatchObject({ outcome: 'malformed' });
    const { s3 } = world.aws.clients;
    const bucket = world.aws.resources.rawDataBucket;
    expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: loads[0].key }))).KeyCount).toBe(1);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `rejected/${customerId}/` }))).KeyCount).toBe(1);

  });

  it("checks each record against Ring's schema file and ours, rejecting with both reasons; a schema that cannot be used is reported", async () => {
    const customerId = `manual-${Date.now()}`;
    const { s3 } = world.aws.clients;
    const bucket = world.aws.resources.rawDataBucket;
    const ringSchema = { $schema: 'http://json-schema.org/draft-07/schema#', title: 'Ring.EventManager.Events', type: 'array', items: { type: 'object', required: ['eventDate'], properties: { eventDate: { type: 'string', format: 'date-time' }, duration: { type: 'integer', minimum: 0 } } } };
    const records = [{ eventDate: '2026-01-01T00:00:00Z', duration: 1 }, { duration: 2 }, { eventDate: '2026-01-02T00:00:00Z', duration: -3 }, { eventDate: '2026-01-03T00:00:00Z', duration: 4 }];
    // A customer of this test alone, with no connect flow behind it: connected as far as load asks.
    const connected = { get: () => Promise.resolve({ customerId, brand: 'ring', region: 'eu-west-1', scopeId: 'data-portability', status: 'ACTIVE' as const, secretId: 'none', connectedAt: '2026-01-01T00:00:00Z' }) };
    const warnings: string[] = [];
    const quiet = () => undefined;
    const logger = { debug: quiet, info: quiet, error: quiet, warn: (message: string, ...extra: Record<string, unknown>[]) => void warnings.push(JSON.stringify([message, ...extra])) };
    const load = async (queryId: string, schema: string) => {
      const key = `raw/${customerId}/${queryId}/Ring.EventManager.Events/0.json`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(records) }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${key}.schema`, Body: schema }));
      const result = await loadFile({ ...deps, logger, connections: connected }, { queryId, customerId, n: 0, key, schemaKey: `${key}.schema`, bytes: 0, sha256: '' });
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `rejected/${customerId}/${queryId}/` }));
      const report = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: listed.Contents![0].Key! }))).Body!.transformToString();
      return { result, rejects: report.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>) };
    };

    // Both schemas: no eventDate fails both; a negative duration fails only Ring's.
    const both = await load('both', JSON.stringify(ringSchema));
    expect(both.result).toMatchObject({ outcome: 'loaded', records: 2, rejected: 2 });
    expect(both.rejects).toEqual([
      { offset: expect.any(Number), dataset: 'Ring.EventManager.Events', reasons: { ringSchema: expect.stringContaining("required property 'eventDate'"), zod: expect.stringContaining('eventDate') }, record: { duration: 2 } },
      { offset: expect.any(Number), dataset: 'Ring.EventManager.Events', reasons: { ringSchema: expect.stringContaining('record/duration must be >= 0') }, record: records[2] },
    ]);

    // A schema file that is not a usable JSON Schema: reported, and the records are checked by zod alone.
    const unusable = await load('unusable', JSON.stringify({ title: 'Ring.EventManager.Events', type: 'array', items: { type: 'object', properties: { id: { type: 'string', pattern: '^(a+)+$' } } } }));
    expect(unusable.result).toMatchObject({ outcome: 'loaded', records: 3, rejected: 1 });
    expect(unusable.rejects).toEqual([expect.objectContaining({ reasons: { zod: expect.stringContaining('eventDate') }, record: { duration: 2 } })]);
    const summaries = [];
    for await (const file of new DynamoDbCompletionStore(world.aws.clients.documents, world.table).files('unusable')) summaries.push(file);
    expect(summaries).toEqual([expect.objectContaining({ status: 'LOADED', records: 3, rejected: 1, schemaProblem: expect.stringContaining('unsafe to run on untrusted data') })]);
    expect(warnings).toEqual([expect.stringMatching(/Ring's schema file is not usable.*unsafe to run on untrusted data/)]);
  });

  it('keeps a valid record DynamoDB cannot hold as a map (a number beyond its range or precision, nesting past 32 levels) as a pointer to its exact bytes, and re-points it on a later import', async () => {
    const customerId = `unholdable-${Date.now()}`;
    const { s3, documents } = world.aws.clients;
    const bucket = world.aws.resources.rawDataBucket;
    const connected = { get: () => Promise.resolve({ customerId, brand: 'ring', region: 'eu-west-1', scopeId: 'data-portability', status: 'ACTIVE' as const, secretId: 'none', connectedAt: '2026-01-01T00:00:00Z' }) };
    const texts = [
      '{"eventDate":"2026-01-01T00:00:00Z","duration":1}',
      '{"eventDate":"2026-01-02T00:00:00Z","huge":1e300}',
      '{"eventDate":"2026-01-03T00:00:00Z","deviceId":12345678901234567890}',
      '{"eventDate":"2026-01-04T00:00:00Z","tiny":5e-324}',
      `{"eventDate":"2026-01-05T00:00:00Z","deep":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`,
    ];
    const body = `[${texts.join(',\n')}]`;
    const load = async (queryId: string) => {
      const key = `raw/${customerId}/${queryId}/Ring.EventManager.Events/0.json`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${key}.schema`, Body: JSON.stringify({ title: 'Ring.EventManager.Events', type: 'array', items: { type: 'object' } }) }));
      return loadFile({ ...deps, connections: connected }, { queryId, customerId, n: 0, key, schemaKey: `${key}.schema`, bytes: 0, sha256: '' });
    };
    const items = async () =>
      ((await documents.send(new QueryCommand({ TableName: world.aws.resources.recordsTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${customerId}#Ring.EventManager.Events` } }))).Items ?? []) as {
        record?: unknown;
        pointer?: { key: string; start: number; end: number };
        queryId: string;
      }[];
    const bytesAt = async (pointer: { key: string; start: number; end: number }) =>
      (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: pointer.key, Range: `bytes=${pointer.start}-${pointer.end - 1}` }))).Body!.transformToString());

    expect(await load('first')).toMatchObject({ outcome: 'loaded', records: 5, rejected: 0, stats: { recordsNew: 5 } });
    const first = await items();
    expect(first.filter((item) => item.record !== undefined).map((item) => item.record)).toEqual([{ eventDate: '2026-01-01T00:00:00Z', duration: 1 }]);
    const pointed = first.filter((item) => item.pointer !== undefined);
    expect(pointed).toHaveLength(4);
    expect((await Promise.all(pointed.map((item) => bytesAt(item.pointer!)))).sort()).toEqual(texts.slice(1).sort());

    // Another query's copy of the same file: unchanged, written by 'first', pointing at the newer raw file.
    expect(await load('second')).toMatchObject({ outcome: 'loaded', records: 5, stats: { recordsNew: 0, recordsUnchanged: 5 } });
    const second = (await items()).filter((item) => item.pointer !== undefined);
    expect(second.map((item) => [item.queryId, item.pointer!.key])).toEqual(pointed.map(() => ['first', `raw/${customerId}/second/Ring.EventManager.Events/0.json`]));
    expect((await Promise.all(second.map((item) => bytesAt(item.pointer!)))).sort()).toEqual(texts.slice(1).sort());
  });

  it('completes a query at once when the message of a file whose load died before counting it comes back, counting each file once', async () => {
    const { queryId, loads } = await fetched({ datasets: { 'Ring.Alarm.HubData': 6 }, recordsPerFile: 2 });
    const completion = { store: new DynamoDbCompletionStore(world.aws.clients.documents, world.table), manifests: deps.raw as S3RawReader, connections: world.connections, clock: world.clock, logger: world.logger };
    const completing: LoadDeps = { ...deps, onFileLoaded: (query) => completeIfLastFile(completion, query) };
    const [first, ...others] = loads;
    await loadFile(deps, first); // loaded, then killed before counting (kill -9 of npm start, a Lambda timing out)
    const queries = new DynamoDbQueryRepository(world.aws.clients.documents, world.table);
    await expect(loadFile(completing, first)).resolves.toMatchObject({ outcome: 'already' }); // the redelivery counts it
    await expect(loadFile(completing, first)).resolves.toMatchObject({ outcome: 'already' }); // and once only
    expect(await queries.get(queryId)).toMatchObject({ status: 'LOADING' });
    for (const message of others) await loadFile(completing, message);
    expect(await queries.get(queryId)).toMatchObject({ status: 'DONE', totals: { files: 3, records: 6 } });
  });

  it('completes a query whose last load died before counting its file, from the schedule’s reconciler', async () => {
    const { customerId, queryId, loads } = await fetched({ datasets: { 'Ring.Alarm.HubData': 6 }, recordsPerFile: 2 });
    const completion = { store: new DynamoDbCompletionStore(world.aws.clients.documents, world.table), manifests: deps.raw as S3RawReader, connections: world.connections, clock: world.clock, logger: world.logger };
    const completing: LoadDeps = { ...deps, onFileLoaded: (query) => completeIfLastFile(completion, query) };
    const [last, ...others] = [...loads].reverse();
    for (const message of others) await loadFile(completing, message);
    await loadFile(deps, last); // loaded, then "crashed" before counting
    const queries = new DynamoDbQueryRepository(world.aws.clients.documents, world.table);
    expect(await queries.get(queryId)).toMatchObject({ status: 'LOADING' });

    await reconcileLoadingQueries(completion, 60 * 60_000); // not old enough yet: left alone
    expect(await queries.get(queryId)).toMatchObject({ status: 'LOADING' });
    world.sandbox.clock.advance(61 * 60_000);
    // Other queries of this world whose files are all loaded complete too; ours is among them.
    expect((await reconcileLoadingQueries(completion, 60 * 60_000)).completed).toBeGreaterThanOrEqual(1);
    expect(await queries.get(queryId)).toMatchObject({ status: 'DONE' });
    const manifest = await world.aws.clients.s3.send(new GetObjectCommand({ Bucket: world.aws.resources.rawDataBucket, Key: `raw/${customerId}/${queryId}/manifest.json` }));
    expect(JSON.parse(await manifest.Body!.transformToString())).toMatchObject({ totals: { files: 3, records: 6 } });
  });
});
