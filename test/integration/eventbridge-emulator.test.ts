import { CreateEventBusCommand, EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { recordedEvents, startEventBridge } from '../../local/emulators/eventbridge';

/** The local EventBridge refuses what AWS refuses where the product relies on it, through the real SDK client. */
let service: Awaited<ReturnType<typeof startEventBridge>>;
let client: EventBridgeClient;
beforeAll(async () => {
  service = await startEventBridge();
  client = new EventBridgeClient({ region: 'eu-west-1', endpoint: service.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  await client.send(new CreateEventBusCommand({ Name: 'bus' }));
});
afterAll(async () => {
  client?.destroy();
  await service?.stop();
});

const entry = (extra: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({ EventBusName: 'bus', Source: 'ring-portability', DetailType: 'Import Completed', Detail: '{"queryId":"q"}', ...extra });

describe('local EventBridge', () => {
  it('records accepted events in EventBridge’s envelope, by bus name or ARN', async () => {
    const answer = await client.send(new PutEventsCommand({ Entries: [entry(), entry({ EventBusName: 'arn:aws:events:eu-west-1:000000000000:event-bus/bus', Detail: '{"queryId":"r"}' })] }));
    expect(answer.FailedEntryCount).toBe(0);
    const events = await recordedEvents(service.endpoint, 'bus');
    expect(events.map((event) => event.detail)).toEqual([{ queryId: 'q' }, { queryId: 'r' }]);
    expect(events[0]).toMatchObject({ version: '0', source: 'ring-portability', 'detail-type': 'Import Completed', region: 'eu-west-1', id: answer.Entries![0].EventId });
  });

  it('refuses a call of no entry or more than 10, and one over 256 KB', async () => {
    await expect(client.send(new PutEventsCommand({ Entries: [] }))).rejects.toThrow(/greater than or equal to 1/);
    await expect(client.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry()) }))).rejects.toThrow(/less than or equal to 10/);
    await expect(client.send(new PutEventsCommand({ Entries: [entry({ Detail: JSON.stringify({ pad: 'x'.repeat(257 * 1024) }) })] }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('fails the entries without Source, DetailType or an object Detail, or for a bus that does not exist, alone', async () => {
    const answer = await client.send(
      new PutEventsCommand({ Entries: [entry({ Source: undefined }), entry({ DetailType: undefined }), entry({ Detail: '[1]' }), entry({ Detail: 'not json' }), entry({ EventBusName: 'nope' }), entry()] }),
    );
    expect(answer.FailedEntryCount).toBe(5);
    expect(answer.Entries!.map((result) => result.ErrorCode ?? 'ok')).toEqual(['InvalidArgument', 'InvalidArgument', 'MalformedDetail', 'MalformedDetail', 'ResourceNotFoundException', 'ok']);
  });
});
