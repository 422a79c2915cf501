import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { SqsWorkQueue } from '../../lambdas/adapters/aws-admin';
import { DynamoDbNotificationQueryStore, DynamoDbQueryRepository } from '../../lambdas/adapters/query-store';
import { keepTokensAlive, pollOverdueQueries, scheduleRecurringImports, type ScheduleDeps } from '../../lambdas/core/queries/schedule';
import { makeImportsHandler } from '../../lambdas/imports/app';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { sqsEvent } from './support/sqs-event';

let world: ConnectWorld;
let deps: ScheduleDeps;
let completedUrl: string;
let queries: DynamoDbQueryRepository;
let importHandler: ReturnType<typeof makeImportsHandler>;

beforeAll(async () => {
  world = await connectWorld({
    sandbox: { queryDelayMs: 100, accessTokenTtlSeconds: 4 * 3600 },
    settings: { schedules: { notificationOverdueMinutes: 15, importIntervalMinutes: 60, refreshTokenMaxAgeDays: 20 } },
  });
  const { aws } = world;
  completedUrl = (await aws.clients.sqs.send(new CreateQueueCommand({ QueueName: `${world.prefix}-completed` }))).QueueUrl!;
  queries = new DynamoDbQueryRepository(aws.clients.documents, world.table);
  deps = {
    settings: world.settings,
    connections: world.connections,
    queryRecords: queries,
    queries: new DynamoDbNotificationQueryStore(aws.clients.documents, world.table),
    completed: new SqsWorkQueue(aws.clients.sqs, completedUrl),
    intake: world.intake,
    tokens: world.tokens,
    imports: world.connectDeps.imports,
    clock: world.clock,
    logger: world.logger,
  };
  importHandler = makeImportsHandler({ connections: world.connections, queries, intake: world.intake, clock: world.clock, logger: world.logger, importsQueue: world.connectDeps.imports });
});
afterAll(async () => {
  await world.aws.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: completedUrl }));
  await world.stop();
});

const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
let next = 0;

async function connectedCustomer() {
  const customerId = `scheduled-${Date.now()}-${next++}`;
  const link = JSON.parse((await world.createLink({ customerId, brand: 'ring' })).body!) as { authorizeUrl: string };
  await world.callback(await world.consentAt(link.authorizeUrl, { consent: { history: '30d', duration: '1y' } }));
  const [request] = await world.queuedImports();
  return { customerId, request };
}

async function completedMessages(): Promise<{ queryId: string }[]> {
  const { Messages = [] } = await world.aws.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: completedUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
  return Messages.map((message) => JSON.parse(message.Body!) as { queryId: string });
}

describe('scheduled work', () => {
  it('recovers a query whose notification never came by polling it', async () => {
    // No notification URL is registered in this world: every notification is lost.
    const { request } = await connectedCustomer();
    await importHandler(sqsEvent([{ body: request }]), context);
    const sandboxQueries = await world.control<{ id: string; status: string }[]>('GET', '/queries');
    const queryId = sandboxQueries[sandboxQueries.length - 1].id;
    world.sandbox.clock.advance(1_000);
    expect(await pollOverdueQueries(deps)).toMatchObject({ completed: 0 }); // not overdue yet
    world.sandbox.clock.advance(16 * 60_000);
    expect(await pollOverdueQueries(deps)).toMatchObject({ completed: 1 });
    expect(await completedMessages()).toEqual([expect.objectContaining({ queryId })]);
    expect(await queries.get(queryId)).toMatchObject({ status: 'COMPLETED' });
    expect(await pollOverdueQueries(deps)).toMatchObject({ probed: 0 });
  });

  it('requests a recurring import once the interval has passed, once, spreading requests over the createDataQuery budget', async () => {
    const { customerId } = await connectedCustomer();
    await connectedCustomer();
    await connectedCustomer();
    const sent: { body: { customerId: string; reason: string; notBefore: number }; delaySeconds?: number }[] = [];
    const recording = { ...deps, imports: { send: (body: object, options?: { delaySeconds?: number }) => Promise.resolve(void sent.push({ body: body as never, delaySeconds: options?.delaySeconds })) } };
    await scheduleRecurringImports(recording);
    expect(sent.filter((entry) => entry.body.customerId === customerId)).toEqual([]);
    world.sandbox.clock.advance(61 * 60_000);
    // Two runs at once (EventBridge delivers at least once): one request for the customer.
    await world.together([() => scheduleRecurringImports(recording), () => scheduleRecurringImports(recording)]);
    expect(sent.filter((entry) => entry.body.customerId === customerId)).toEqual([{ body: expect.objectContaining({ customerId, reason: 'scheduled' }), delaySeconds: expect.any(Number) }]);

    // One run spreads what is due one per 60 s: 20 per 20 minutes. (Each run spaces its own
    // requests; two overlapping runs each start at 0, which the shared rate limiter absorbs.)
    sent.splice(0);
    world.sandbox.clock.advance(61 * 60_000);
    await scheduleRecurringImports(recording);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(sent.map((entry) => entry.delaySeconds)).toEqual(sent.map((_, i) => i * 60));
  });

  it('keeps a connection alive for 60 days with exactly one refresh each time its refresh token ages', async () => {
    const { customerId } = await connectedCustomer();
    const connection = await world.connections.get(customerId);
    for (let period = 0; period < 3; period++) {
      world.sandbox.clock.advance(21 * 86_400_000);
      await world.control('DELETE', '/calls');
      let active = 0;
      for await (const _connection of world.connections.listByStatus('ACTIVE')) active++;
      // Two keepers at once: still one refresh per connection.
      const runs = await world.together([() => keepTokensAlive(deps), () => keepTokensAlive(deps)]);
      expect(runs[0].refreshed + runs[1].refreshed).toBe(active);
      expect(await world.tokenCalls()).toBe(active);
    }
    // 63 days in: Ring's refresh tokens expire after 30 unused days, this one still works.
    const token = await world.tokens.getAccessToken({ customerId, brand: 'ring', region: 'eu-west-1', secretId: connection!.secretId });
    expect(token.token.reveal()).toMatch(/^Atza\|/);
  });
});
