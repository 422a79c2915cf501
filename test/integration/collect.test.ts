import { DynamoDbQueryRepository } from '../../lambdas/adapters/query-store';
import type { Context } from 'aws-lambda';
import { COLLECT_RESERVE_MS, type FetchMessage } from '../../lambdas/core/ingest/collect';
import type { WorkQueue } from '../../lambdas/core/ports';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { collectHandler, completedQuery, LONG_CONTEXT } from './support/pipeline';
import { sqsEvent } from './support/sqs-event';

let world: ConnectWorld;
let queries: DynamoDbQueryRepository;

beforeAll(async () => {
  world = await connectWorld({ sandbox: { queryDelayMs: 100 }, retry: { scheduleSeconds: [] } });
  queries = new DynamoDbQueryRepository(world.aws.clients.documents, world.table);
});
afterAll(() => world.stop());
beforeEach(() => world.control('DELETE', '/faults'));

const context = LONG_CONTEXT;

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

const collector = (files: WorkQueue, completed?: WorkQueue) => collectHandler(world, files, completed);

/** Runs collect on `body`, then on each continuation it puts back, at most `max` times. */
async function followContinuations(body: unknown, files: WorkQueue, contextFor: () => Context, max: number) {
  let message: unknown = body;
  let invocations = 0;
  while (message !== undefined && invocations < max) {
    const back = recordingQueue();
    expect(await collector(files, back.queue)(sqsEvent([{ body: message }]), contextFor())).toEqual({ batchItemFailures: [] });
    invocations++;
    message = back.sent[0];
  }
  return { invocations, pending: message !== undefined };
}

/** The sandbox's listing calls for a query since its calls were last cleared. */
const listings = async (queryId: string) => (await world.control<{ path: string }[]>('GET', '/calls')).filter((call) => call.path.includes(`/data-queries/${queryId}/records`)).length;

/** A connected customer whose query completed at the sandbox and is recorded COMPLETED here. */
async function completedWithTruth(datasets: Record<string, number>, recordsPerFile: number) {
  const query = await completedQuery(world, { datasets, recordsPerFile }, 'collect');
  const truth = await world.control<{ totalFiles: number; files: { dataset: string }[] }>('GET', `/queries/${query.queryId}/ground-truth`);
  return { ...query, truth };
}

