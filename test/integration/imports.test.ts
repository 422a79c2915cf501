import type { Context } from 'aws-lambda';
import { DynamoDbNotificationQueryStore, DynamoDbQueryRepository } from '../../lambdas/adapters/query-store';
import type { ImportRequest } from '../../lambdas/core/connections/model';
import { finishQuery, type FinishDeps } from '../../lambdas/core/notifications/handle';
import { makeImportsHandler } from '../../lambdas/imports/app';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { eventually } from './support/local-aws';
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
  handle = makeImportsHandler(
    world.importsDeps({
      send: (body, options) => {
        requeued.push({ body: body as Record<string, unknown>, delaySeconds: options?.delaySeconds });
        return Promise.resolve();
      },
    }),
  );
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

const sandboxQueries = () => world.control<{ id: string; region: string; brand: string; status: string; createdAt: string }[]>('GET', '/queries');
const statusOf = async (customerId: string) => JSON.parse((await world.status(customerId)).body!) as { status: string; lastImport?: Record<string, unknown> };

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
    // A dispatched import waits again in the schedule, in its place, not before Ring's Retry-After.
    expect(requeued).toEqual([]);
    const entry = await world.schedule.get(request.customerId);
    expect(entry).toMatchObject({ state: 'WAITING', priority: 0, retryAt: new Date(world.clock.now() + 120_000).toISOString() });
    expect(await world.queuedImports()).not.toContainEqual(expect.objectContaining({ customerId: request.customerId }));
    world.sandbox.clock.advance(120_000);
    expect(await world.queuedImports()).toContainEqual(expect.objectContaining({ customerId: request.customerId, reason: 'connected' }));
  });

  it('holds the connection when Ring refuses a fresh token (on hold), without retrying', async () => {
    const { customerId, request } = await connectedCustomer();
    // Refused twice: with the cached token, and again with a freshly refreshed one.
    await world.control('PUT', '/faults', { rules: [{ operation: 'createDataQuery', nth: [1, 2], error: 'ACCESS_DENIED' }] });
    const result = await handle(sqsEvent([{ body: request }]), context);
    expect(result.batchItemFailures).toEqual([]);
    expect(JSON.parse((await world.status(customerId)).body!)).toMatchObject({ status: 'ON_HOLD' });
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

describe('a re-import inside Ring’s 5-minute response cache', () => {
  const CACHE_MS = 5 * 60_000;
  /** The notification endpoint's path: a query's end recorded, a canceled one re-checked. */
  const notified = (rechecks: ImportRequest[] = []): FinishDeps => ({
    queries: new DynamoDbNotificationQueryStore(world.aws.clients.documents, world.table),
    completed: { send: () => Promise.resolve() },
    imports: { send: (body) => Promise.resolve(void rechecks.push(body as ImportRequest)) },
    importSchedule: world.release,
    clock: world.clock,
    logger: world.logger,
  });

  /** A connected customer whose first query Ring has created; the sandbox queries before it. */
  async function firstQuery() {
    const { customerId, request } = await connectedCustomer();
    const before = (await sandboxQueries()).length;
    await handle(sqsEvent([{ body: request }]), context);
    const [first] = (await sandboxQueries()).slice(before);
    return { customerId, before, first };
  }

  it('re-checks a canceled query with a new query: it waits past the cache Ring answered from', async () => {
    const { customerId, before, first } = await firstQuery();
    // Ring cancels the query (its cause is gone by the re-check); the notification re-checks.
    await world.control('POST', `/queries/${first.id}/cancel`);
    const rechecks: ImportRequest[] = [];
    expect(await finishQuery(notified(rechecks), first.id, 'CANCELED', `sns-${first.id}`)).toBe('canceled');
    expect(rechecks).toEqual([expect.objectContaining({ customerId, reason: 'recheck', attempt: 2 })]);

    world.sandbox.clock.advance(60_000); // inside the cache: Ring answers with the canceled query
    requeued.splice(0);
    expect(await handle(sqsEvent([{ body: rechecks[0] }]), context)).toEqual({ batchItemFailures: [] });
    expect((await sandboxQueries()).slice(before).map((query) => query.id)).toEqual([first.id]);
    expect(requeued).toEqual([{ body: expect.objectContaining({ ...rechecks[0], notBefore: expect.any(Number) }), delaySeconds: expect.any(Number) }]);
    const notBefore = requeued[0].body.notBefore as number;
    expect(notBefore).toBeGreaterThan(Date.parse(first.createdAt) + CACHE_MS);
    expect(requeued[0].delaySeconds).toBeLessThanOrEqual(900);
    expect(await statusOf(customerId)).toMatchObject({
      status: 'ACTIVE',
      lastImport: { trigger: 'recheck', requestedAt: rechecks[0].requestedAt, state: 'WAITING', retryAt: new Date(notBefore).toISOString(), detail: expect.stringContaining(first.id) },
    });

    world.sandbox.clock.advance(notBefore - world.clock.now());
    expect(await handle(sqsEvent([{ body: requeued[0].body }]), context)).toEqual({ batchItemFailures: [] });
    const created = (await sandboxQueries()).slice(before);
    expect(created).toEqual([expect.objectContaining({ id: first.id, status: 'CANCELED' }), expect.objectContaining({ status: 'IN_PROGRESS' })]);
    expect(await queries.get(created[1].id)).toMatchObject({ customerId, status: 'REQUESTED', attempt: 2 });
    expect((await statusOf(customerId)).lastImport).toMatchObject({ trigger: 'recheck', state: 'REQUESTED', queryId: created[1].id });
  });

  it('says what became of an import asked for through the API within 5 minutes of the last one', async () => {
    const { customerId, before, first } = await firstQuery();
    await world.control('POST', `/queries/${first.id}/complete`);
    expect(await finishQuery(notified(), first.id, 'COMPLETED', `sns-${first.id}`)).toBe('completed');
    world.sandbox.clock.advance(2 * 60_000);

    const asked = await world.importNow(customerId);
    expect(asked.statusCode).toBe(202);
    const answer = JSON.parse(asked.body!) as { queued: boolean; requestedAt: string };
    expect(answer).toEqual({ queued: true, merged: false, state: 'QUEUED', requestedAt: new Date(world.clock.now()).toISOString() });
    expect((await statusOf(customerId)).lastImport).toEqual({ trigger: 'requested', requestedAt: answer.requestedAt, state: 'QUEUED', updatedAt: answer.requestedAt });

    const queued = await eventually(async () => (await world.queuedImports()).find((body) => body.customerId === customerId && body.reason === 'requested'), 'the queued import');
    await handle(sqsEvent([{ body: queued }]), context);
    expect((await sandboxQueries()).slice(before)).toHaveLength(1);
    const waiting = (await statusOf(customerId)).lastImport;
    expect(waiting).toMatchObject({ trigger: 'requested', requestedAt: answer.requestedAt, state: 'WAITING', detail: expect.stringMatching(new RegExp(`${first.id}.*COMPLETED`)) });

    world.sandbox.clock.advance(Date.parse((await world.schedule.get(customerId))!.retryAt!) - world.clock.now());
    const again = (await world.queuedImports()).find((body) => body.customerId === customerId);
    await handle(sqsEvent([{ body: again }]), context);
    const created = (await sandboxQueries()).slice(before);
    expect(created).toHaveLength(2);
    expect((await statusOf(customerId)).lastImport).toMatchObject({ requestedAt: answer.requestedAt, state: 'REQUESTED', queryId: created[1].id });
  });

  it('keeps what became of the newest request: an older one handled later does not hide it', async () => {
    const { customerId, request } = await connectedCustomer();
    const newer = { ...request, reason: 'requested', requestedAt: new Date(world.clock.now() + 1).toISOString() };
    await handle(sqsEvent([{ body: newer }]), context);
    await handle(sqsEvent([{ body: request }]), context); // Ring's cache: the query just created, still running
    expect((await statusOf(customerId)).lastImport).toMatchObject({ requestedAt: newer.requestedAt, trigger: 'requested', state: 'REQUESTED' });
  });

  it('is still one query when the message that created it is delivered again after it ended', async () => {
    const { customerId, request } = await connectedCustomer();
    const before = (await sandboxQueries()).length;
    const event = sqsEvent([{ body: request }]);
    await handle(event, context);
    const [first] = (await sandboxQueries()).slice(before);
    await world.control('POST', `/queries/${first.id}/complete`);
    await finishQuery(notified(), first.id, 'COMPLETED', `sns-${first.id}`);
    requeued.splice(0);
    await handle(event, context); // SQS delivers at least once
    expect(requeued).toEqual([]);
    expect((await sandboxQueries()).slice(before)).toHaveLength(1);
    expect((await statusOf(customerId)).lastImport).toMatchObject({ state: 'REQUESTED', queryId: first.id });
  });
});

describe('one import per connection at a time', () => {
  it('merges 10 concurrent requests for one connection whose access token has expired: one refresh, one createDataQuery', async () => {
    const { customerId, request } = await connectedCustomer();
    await handle(sqsEvent([{ body: request }]), context);
    const entry = await world.schedule.get(customerId);
    await world.release.release(customerId, { queryId: entry!.queryId!, createdAt: new Date(world.clock.now()).toISOString(), succeeded: true });
    world.sandbox.clock.advance(5 * 3_600_000); // the access token (4 hours) has expired
    await world.control('DELETE', '/calls');

    const answers = await world.together(Array.from({ length: 10 }, () => () => world.importNow(customerId)));
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(10).fill(202));
    const bodies = answers.map((answer) => JSON.parse(answer.body!) as { requestedAt: string; merged: boolean });
    expect(new Set(bodies.map((body) => body.requestedAt)).size).toBe(1);
    expect(bodies.filter((body) => !body.merged).length).toBeLessThanOrEqual(1);

    const dispatched = (await world.queuedImports()).filter((body) => body.customerId === customerId);
    expect(dispatched).toHaveLength(1);
    // Delivered twice (SQS is at least once): still one query.
    await world.together([() => handle(sqsEvent([{ body: dispatched[0] }]), context), () => handle(sqsEvent([{ body: dispatched[0] }]), context)]);
    const calls = await world.control<{ method: string; path: string }[]>('GET', '/calls');
    expect(calls.filter((call) => call.method === 'POST' && call.path.endsWith('/data-queries'))).toHaveLength(1);
    expect(calls.filter((call) => call.method === 'POST' && call.path.endsWith('/oauth/token'))).toHaveLength(1);
    expect(await world.schedule.get(customerId)).toMatchObject({ state: 'BUSY', queryId: expect.any(String) });
  });
});
