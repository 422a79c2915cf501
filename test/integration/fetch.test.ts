import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { DynamoDbCollectStore, DynamoDbFetchStore } from '../../lambdas/adapters/ingest-store';
import { DynamoDbQueryRepository } from '../../lambdas/adapters/query-store';
import { HttpFileDownloader, S3RawObjectStore } from '../../lambdas/adapters/raw-files';
import { makeCollectHandler } from '../../lambdas/collect/app';
import type { FetchMessage } from '../../lambdas/core/ingest/collect';
import type { LoadMessage } from '../../lambdas/core/ingest/fetch';
import { makeFetchHandler } from '../../lambdas/fetch/app';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { sqsEvent } from './support/sqs-event';

let world: ConnectWorld;
jest.setTimeout(60_000);
beforeAll(async () => {
  world = await connectWorld({ sandbox: { queryDelayMs: 100 }, sleep: 'sandbox', retry: { scheduleSeconds: [] } });
});
afterAll(() => world.stop());
beforeEach(() => world.control('DELETE', '/faults'));

const context = { getRemainingTimeInMillis: () => 300_000 } as unknown as Context;
let next = 0;

interface Truth {
  files: { id: string; dataset: string; bytes: number; sha256: string }[];
}

/** A completed query, collected: its fetch messages and the sandbox's ground truth. */
async function collected(datasets: Record<string, number>, recordsPerFile = 50) {
  const customerId = `fetch-${Date.now()}-${next++}`;
  const link = JSON.parse((await world.createLink({ customerId, brand: 'ring' })).body!) as { authorizeUrl: string };
  await world.callback(await world.consentAt(link.authorizeUrl, { datasets, recordsPerFile }));
  await world.queuedImports();
  const connection = (await world.connections.get(customerId))!;
  const { queryId } = await world.intake.createDataQuery({ customerId, brand: 'ring', region: 'eu-west-1', secretId: connection.secretId });
  await new DynamoDbQueryRepository(world.aws.clients.documents, world.table).create({
    queryId,
    customerId,
    brand: 'ring',
    region: 'eu-west-1',
    scopeId: 'data-portability',
    status: 'COMPLETED',
    createdAt: new Date(world.clock.now()).toISOString(),
    attempt: 1,
  });
  world.sandbox.clock.advance(100);
  const messages: FetchMessage[] = [];
  await makeCollectHandler({
    store: new DynamoDbCollectStore(world.aws.clients.documents, world.table),
    connections: world.connections,
    intake: world.intake,
    files: { send: (body) => Promise.resolve(void messages.push(body as FetchMessage)) },
    imports: world.connectDeps.imports,
    completedQueue: world.connectDeps.imports,
    clock: world.clock,
    logger: world.logger,
  })(sqsEvent([{ body: { queryId, customerId, brand: 'ring', region: 'eu-west-1', completedAt: new Date(world.clock.now()).toISOString() } }]), context);
  return { queryId, customerId, messages, truth: await world.control<Truth>('GET', `/queries/${queryId}/ground-truth`) };
}

function fetcher() {
  const loads: LoadMessage[] = [];
  const handler = makeFetchHandler({
    store: new DynamoDbFetchStore(world.aws.clients.documents, world.table),
    failQuery: (queryId, reason, now) => new DynamoDbCollectStore(world.aws.clients.documents, world.table).fail(queryId, reason, now),
    imports: world.connectDeps.imports,
    connections: world.connections,
    intake: world.intake,
    downloader: new HttpFileDownloader(),
    objects: new S3RawObjectStore(world.aws.clients.s3, world.aws.resources.rawDataBucket),
    loads: { send: (body) => Promise.resolve(void loads.push(body as LoadMessage)) },
    filesQueue: { send: () => Promise.reject(new Error('unexpected re-queue')) },
    clock: world.clock,
    logger: world.logger,
  });
  return { handler, loads };
}

async function stored(key: string): Promise<{ bytes: number; sha256: string }> {
  const object = await world.aws.clients.s3.send(new GetObjectCommand({ Bucket: world.aws.resources.rawDataBucket, Key: key }));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of object.Body as Readable) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

