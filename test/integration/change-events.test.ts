import { randomUUID } from 'node:crypto';
import { CreateEventBusCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { DynamoDbConnectionStatusStore } from '../../lambdas/adapters/dynamodb-stores';
import { DynamoDbAnnouncementStore, EventBridgePublisher, S3ManifestReader } from '../../lambdas/adapters/event-bus';
import { DynamoDbCompletionStore } from '../../lambdas/adapters/ingest-store';
import { S3RawReader } from '../../lambdas/adapters/raw-files';
import { makeCallbackHandler } from '../../lambdas/callback/app';
import { makeConnectionsHandler } from '../../lambdas/connections/app';
import { holdConnection } from '../../lambdas/core/connections/status';
import { announcingConnections, announcingStatusStore, ChangeAnnouncer } from '../../lambdas/core/events/announce';
import { completeIfLastFile } from '../../lambdas/core/ingest/complete';
import { RingApiError } from '../../lambdas/core/ring/errors';
import { recordedEvents, refuseEntries, type RecordedEvent } from '../../local/emulators/eventbridge';
import { committedEventValidators } from '../support/event-schemas';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { drive } from './support/drive';
import { httpEvent } from './support/http-event';
import { anotherCompletedQuery } from './support/pipeline';

/**
 * The change events as the functions put them: the real EventBridge adapter against the local
 * EventBridge (a bus of this file's own), the handlers wired as runtime.ts wires them, the
 * sandbox for Ring. Every event is checked against the committed JSON Schemas.
 */
let world: ConnectWorld;
let bus: string;
let announcer: ChangeAnnouncer;
const validators = committedEventValidators();
const context = {} as Context;

beforeAll(async () => {
  world = await connectWorld({ sandbox: { queryDelayMs: 100 }, retry: { scheduleSeconds: [] } });
  bus = `${world.prefix}-events`;
  await world.aws.clients.eventBridge.send(new CreateEventBusCommand({ Name: bus }));
  const { documents, s3, eventBridge } = world.aws.clients;
  const bucket = world.aws.resources.rawDataBucket;
  announcer = new ChangeAnnouncer({
    publisher: new EventBridgePublisher(eventBridge, bus),
    store: new DynamoDbAnnouncementStore(documents, world.table),
    connections: world.connections,
    manifests: { bucket, reader: new S3ManifestReader(s3, bucket) },
    clock: world.clock,
    logger: world.logger,
  });
});
afterAll(() => world.stop());

const connections = () => announcingConnections(world.connections, announcer);

/** The events of this file's bus for one customer, each valid against its committed schema. */
async function eventsOf(customerId: string, detailType?: string): Promise<RecordedEvent[]> {
  const events = (await recordedEvents(world.aws.endpoints.eventBridge, bus)).filter((event) => event.detail.customerId === customerId && (!detailType || event['detail-type'] === detailType));
  for (const event of events) {
    expect(event.source).toBe('ring-portability');
    const validate = validators[event['detail-type']];
    expect({ event: event['detail-type'], valid: validate(event.detail), errors: validate.errors ?? null }).toEqual({ event: event['detail-type'], valid: true, errors: null });
  }
  return events;
}

const statuses = async (customerId: string) => (await eventsOf(customerId, 'Connection Status Changed')).map((event) => [event.detail.previousStatus, event.detail.status]);

/** A customer connected through the callback, announcing as the callback function does. */
async function connect(): Promise<string> {
  const customerId = `events-${randomUUID().slice(0, 8)}`;
  const link = JSON.parse((await world.createLink({ customerId, brand: 'ring' })).body!) as { authorizeUrl: string };
  const callback = makeCallbackHandler({ ...world.connectDeps, connections: connections() });
  const query = await world.consentAt(link.authorizeUrl);
  expect((await callback(httpEvent({ method: 'GET', path: '/oauth/callback', query }), context)).statusCode).toBe(200);
  expect(await world.connections.get(customerId)).toMatchObject({ status: 'ACTIVE' });
  await world.queuedImports();
  return customerId;
}

/** A query of the customer through collect, fetch and load (every message delivered twice at once), `onDone` announcing. */
async function importOnce(customerId: string): Promise<string> {
  const { queryId, body } = await anotherCompletedQuery(world, customerId);
  const { documents, s3 } = world.aws.clients;
  const completion = {
    store: new DynamoDbCompletionStore(documents, world.table),
    manifests: new S3RawReader(s3, world.aws.resources.rawDataBucket),
    connections: world.connections,
    clock: world.clock,
    logger: world.logger,
    onDone: (completed: Parameters<ChangeAnnouncer['importCompleted']>[0]) => announcer.importCompleted(completed),
  };
  await drive(world, [body], { copies: 2, crashes: { load: (deps) => ({ ...deps, onFileLoaded: (query) => completeIfLastFile(completion, query) }) } });
  return queryId;
}

async function manifestOf(customerId: string, queryId: string): Promise<{ totals: Record<string, number>; datasets: Record<string, unknown> }> {
  const object = await world.aws.clients.s3.send(new GetObjectCommand({ Bucket: world.aws.resources.rawDataBucket, Key: `raw/${customerId}/${queryId}/manifest.json` }));
  return JSON.parse(await object.Body!.transformToString()) as { totals: Record<string, number>; datasets: Record<string, unknown> };
}

describe('change events on EventBridge', () => {
  it('announces a connection, then exactly one Import Completed per DONE query with the manifest’s counts', async () => {
    const customerId = await connect();
    expect(await statuses(customerId)).toEqual([[null, 'ACTIVE']]);

    const queryId = await importOnce(customerId);
    const completed = await eventsOf(customerId, 'Import Completed');
    expect(completed).toHaveLength(1);
    const manifest = await manifestOf(customerId, queryId);
    const { malformedFiles: _malformed, filesWithoutUsableSchema: _noSchema, ...totals } = manifest.totals;
    expect(completed[0].detail).toMatchObject({
      eventId: queryId,
      queryId,
      brand: 'ring',
      region: 'eu-west-1',
      manifest: { bucket: world.aws.resources.rawDataBucket, key: `raw/${customerId}/${queryId}/manifest.json` },
      totals,
      datasets: manifest.datasets,
    });
    expect(totals.records).toBeGreaterThan(0);

    // Announced: the reconcile finds nothing to put again.
    world.sandbox.clock.advance(11 * 60_000);
    await announcer.reconcile();
    expect(await eventsOf(customerId, 'Import Completed')).toHaveLength(1);
  });

  it('recovers an Import Completed that EventBridge refused: the schedule’s reconcile puts it, once', async () => {
    const customerId = await connect();
    await refuseEntries(world.aws.endpoints.eventBridge, bus, 3);
    const queryId = await importOnce(customerId);
    expect(await eventsOf(customerId, 'Import Completed')).toEqual([]);

    // Not while the call that made the query DONE may still be announcing it.
    expect(await announcer.reconcile()).toMatchObject({ imports: 0 });
    world.sandbox.clock.advance(11 * 60_000);
    // The bus refuses it again: counted and left for the next run, the run goes on.
    await refuseEntries(world.aws.endpoints.eventBridge, bus, 3);
    expect(await announcer.reconcile()).toMatchObject({ imports: 0, failed: 1 });
    expect(await announcer.reconcile()).toMatchObject({ imports: 1, failed: 0 });
    expect(await announcer.reconcile()).toMatchObject({ imports: 0 });
    const completed = await eventsOf(customerId, 'Import Completed');
    expect(completed.map((event) => event.detail.queryId)).toEqual([queryId]);
    expect(completed[0].detail.totals).toMatchObject({ records: (await manifestOf(customerId, queryId)).totals.records });
  });

  it('announces on hold, active again and relink required, each real transition once', async () => {
    const customerId = await connect();
    const repository = connections();
    const refused = new RingApiError(403, 'AUTH', 'ACCESS_DENIED', 'access denied', 'stop-connection');
    await holdConnection(repository, customerId, refused, world.clock.now());
    await holdConnection(repository, customerId, refused, world.clock.now()); // already ON_HOLD: no transition
    await repository.setStatus(customerId, 'ACTIVE', 'Ring accepted an import again: the hold is over', world.clock.now(), ['ON_HOLD']);
    const tokenStore = announcingStatusStore(new DynamoDbConnectionStatusStore(world.aws.clients.documents, world.table), announcer);
    await tokenStore.markRelinkRequired(customerId, 'Ring refused the refresh token (invalid_grant)', world.clock.now());
    await tokenStore.markRelinkRequired(customerId, 'Ring refused the refresh token (invalid_grant)', world.clock.now());
    expect(await statuses(customerId)).toEqual([
      [null, 'ACTIVE'],
      ['ACTIVE', 'ON_HOLD'],
      ['ON_HOLD', 'ACTIVE'],
      ['ACTIVE', 'RELINK_REQUIRED'],
    ]);
    expect((await eventsOf(customerId)).at(-1)!.detail.reason).toMatch(/invalid_grant/);
  });

  it('keeps a status event EventBridge refused, and the reconcile puts it with its own id and time', async () => {
    const customerId = await connect();
    await refuseEntries(world.aws.endpoints.eventBridge, bus, 3);
    const changedAt = world.clock.now();
    await holdConnection(connections(), customerId, new RingApiError(403, 'AUTH', 'ACCESS_DENIED', 'access denied', 'stop-connection'), changedAt);
    expect(await statuses(customerId)).toEqual([[null, 'ACTIVE']]);
    world.sandbox.clock.advance(60_000);
    expect(await announcer.reconcile()).toMatchObject({ statuses: 1 });
    expect(await announcer.reconcile()).toMatchObject({ statuses: 0 });
    const [, held] = await eventsOf(customerId, 'Connection Status Changed');
    expect(held.detail).toMatchObject({ status: 'ON_HOLD', previousStatus: 'ACTIVE', changedAt: new Date(changedAt).toISOString(), eventId: `${customerId}#ON_HOLD#${new Date(changedAt).toISOString()}` });
  });

  it('announces a disconnect, and a purge once it is complete, with a stable event id', async () => {
    const customerId = await connect();
    await importOnce(customerId);
    const manage = makeConnectionsHandler({ ...world.manageDeps, connections: connections(), onPurged: (connection, eventId) => announcer.statusChanged({ connection, status: 'PURGED', previousStatus: connection.status, reason: 'purged', eventId }) });
    const disconnect = () =>
      manage(httpEvent({ method: 'DELETE', path: `/connections/${customerId}`, routeKey: 'DELETE /connections/{customerId}', pathParameters: { customerId }, query: { purge: 'true' } }), context);
    expect((await disconnect()).statusCode).toBe(202); // not settled yet: no PURGED
    expect(await statuses(customerId)).toEqual([[null, 'ACTIVE'], ['ACTIVE', 'REVOKED']]);
    const revokedAt = (await world.connections.get(customerId))?.statusChangedAt;
    const [revoked] = (await eventsOf(customerId, 'Connection Status Changed')).filter((event) => event.detail.status === 'REVOKED');
    expect(revoked.detail.changedAt).toBe(revokedAt);
    world.sandbox.clock.advance(16 * 60_000);
    expect((await disconnect()).statusCode).toBe(200);
    expect((await disconnect()).statusCode).toBe(200);
    // A DELETE again changes no status: the row still says since when, as the event did.
    expect((await world.connections.get(customerId))?.statusChangedAt).toBe(revokedAt);
    const purged = (await eventsOf(customerId, 'Connection Status Changed')).filter((event) => event.detail.status === 'PURGED');
    expect(purged.length).toBeGreaterThanOrEqual(1);
    expect(new Set(purged.map((event) => event.detail.eventId)).size).toBe(1);
    expect(purged[0].detail).toMatchObject({ previousStatus: 'REVOKED', brand: 'ring', region: 'eu-west-1' });
  });
});
