import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { DynamoDbCollectStore, DynamoDbFetchStore } from '../../../lambdas/adapters/ingest-store';
import { DynamoDbQueryRepository } from '../../../lambdas/adapters/query-store';
import { HttpFileDownloader, S3RawObjectStore } from '../../../lambdas/adapters/raw-files';
import { makeCollectHandler } from '../../../lambdas/collect/app';
import type { FetchMessage } from '../../../lambdas/core/ingest/collect';
import type { LoadMessage } from '../../../lambdas/core/ingest/fetch';
import type { WorkQueue } from '../../../lambdas/core/ports';
import { makeFetchHandler } from '../../../lambdas/fetch/app';
import type { ConnectWorld } from './connect-world';
import { sqsEvent } from './sqs-event';

/** Enough remaining time that no stage stops early. */
export const LONG_CONTEXT = { getRemainingTimeInMillis: () => 300_000 } as unknown as Context;

let next = 0;

/** A queue that records what is sent to it. */
export function recordingQueue<T>(): { sent: T[]; queue: WorkQueue } {
  const sent: T[] = [];
  return { sent, queue: { send: (body) => Promise.resolve(void sent.push(body as T)) } };
}

/**
 * A new customer connected through the real callback, whose query completed at the sandbox and
 * is recorded COMPLETED here (as its notification would leave it): the collect stage's input.
 */
export async function completedQuery(world: ConnectWorld, customer: Record<string, unknown>, label = 'pipeline') {
  const customerId = `${label}-${Date.now()}-${next++}`;
  const link = JSON.parse((await world.createLink({ customerId, brand: 'ring' })).body!) as { authorizeUrl: string };
  await world.callback(await world.consentAt(link.authorizeUrl, customer));
  await world.queuedImports();
  return { customerId, ...(await anotherCompletedQuery(world, customerId)) };
}

/** One more query of a connected customer, completed at the sandbox and recorded COMPLETED here. */
export async function anotherCompletedQuery(world: ConnectWorld, customerId: string) {
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
  const body = { queryId, customerId, brand: 'ring', region: 'eu-west-1', completedAt: new Date(world.clock.now()).toISOString() };
  return { queryId, body };
}

/** The collect handler wired to this world, sending its fetch messages to `files`. */
/**
 * The collect handler wired to this world: fetch messages go to `files`; a message it puts back
 * (a continuation, a retry later) to `completed`, by default a queue that refuses, so a test
 * that does not expect collect to stop early fails if it does.
 */
export function collectHandler(world: ConnectWorld, files: WorkQueue, completed: WorkQueue = { send: () => Promise.reject(new Error('collect put back a message this test does not expect')) }) {
  return makeCollectHandler({
    store: new DynamoDbCollectStore(world.aws.clients.documents, world.table),
    connections: world.connections,
    intake: world.intake,
    files,
    imports: world.connectDeps.imports,
    completedQueue: completed,
    clock: world.clock,
    logger: world.logger,
  });
}

/** The fetch handler wired to this world; its load messages are recorded. */
export function fetchHandler(world: ConnectWorld) {
  const loads = recordingQueue<LoadMessage>();
  const documents = world.aws.clients.documents;
  const handler = makeFetchHandler({
    store: new DynamoDbFetchStore(documents, world.table),
    failQuery: (queryId, reason, now) => new DynamoDbCollectStore(documents, world.table).fail(queryId, reason, now),
    imports: world.connectDeps.imports,
    connections: world.connections,
    intake: world.intake,
    downloader: new HttpFileDownloader(),
    objects: new S3RawObjectStore(world.aws.clients.s3, world.aws.resources.rawDataBucket),
    loads: loads.queue,
    filesQueue: { send: () => Promise.reject(new Error('unexpected re-queue')) },
    clock: world.clock,
    logger: world.logger,
  });
  return { handler, loads: loads.sent };
}

/** A completed query, collected: its fetch messages. */
export async function collectedQuery(world: ConnectWorld, customer: Record<string, unknown>, label?: string) {
  const query = await completedQuery(world, customer, label);
  const files = recordingQueue<FetchMessage>();
  await collectHandler(world, files.queue)(sqsEvent([{ body: query.body }]), LONG_CONTEXT);
  return { ...query, messages: files.sent };
}

/** A completed query, collected and fetched: its load messages. */
export async function fetchedQuery(world: ConnectWorld, customer: Record<string, unknown>, label?: string) {
  const query = await collectedQuery(world, customer, label);
  const { handler, loads } = fetchHandler(world);
  await handler(sqsEvent(query.messages.map((body) => ({ body }))), LONG_CONTEXT);
  return { ...query, loads };
}

/** An S3 object's size and sha256, read as a stream. */
export async function storedObject(world: ConnectWorld, key: string): Promise<{ bytes: number; sha256: string }> {
  const object = await world.aws.clients.s3.send(new GetObjectCommand({ Bucket: world.aws.resources.rawDataBucket, Key: key }));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of object.Body as Readable) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