describe('collect stage', () => {
  it('lists every page (250 a page) into one task and one fetch message per file, with the dataset guessed from the URL', async () => {
    const { queryId, truth, body } = await completedWithTruth({ 'Ring.EventManager.Events': 520, 'Ring.Alarm.HubData': 3, 'Ring.Alarm.AuditLog': 4 }, 2);
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
    const { truth, body } = await completedWithTruth({ 'Ring.EventManager.Events': 30 }, 3);
    const crashing = recordingQueue(4);
    const event = sqsEvent([{ body }]);
    expect(await collector(crashing.queue)(event, context)).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
    const rest = recordingQueue();
    await collector(rest.queue)(sqsEvent([{ body }]), context);
    expect([...crashing.sent, ...rest.sent].map((message) => message.n).sort((a, b) => a - b)).toEqual(Array.from({ length: truth.totalFiles }, (_, i) => i));
  });

  it('runs out of time on the second page: a continuation lists on from that page, and every file is sent once', async () => {
    const { queryId, truth, body } = await completedWithTruth({ 'Ring.EventManager.Events': 520, 'Ring.Alarm.HubData': 3 }, 2);
    expect(truth.totalFiles).toBe(262);
    await world.control('DELETE', '/calls');
    const files = recordingQueue();
    const continuations = recordingQueue();
    // Time runs short after 255 files, five into the second page (250 a page).
    const short = { getRemainingTimeInMillis: () => (files.sent.length < 255 ? 300_000 : COLLECT_RESERVE_MS - 1) } as unknown as Context;
    expect(await collector(files.queue, continuations.queue)(sqsEvent([{ body }]), short)).toEqual({ batchItemFailures: [] });
    expect(files.sent.map((message) => message.n)).toEqual(Array.from({ length: 255 }, (_, i) => i));
    expect(await queries.get(queryId)).toMatchObject({ status: 'COLLECTING' });
    expect(continuations.sent).toEqual([body]);

    expect(await collector(files.queue)(sqsEvent([{ body: continuations.sent[0] }]), context)).toEqual({ batchItemFailures: [] });
    expect(files.sent.map((message) => message.n)).toEqual(Array.from({ length: truth.totalFiles }, (_, i) => i));
    expect(files.sent.map((message) => message.dataset)).toEqual(truth.files.map((file) => file.dataset));
    expect(await queries.get(queryId)).toMatchObject({ status: 'LOADING', files: truth.totalFiles });
    // Two pages listed by the first invocation, the second page alone by the continuation.
    expect(await listings(queryId)).toBe(3);
  });

  it('a retry after Ring failed on a later page lists on from that page, not from the first', async () => {
    const { queryId, truth, body } = await completedWithTruth({ 'Ring.EventManager.Events': 1_100 }, 2);
    expect(truth.totalFiles).toBe(550);
    await world.control('DELETE', '/calls');
    await world.control('PUT', '/faults', { rules: [{ operation: 'listDataQueryRecords', nth: [3], error: 'INTERNAL_SERVER_ERROR' }] });
    const files = recordingQueue();
    const later = recordingQueue();
    expect(await collector(files.queue, later.queue)(sqsEvent([{ body }]), context)).toEqual({ batchItemFailures: [] });
    expect(files.sent).toHaveLength(500);
    expect(later.sent).toEqual([{ ...body, notBefore: expect.any(Number) }]);

    await collector(files.queue)(sqsEvent([{ body }]), context);
    expect(files.sent.map((message) => message.n)).toEqual(Array.from({ length: truth.totalFiles }, (_, i) => i));
    expect(await queries.get(queryId)).toMatchObject({ status: 'LOADING', files: truth.totalFiles });
    // Pages 1 and 2, the refused page 3, then page 3 again: never page 1 twice.
    expect(await listings(queryId)).toBe(4);
  });

  it('a continuation starts at the file it stopped before: with no time to spare, each invocation handles one file no earlier one did', async () => {
    const { queryId, truth, body } = await completedWithTruth({ 'Ring.Alarm.HubData': 10 }, 2);
    expect(truth.totalFiles).toBe(5);
    const files = recordingQueue();
    const none = { getRemainingTimeInMillis: () => COLLECT_RESERVE_MS - 1 } as unknown as Context;
    const chain = await followContinuations(body, files.queue, () => none, 20);
    expect(files.sent.map((message) => message.n)).toEqual([0, 1, 2, 3, 4]);
    expect(chain).toEqual({ invocations: 5, pending: false });
    expect(await queries.get(queryId)).toMatchObject({ status: 'LOADING', files: 5 });
  });

  it('slow calls (200 ms each, four a file): the continuations never re-check the files handled before them, and finish', async () => {
    const { queryId, truth, body } = await completedWithTruth({ 'Ring.EventManager.Events': 520 }, 2);
    expect(truth.totalFiles).toBe(260);
    const files = recordingQueue();
    // A 95 s invocation whose time goes by 400 ms at every look at the clock and 400 ms a file sent.
    const slow = () => {
      let looks = 0;
      const sentBefore = files.sent.length;
      return { getRemainingTimeInMillis: () => 95_000 - 400 * looks++ - 400 * (files.sent.length - sentBefore) } as unknown as Context;
    };
    const chain = await followContinuations(body, files.queue, slow, 25);
    expect(chain.pending).toBe(false);
    expect(files.sent.map((message) => message.n)).toEqual(Array.from({ length: 260 }, (_, i) => i));
    expect(await queries.get(queryId)).toMatchObject({ status: 'LOADING', files: 260 });
  });

  it('a saved page token Ring no longer accepts (INVALID_NEXT_PAGE) is dropped: listing starts again from the first page, the query is not failed', async () => {
    const { customerId, queryId, truth, body } = await completedWithTruth({ 'Ring.EventManager.Events': 520 }, 2);
    expect(truth.totalFiles).toBe(260);
    const files = recordingQueue();
    const continuations = recordingQueue();
    const short = { getRemainingTimeInMillis: () => (files.sent.length < 255 ? 300_000 : COLLECT_RESERVE_MS - 1) } as unknown as Context;
    await collector(files.queue, continuations.queue)(sqsEvent([{ body }]), short);
    expect(continuations.sent).toHaveLength(1);
    await world.control('PUT', '/faults', { rules: [{ operation: 'listDataQueryRecords', nth: [1], error: 'INVALID_NEXT_PAGE' }] });
    expect(await collector(files.queue)(sqsEvent([{ body: continuations.sent[0] }]), context)).toEqual({ batchItemFailures: [] });
    expect(files.sent.map((message) => message.n)).toEqual(Array.from({ length: 260 }, (_, i) => i));
    expect(await queries.get(queryId)).toMatchObject({ status: 'LOADING', files: 260 });
    expect((await world.queuedImports()).filter((request) => request.customerId === customerId)).toEqual([]);
  });

  it('a continuation that could not be sent: the redelivered message goes on from the saved file, each file sent once', async () => {
    const { queryId, truth, body } = await completedWithTruth({ 'Ring.EventManager.Events': 520 }, 2);
    const files = recordingQueue();
    const refusing: WorkQueue = { send: () => Promise.reject(new Error('SQS unavailable (injected)')) };
    const short = { getRemainingTimeInMillis: () => (files.sent.length < 100 ? 300_000 : COLLECT_RESERVE_MS - 1) } as unknown as Context;
    const event = sqsEvent([{ body }]);
    expect(await collector(files.queue, refusing)(event, short)).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
    await collector(files.queue)(sqsEvent([{ body }]), context);
    expect(files.sent.map((message) => message.n)).toEqual(Array.from({ length: truth.totalFiles }, (_, i) => i));
    expect(await queries.get(queryId)).toMatchObject({ status: 'LOADING', files: truth.totalFiles });
  });

  it('fails the query and asks for a new import when the listing window has elapsed', async () => {
    const { customerId, queryId, body } = await completedWithTruth({ 'Ring.Alarm.HubData': 2 }, 10);
    world.sandbox.clock.advance(61 * 60_000);
    const files = recordingQueue();
    await collector(files.queue)(sqsEvent([{ body }]), context);
    expect(files.sent).toEqual([]);
    expect(await queries.get(queryId)).toMatchObject({ status: 'FAILED' });
    expect(await world.queuedImports()).toEqual([expect.objectContaining({ customerId, reason: 'recheck' })]);
  });
});
