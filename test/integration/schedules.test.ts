import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { SqsWorkQueue } from '../../lambdas/adapters/aws-admin';
import { DynamoDbNotificationQueryStore, DynamoDbQueryRepository } from '../../lambdas/adapters/query-store';
import { dispatchImports } from '../../lambdas/core/queries/admission';
import { keepTokensAlive, pollOverdueQueries, type ScheduleDeps } from '../../lambdas/core/queries/schedule';
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
    importSchedule: world.release,
    tokenAges: world.tokenAges,
    clock: world.clock,
    logger: world.logger,
  };
  importHandler = makeImportsHandler(world.importsDeps({ send: () => Promise.resolve() }));
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

  it('dispatches a recurring import one interval after the last successful one, once, one createDataQuery slot per 60 s', async () => {
    const customers = [await connectedCustomer(), await connectedCustomer(), await connectedCustomer()];
    // Each first import runs and its query completes: the next falls due an interval later.
    for (const { customerId, request } of customers) {
      await importHandler(sqsEvent([{ body: request }]), context);
      const entry = await world.schedule.get(customerId);
      expect(entry).toMatchObject({ state: 'BUSY', queryId: expect.any(String) });
      await world.release.release(customerId, { queryId: entry!.queryId!, createdAt: new Date(world.clock.now()).toISOString(), succeeded: true });
    }
    const sent: { body: { customerId: string; reason: string; ticket: string }; delaySeconds?: number }[] = [];
    const recording = { settings: world.settings, schedule: world.schedule, connections: world.connections, clock: world.clock, logger: world.logger, imports: { send: (body: object, options?: { delaySeconds?: number }) => Promise.resolve(void sent.push({ body: body as never, delaySeconds: options?.delaySeconds })) } };
    await dispatchImports(recording);
    expect(sent.filter((entry) => customers.some((customer) => customer.customerId === entry.body.customerId))).toEqual([]);
    world.sandbox.clock.advance(61 * 60_000);
    // Two runs at once (EventBridge delivers at least once): the slots are handed out once.
    await world.together([() => dispatchImports(recording), () => dispatchImports(recording)]);
    expect(sent).toEqual([{ body: expect.objectContaining({ reason: 'scheduled', ticket: expect.any(String) }), delaySeconds: 0 }]);
    // One slot a minute (20 per 20 minutes), in order of the oldest successful import (an
    // earlier test's customer, due before these, may come first).
    for (let minute = 1; minute <= 3; minute++) {
      world.sandbox.clock.advance(60_000);
      await dispatchImports(recording);
    }
    expect(sent.length).toBe(4);
    const ours = customers.map((customer) => customer.customerId);
    expect(sent.map((entry) => entry.body.customerId).filter((id) => ours.includes(id))).toEqual(ours);
    expect(await dispatchImports(recording)).toMatchObject({ dispatched: 0, backlog: { ring: 0 } });
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
