import type { Context } from 'aws-lambda';
import { DynamoDbQueryRepository } from '../../lambdas/adapters/query-store';
import { makeImportsHandler } from '../../lambdas/imports/app';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { sqsEvent } from './support/sqs-event';

let world: ConnectWorld;
let handle: ReturnType<typeof makeImportsHandler>;
let queries: DynamoDbQueryRepository;
/** What the consumer re-queued (with its delay). */
const requeued: { body: Record<string, unknown>; delaySeconds?: number }[] = [];
beforeAll(async () => {
  // Queries stay in progress (an hour) unless a test completes them.
  world = await connectWorld({ retry: { scheduleSeconds: [] }, sandbox: { queryDelayMs: 3_600_000 } });
  queries = new DynamoDbQueryRepository(world.aws.clients.documents, world.table);
  handle = makeImportsHandler({
    connections: world.connections,
    queries,
    intake: world.intake,
    clock: world.clock,
    logger: world.logger,
    importsQueue: {
      send: (body, options) => {
        requeued.push({ body: body as Record<string, unknown>, delaySeconds: options?.delaySeconds });
        return Promise.resolve();
      },
    },
  });
});
afterAll(() => world.stop());
beforeEach(() => world.control('DELETE', '/faults'));

const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
let next = 0;

/** A connected customer (through the real callback) and its queued first import request. */
async function connectedCustomer(region: 'eu-west-1' | 'us-east-1' | 'us-west-2' = 'eu-west-1', brand: 'ring' | 'blink' = 'ring') {
  const customerId = `import-${Date.now()}-${next++}`;
  const link = JSON.parse((await world.createLink({ customerId, brand, region })).body!) as { authorizeUrl: string };
  await world.callback(await world.consentAt(link.authorizeUrl, { brand }));
  const [request] = await world.queuedImports();
  return { customerId, request };
}

const sandboxQueries = () => world.control<{ id: string; region: string; brand: string; status: string }[]>('GET', '/queries');

describe('imports consumer', () => {
  it('creates the query on the intake of the connection’s brand and region and records it REQUESTED', async () => {
    const { customerId, request } = await connectedCustomer('us-west-2', 'blink');
    const before = (await sandboxQueries()).length;
    const result = await handle(sqsEvent([{ body: request }]), context);
    expect(result).toEqual({ batchItemFailures: [] });
    const created = (await sandboxQueries()).slice(before);
    expect(created).toEqual([expect.objectContaining({ region: 'us-west-2', brand: 'blink', status: 'IN_PROGRESS' })]);
    expect(await queries.get(created[0].id)).toMatchObject({ queryId: created[0].id, customerId, brand: 'blink', region: 'us-west-2', status: 'REQUESTED', attempt: 1 });
  });

  it('is idempotent under redelivery: the same message twice makes one query', async () => {
    const { request } = await connectedCustomer();
    const before = (await sandboxQueries()).length;
    const messageId = 'redelivered-message';
    await handle(sqsEvent([{ body: request, messageId }]), context);
    await handle(sqsEvent([{ body: request, messageId }]), context);
    expect((await sandboxQueries()).length - before).toBe(1);
  });

  it('does not create a second query while one is in progress (409): it waits for it', async () => {
    const { request } = await connectedCustomer();
    await handle(sqsEvent([{ body: request }]), context);
    const before = (await sandboxQueries()).length;
    world.sandbox.clock.advance(5 * 60_000 + 1); // past Ring's 5-minute identical-response cache
    requeued.splice(0);
    const result = await handle(sqsEvent([{ body: { ...request, reason: 'requested' } }]), context);
    expect(result.batchItemFailures).toEqual([]);
    expect((await sandboxQueries()).length).toBe(before);
    expect(requeued).toEqual([]);
  });

  it('re-queues with a delay on 429, instead of sleeping', async () => {
    const { request } = await connectedCustomer();
    await world.control('PUT', '/faults', { rules: [{ operation: 'createDataQuery', nth: [1], error: 'TOO_MANY_REQUESTS', retryAfterSeconds: 120 }] });
    requeued.splice(0);
    const result = await handle(sqsEvent([{ body: request }]), context);
    expect(result.batchItemFailures).toEqual([]);
    expect(requeued).toEqual([{ body: { ...request, notBefore: expect.any(Number) }, delaySeconds: 120 }]);
    expect((requeued[0].body.notBefore as number) - world.clock.now()).toBeGreaterThan(100_000);
  });

  it('revokes the connection when Ring refuses a fresh token (on hold), without retrying', async () => {
    const { customerId, request } = await connectedCustomer();
    // Refused twice: with the cached token, and again with a freshly refreshed one.
    await world.control('PUT', '/faults', { rules: [{ operation: 'createDataQuery', nth: [1, 2], error: 'ACCESS_DENIED' }] });
    const result = await handle(sqsEvent([{ body: request }]), context);
    expect(result.batchItemFailures).toEqual([]);
    expect(JSON.parse((await world.status(customerId)).body!)).toMatchObject({ status: 'REVOKED' });
  });

  it('fails loudly (to the DLQ) on a configuration error', async () => {
    const { request } = await connectedCustomer();
    await world.control('PUT', '/faults', { rules: [{ operation: 'createDataQuery', nth: [1], error: 'APP_NOT_ALLOWLISTED' }] });
    const event = sqsEvent([{ body: request }]);
    expect(await handle(event, context)).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
  });

  it('reports a malformed message as failed and processes the rest of the batch', async () => {
    const { request } = await connectedCustomer();
    const event = sqsEvent([{ body: { customerId: 'bad id with spaces' } }, { body: request }]);
    expect(await handle(event, context)).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
  });
});
