import type { Context } from 'aws-lambda';
import { DynamoDbCollectStore } from '../../lambdas/adapters/ingest-store';
import { DynamoDbQueryRepository } from '../../lambdas/adapters/query-store';
import { makeCollectHandler } from '../../lambdas/collect/app';
import type { FetchMessage } from '../../lambdas/core/ingest/collect';
import type { WorkQueue } from '../../lambdas/core/ports';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { sqsEvent } from './support/sqs-event';

let world: ConnectWorld;
let queries: DynamoDbQueryRepository;
jest.setTimeout(60_000);

beforeAll(async () => {
  world = await connectWorld({ sandbox: { queryDelayMs: 100 }, sleep: 'sandbox', retry: { scheduleSeconds: [] } });
  queries = new DynamoDbQueryRepository(world.aws.clients.documents, world.table);
});
afterAll(() => world.stop());
beforeEach(() => world.control('DELETE', '/faults'));

const context = { getRemainingTimeInMillis: () => 300_000 } as unknown as Context;
let next = 0;

/** What a files queue received. */
function recordingQueue(failAfter = Infinity) {
  const sent: FetchMessage[] = [];
  const queue: WorkQueue = {
    send: (body) => {
      if (sent.length >= failAfter) return Promise.reject(new Error('SQS unavailable (injected)'));
      sent.push(body as FetchMessage);
      return Promise.resolve();
    },
  };
  return { sent, queue };
}

function collector(files: WorkQueue) {
  return makeCollectHandler({
    store: new DynamoDbCollectStore(world.aws.clients.documents, world.table),
    connections: world.connections,
    intake: world.intake,
    files,
    imports: world.connectDeps.imports,
    completedQueue: world.connectDeps.imports,
    clock: world.clock,
    logger: world.logger,
  });
}

/** A connected customer whose query completed at the sandbox and is recorded COMPLETED here. */
async function completedQuery(datasets: Record<string, number>, recordsPerFile: number) {
  const customerId = `collect-${Date.now()}-${next++}`;
  const link = JSON.parse((await world.createLink({ customerId, brand: 'ring' })).body!) as { authorizeUrl: string };
  await world.callback(await world.consentAt(link.authorizeUrl, { datasets, recordsPerFile }));
  await world.queuedImports();
  const connection = (await world.connections.get(customerId))!;
  const { queryId } = await world.intake.createDataQuery({ customerId, brand: 'ring', region: 'eu-west-1', secretId: connection.secretId });
  await queries.create({ queryId, customerId, brand: 'ring', region: 'eu-west-1', scopeId: 'data-portability', status: 'COMPLETED', createdAt: new Date(world.clock.now()).toISOString(), attempt: 1 });
  world.sandbox.clock.advance(100);
  const truth = await world.control<{ totalFiles: number; files: { dataset: string }[] }>('GET', `/queries/${queryId}/ground-truth`);
  return { customerId, queryId, truth, body: { queryId, customerId, brand: 'ring', region: 'eu-west-1', completedAt: new Date(world.clock.now()).toISOString() } };
}

describe('collect stage', () => {
  it('lists every page (250 a page) into one task and one fetch message per file, with the dataset guessed from the URL', async () => {
    const { queryId, truth, body } = await completedQuery({ 'Ring.EventManager.Events': 520, 'Ring.Alarm.HubData': 3, 'Ring.Alarm.AuditLog': 4 }, 2);
    expect(truth.totalFiles).toBe(260 + 2 + 2);
    const files = recordingQueue();
    expect(await collector(files.queue)(sqsEvent([{ body }]), context)).toEqual({ batchItemFailures: [] });
    expect(files.sent.map((message) => message.n)).toEqual(Array.from({ length: truth.totalFiles }, (_, i) => i));
    expect(files.sent.map((message) => message.dataset)).toEqual(truth.files.map((file) => file.dataset));
    expect(new Set(files.sent.map((message) => message.pageToken)).size).toBe(2); // two list pages
    expect(files.sent.every((message) => message.fileUrl.includes('X-Amz-Signature') && message.schemaUrl.includes('.schema.json'))).toBe(true);
    expect(await queries.get(queryId)).toMatchObject({ status: 'LOADING', files: truth.totalFiles });

    // Delivered again: nothing new.
    const again = recordingQueue();
    await collector(again.queue)(sqsEvent([{ body }]), context);
    expect(again.sent).toEqual([]);
  });

  it('finishes after dying half-way, sending only what was not sent', async () => {
    const { truth, body } = await completedQuery({ 'Ring.EventManager.Events': 30 }, 3);
    const crashing = recordingQueue(4);
    const event = sqsEvent([{ body }]);
    expect(await collector(crashing.queue)(event, context)).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
    const rest = recordingQueue();
    await collector(rest.queue)(sqsEvent([{ body }]), context);
    expect([...crashing.sent, ...rest.sent].map((message) => message.n).sort((a, b) => a - b)).toEqual(Array.from({ length: truth.totalFiles }, (_, i) => i));
  });

  it('fails the query and asks for a new import when the listing window has elapsed', async () => {
    const { customerId, queryId, body } = await completedQuery({ 'Ring.Alarm.HubData': 2 }, 10);
    world.sandbox.clock.advance(61 * 60_000);
    const files = recordingQueue();
    await collector(files.queue)(sqsEvent([{ body }]), context);
    expect(files.sent).toEqual([]);
    expect(await queries.get(queryId)).toMatchObject({ status: 'FAILED' });
    expect(await world.queuedImports()).toEqual([expect.objectContaining({ customerId, reason: 'recheck' })]);
  });
});