const downloads = async () => (await world.control<{ path: string; status: number }[]>('GET', '/calls')).filter((call) => call.path.startsWith('/ring/files/'));

describe('fetch stage', () => {
  it('streams every listed file into S3 byte for byte, with its schema, and asks for its load', async () => {
    const { messages, truth, customerId, queryId } = await collected({ 'Ring.EventManager.Events': 120, 'Ring.Alarm.HubData': 5, 'Ring.RingDeviceRegistry.Device': 3 });
    const { handler, loads } = fetcher();
    expect(await handler(sqsEvent(messages.map((body) => ({ body }))), context)).toEqual({ batchItemFailures: [] });
    expect(loads.map((load) => load.n).sort((a, b) => a - b)).toEqual(messages.map((message) => message.n));
    for (const load of loads) {
      const truthFile = truth.files[load.n];
      expect(load.key).toBe(`raw/${customerId}/${queryId}/${truthFile.dataset}/${load.n}.json`);
      expect({ bytes: load.bytes, sha256: load.sha256 }).toEqual({ bytes: truthFile.bytes, sha256: truthFile.sha256 });
      expect(await stored(load.key)).toEqual({ bytes: truthFile.bytes, sha256: truthFile.sha256 });
      expect((await stored(load.schemaKey)).bytes).toBeGreaterThan(50);
    }

    // Delivered again: nothing is downloaded twice; the load is asked for again (load is idempotent).
    await world.control('DELETE', '/calls');
    const again = fetcher();
    await again.handler(sqsEvent(messages.map((body) => ({ body }))), context);
    expect(await downloads()).toEqual([]);
    expect(again.loads).toHaveLength(messages.length);
  });

  it('re-lists for fresh URLs when the listed ones have expired', async () => {
    const { messages, truth } = await collected({ 'Ring.Alarm.AuditLog': 20 });
    world.sandbox.clock.advance(6 * 60_000);
    const { handler, loads } = fetcher();
    expect(await handler(sqsEvent(messages.map((body) => ({ body }))), context)).toEqual({ batchItemFailures: [] });
    expect(loads.map((load) => load.sha256)).toEqual(truth.files.map((file) => file.sha256));
  });

  it('gets past Ring’s 5-minute cached listing when URLs are about to expire', async () => {
    const { messages, truth } = await collected({ 'Ring.Alarm.DeviceLog': 10 });
    world.sandbox.clock.advance(4 * 60_000 + 30_000);
    const { handler, loads } = fetcher();
    await handler(sqsEvent(messages.map((body) => ({ body }))), context);
    expect(loads.map((load) => load.sha256)).toEqual(truth.files.map((file) => file.sha256));
  });

  it('retries a download cut after N bytes and an S3 error, and stores exactly the file', async () => {
    const { messages, truth } = await collected({ 'Ring.EventManager.Events': 300 }, 300);
    await world.control('PUT', '/faults', {
      rules: [
        { operation: 'download', nth: [2], cutAfterBytes: 5_000 },
        { operation: 'download', nth: [3], downloadError: 'SlowDown' },
      ],
    });
    const { handler, loads } = fetcher();
    expect(await handler(sqsEvent(messages.map((body) => ({ body }))), context)).toEqual({ batchItemFailures: [] });
    expect(loads).toEqual([expect.objectContaining({ bytes: truth.files[0].bytes, sha256: truth.files[0].sha256 })]);
    expect(await stored(loads[0].key)).toEqual({ bytes: truth.files[0].bytes, sha256: truth.files[0].sha256 });
  });

  it('fails the query and asks for a new import when its hour is over before a file could be fetched', async () => {
    const { messages, queryId, customerId } = await collected({ 'Ring.Alarm.HubData': 3 });
    world.sandbox.clock.advance(61 * 60_000);
    const { handler, loads } = fetcher();
    expect(await handler(sqsEvent([{ body: messages[0] }]), context)).toEqual({ batchItemFailures: [] });
    expect(loads).toEqual([]);
    expect(await new DynamoDbQueryRepository(world.aws.clients.documents, world.table).get(queryId)).toMatchObject({ status: 'FAILED' });
    expect(await world.queuedImports()).toEqual([expect.objectContaining({ customerId, reason: 'recheck' })]);
  });
});
