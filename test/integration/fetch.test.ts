import { DynamoDbQueryRepository } from '../../lambdas/adapters/query-store';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { collectedQuery, fetchHandler, LONG_CONTEXT, storedObject } from './support/pipeline';
import { sqsEvent } from './support/sqs-event';

let world: ConnectWorld;
beforeAll(async () => {
  world = await connectWorld({ sandbox: { queryDelayMs: 100 }, retry: { scheduleSeconds: [] } });
});
afterAll(() => world.stop());
beforeEach(() => world.control('DELETE', '/faults'));

const context = LONG_CONTEXT;

interface Truth {
  files: { id: string; dataset: string; bytes: number; sha256: string }[];
}

/** A completed query, collected: its fetch messages and the sandbox's ground truth. */
async function collected(datasets: Record<string, number>, recordsPerFile = 50) {
  const query = await collectedQuery(world, { datasets, recordsPerFile }, 'fetch');
  return { ...query, truth: await world.control<Truth>('GET', `/queries/${query.queryId}/ground-truth`) };
}

const fetcher = () => fetchHandler(world);

const stored = (key: string) => storedObject(world, key);

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

  // Download 1 is the schema, 2 the data file: a cut before any byte is a reset before the response's headers.
  it.each([
    ['a schema download cut after 1 byte', 1, 1],
    ['a schema download reset before its headers', 1, 0],
    ['a data download reset before its headers', 2, 0],
  ])('retries %s in the invocation, and stores both files whole', async (_what, nth, cutAfterBytes) => {
    const { messages, truth } = await collected({ 'Ring.EventManager.Events': 40 }, 40);
    const schema = Buffer.from(await (await fetch(messages[0].schemaUrl)).arrayBuffer());
    await world.control('PUT', '/faults', { rules: [{ operation: 'download', nth: [nth], cutAfterBytes }] });
    const { handler, loads } = fetcher();
    expect(await handler(sqsEvent([{ body: messages[0] }]), context)).toEqual({ batchItemFailures: [] });
    expect(loads).toEqual([expect.objectContaining({ bytes: truth.files[0].bytes, sha256: truth.files[0].sha256 })]);
    expect((await stored(loads[0].schemaKey)).bytes).toBe(schema.length);
    expect(await world.control('GET', '/faults/counts')).toMatchObject({ downloads: { cut: 1 } });
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
