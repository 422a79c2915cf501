import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgePublisher, EventPublishError } from '../../../lambdas/adapters/event-bus';
import { ChangeAnnouncer, type AnnouncementStore } from '../../../lambdas/core/events/announce';
import type { ChangeEvent, ConnectionStatusChangedDetail } from '../../../lambdas/core/events/model';

const eventBridge = mockClient(EventBridgeClient);
const client = new EventBridgeClient({ region: 'eu-west-1' });
const BUS = 'arn:aws:events:eu-west-1:123456789012:event-bus/acme-events';

const statusEvent = (n: number): ChangeEvent => ({
  detailType: 'Connection Status Changed',
  detail: { eventId: `c${n}#REVOKED#t`, customerId: `c${n}`, brand: 'ring', region: 'eu-west-1', status: 'REVOKED', previousStatus: 'ACTIVE', reason: 'disconnected', changedAt: '2026-01-01T00:00:00.000Z' },
});
const customersSent = () => eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries!.map((entry) => (JSON.parse(entry.Detail!) as { customerId: string }).customerId));

describe('EventBridgePublisher', () => {
  beforeEach(() => eventBridge.reset());

  it('puts each event on the bus with the product’s source and its detail-type', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    await new EventBridgePublisher(client, BUS).publish([statusEvent(1)]);
    expect(eventBridge.commandCalls(PutEventsCommand)[0].args[0].input.Entries).toEqual([
      { EventBusName: BUS, Source: 'ring-portability', DetailType: 'Connection Status Changed', Detail: JSON.stringify(statusEvent(1).detail) },
    ]);
  });

  it('sends again only the entries EventBridge refused, until every one is on the bus', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 2, Entries: [{ EventId: 'e1' }, { ErrorCode: 'ThrottlingException' }, { ErrorCode: 'InternalFailure' }] })
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }, { EventId: 'e3' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e2' }] });
    await new EventBridgePublisher(client, BUS).publish([1, 2, 3].map(statusEvent));
    expect(customersSent()).toEqual([['c1', 'c2', 'c3'], ['c2', 'c3'], ['c2']]);
  });

  it('throws after its attempts, naming the bus and the codes, never a detail', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try later' }] });
    const failure = new EventBridgePublisher(client, BUS, 3).publish([statusEvent(7)]);
    await expect(failure).rejects.toThrow(EventPublishError);
    await expect(failure).rejects.toThrow(`EventBridge refused 1 of 1 events on bus ${BUS} 3 times (InternalFailure)`);
    await expect(failure).rejects.not.toThrow(/c7/);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(3);
  });

  it('splits more than 10 events into calls of 10 (PutEvents’ limit)', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    await new EventBridgePublisher(client, BUS).publish(Array.from({ length: 23 }, (_, i) => statusEvent(i)));
    expect(customersSent().map((call) => call.length)).toEqual([10, 10, 3]);
  });
});

describe('ChangeAnnouncer when EventBridge refuses', () => {
  beforeEach(() => eventBridge.reset());

  function announcer() {
    const kept: ConnectionStatusChangedDetail[] = [];
    const announced: string[] = [];
    const warnings: string[] = [];
    const store: AnnouncementStore = {
      unannounced: async function* () {},
      markAnnounced: (queryId) => Promise.resolve(void announced.push(queryId)),
      keepStatusEvent: (detail) => Promise.resolve(void kept.push(detail)),
      keptStatusEvents: async function* () {},
      forgetStatusEvent: () => Promise.resolve(),
    };
    const changeAnnouncer = new ChangeAnnouncer({
      publisher: new EventBridgePublisher(client, BUS, 2),
      store,
      connections: { get: () => Promise.resolve({ customerId: 'c1', brand: 'ring', region: 'us-east-1', scopeId: 's', status: 'ACTIVE', secretId: 'x', connectedAt: '2026-01-01T00:00:00.000Z' }) },
      manifests: { bucket: 'raw', reader: { readManifest: () => Promise.resolve(undefined) } },
      clock: { now: () => Date.parse('2026-01-01T00:00:00.000Z'), sleep: () => Promise.resolve() },
      logger: { debug: () => undefined, info: () => undefined, warn: (message) => void warnings.push(message), error: () => undefined },
    });
    return { changeAnnouncer, kept, announced, warnings };
  }

  it('leaves an import unannounced for the reconcile, and does not fail the load that finished it', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
    const { changeAnnouncer, announced, warnings } = announcer();
    const totals = { files: 1, bytes: 2, records: 3, recordsNew: 3, recordsUnchanged: 0, rejected: 0 };
    await changeAnnouncer.importCompleted({ queryId: 'q1', customerId: 'c1', brand: 'ring', manifestKey: 'raw/c1/q1/manifest.json', completedAt: '2026-01-01T00:00:00.000Z', totals, datasets: {} });
    expect(announced).toEqual([]);
    expect(warnings).toEqual(['Import Completed not put on the bus; the schedule reconciles it']);
  });

  it('keeps a refused status event for the reconcile', async () => {
    eventBridge.on(PutEventsCommand).rejects(new Error('network down'));
    const { changeAnnouncer, kept } = announcer();
    await changeAnnouncer.statusChanged({ connection: { customerId: 'c1', brand: 'ring', region: 'us-east-1' }, status: 'REVOKED', previousStatus: 'ACTIVE', reason: 'disconnected', at: Date.parse('2026-01-02T00:00:00.000Z') });
    expect(kept).toEqual([expect.objectContaining({ eventId: 'c1#REVOKED#2026-01-02T00:00:00.000Z', status: 'REVOKED', previousStatus: 'ACTIVE', region: 'us-east-1' })]);
  });
});
