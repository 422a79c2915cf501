import { Readable } from 'node:stream';
import { DynamoDBClient, ProvisionedThroughputExceededException, ResourceNotFoundException, ThrottlingException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, type BatchWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbRecordWriter } from '../../../lambdas/adapters/raw-files';
import { loadFile, type LoadDeps, type RecordItem } from '../../../lambdas/core/ingest/load';

const TABLE = 'Records';
const dynamodb = mockClient(DynamoDBDocumentClient);
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));

// What the SDK raises once its own retries of a refused BatchWriteItem are spent.
const refused = () => new ProvisionedThroughputExceededException({ message: 'The level of configured provisioned throughput for the table was exceeded.', $metadata: { httpStatusCode: 400 } });

const items = (count: number, from = 0): RecordItem[] => Array.from({ length: count }, (_, i) => ({ pk: 'c1#Ring.EventManager.Events', sk: `2026-01-01T00:00:00Z#${String(from + i).padStart(64, '0')}`, record: { n: from + i } }));
const put = (item: RecordItem) => ({ PutRequest: { Item: item } });
const sent = () => dynamodb.commandCalls(BatchWriteCommand).map((call) => call.args[0].input.RequestItems![TABLE].map((request) => request.PutRequest!.Item!.sk as string));

function writer(delays: number[] = []) {
  return new DynamoDbRecordWriter(documents, TABLE, (ms) => Promise.resolve(void delays.push(ms)), () => 0.5);
}

describe('DynamoDbRecordWriter under throttling', () => {
  beforeEach(() => dynamodb.reset());

  it('sends UnprocessedItems again, only those, until DynamoDB has taken every item', async () => {
    const batch = items(25);
    dynamodb
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { [TABLE]: batch.slice(10).map(put) } })
      .resolvesOnce({ UnprocessedItems: { [TABLE]: batch.slice(20).map(put) } })
      .resolves({ UnprocessedItems: {} });
    const delays: number[] = [];
    await writer(delays).write(batch);
    expect(sent()).toEqual([batch, batch.slice(10), batch.slice(20)].map((part) => part.map((item) => item.sk)));
    expect(delays).toEqual([75, 150]);
  });

  it.each([
    ['ProvisionedThroughputExceededException', refused],
    ['ThrottlingException', () => new ThrottlingException({ message: 'Throughput exceeds the current capacity of your table or index.', $metadata: {} })],
  ])('sends a batch refused whole (%s) again, and loses none of it', async (_name, error) => {
    const batch = items(25);
    dynamodb.on(BatchWriteCommand).rejectsOnce(error()).rejectsOnce(error()).resolves({ UnprocessedItems: {} });
    await writer().write(batch);
    expect(sent()).toEqual([batch, batch, batch].map((part) => part.map((item) => item.sk)));
  });

  it('raises, naming what is left, when DynamoDB refuses the batch for 10 attempts: nothing is dropped silently', async () => {
    dynamodb.on(BatchWriteCommand).rejects(refused());
    await expect(writer().write(items(25))).rejects.toThrow('DynamoDB left 25 writes unprocessed after 10 attempts');
    expect(dynamodb.commandCalls(BatchWriteCommand)).toHaveLength(10);
  });

  it('finds, by writing one at a time, the items DynamoDB refuses for their content, writes the others and returns those', async () => {
    const batch = items(4);
    const overflow = () => Object.assign(new Error('Number overflow. Attempting to store a number with magnitude larger than supported range'), { name: 'ValidationException' });
    dynamodb.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => {
      const requests = input.RequestItems![TABLE];
      if (requests.some((request) => request.PutRequest!.Item!.record && (request.PutRequest!.Item!.record as { n: number }).n % 2 === 1)) throw overflow();
      return { UnprocessedItems: {} };
    });
    expect((await writer().write(batch)).map((item) => item.sk)).toEqual([batch[1].sk, batch[3].sk]);
    expect(sent()).toEqual([batch.map((item) => item.sk), ...batch.map((item) => [item.sk])]);
  });

  it.each([
    ['the document client', Object.assign(new Error('Number 1e+300 is greater than Number.MAX_SAFE_INTEGER. Use NumberValue from @aws-sdk/lib-dynamodb.'), { name: 'Error' })],
    ['DynamoDB', Object.assign(new Error('Nesting Levels have exceeded supported limits'), { name: 'ValidationException' })],
  ])('returns an item %s refuses for its content rather than failing the batch', async (_who, error) => {
    dynamodb.on(BatchWriteCommand).rejects(error);
    expect(await writer().write(items(1))).toHaveLength(1);
  });

  it('fails the batch on any other ValidationException: a fault of ours is not a record to set aside', async () => {
    dynamodb.on(BatchWriteCommand).rejects(Object.assign(new Error('One or more parameter values were invalid: Missing the key sk in the item'), { name: 'ValidationException' }));
    await expect(writer().write(items(3))).rejects.toThrow('Missing the key sk');
    expect(dynamodb.commandCalls(BatchWriteCommand)).toHaveLength(1);
  });

  it('does not retry an error that is not about throughput', async () => {
    dynamodb.on(BatchWriteCommand).rejects(new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }));
    await expect(writer().write(items(3))).rejects.toThrow('Requested resource not found');
    expect(dynamodb.commandCalls(BatchWriteCommand)).toHaveLength(1);
  });

  it('lands every record of a file whose writes are throttled on and off', async () => {
    const records = Array.from({ length: 1_000 }, (_, i) => ({ deviceName: `hub ${i}` }));
    dynamodb.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [] } });
    // A third of the calls are refused whole, half the others take half their batch: a hot partition.
    // Drawn from a seeded sequence, not by call number, so that writers in lockstep are not refused forever.
    const accepted = new Set<string>();
    let seed = 7;
    const draw = () => (seed = (Math.imul(seed, 48_271) >>> 0) % 2_147_483_647) / 2_147_483_647;
    dynamodb.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => {
      if (draw() < 1 / 3) throw refused();
      const requests = input.RequestItems![TABLE];
      const taken = draw() < 0.5 ? Math.ceil(requests.length / 2) : requests.length;
      for (const request of requests.slice(0, taken)) accepted.add(request.PutRequest!.Item!.sk as string);
      return Promise.resolve({ UnprocessedItems: taken < requests.length ? { [TABLE]: requests.slice(taken) } : {} });
    });
    const text = JSON.stringify(records);
    const checkpoints: number[] = [];
    const deps: LoadDeps = {
      store: {
        progress: () => Promise.resolve({ done: false }),
        saveCheckpoint: (_q, _n, checkpoint) => Promise.resolve(checkpoints.push(checkpoint.records) > 0),
        finish: () => Promise.resolve(true),
      },
      connections: { get: (customerId) => Promise.resolve({ customerId, brand: 'ring', region: 'eu-west-1', scopeId: 'data-portability', status: 'ACTIVE', secretId: 's', connectedAt: '2026-01-01T00:00:00Z' }) },
      writer: writer(),
      raw: {
        read: (_key, offset) => Promise.resolve(Readable.from([Buffer.from(text).subarray(offset)])),
        text: () => Promise.resolve(JSON.stringify({ title: 'Ring.Alarm.HubData', type: 'array', items: { type: 'object' } })),
        putRejects: () => Promise.resolve(),
      },
      clock: { now: () => 0, sleep: () => Promise.resolve() },
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
      checkpointEvery: 250,
    };
    const message = { queryId: 'q1', customerId: 'c1', n: 0, key: 'raw/c1/q1/Ring.Alarm.HubData/0.json', schemaKey: 'raw/c1/q1/Ring.Alarm.HubData/0.schema.json', bytes: text.length, sha256: '' };

    await expect(loadFile(deps, message)).resolves.toMatchObject({ outcome: 'loaded', records: 1_000, rejected: 0 });
    expect(checkpoints).toEqual([250, 500, 750, 1_000]);
    expect(accepted.size).toBe(1_000);
  });

  it('reads existence with the keys and provenance only, sending UnprocessedKeys (and a batch refused for throughput) again', async () => {
    const batch = items(100);
    const key = (item: RecordItem) => ({ pk: item.pk, sk: item.sk });
    const stored = (item: RecordItem) => ({ ...key(item), queryId: 'q0', sourceKey: 'raw/c1/q0/x/0.json', sourceOffset: 1 });
    dynamodb
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { [TABLE]: [stored(batch[0])] }, UnprocessedKeys: { [TABLE]: { Keys: batch.slice(50).map(key) } } })
      .rejectsOnce(refused())
      .resolves({ Responses: { [TABLE]: [stored(batch[99])] }, UnprocessedKeys: {} });
    const delays: number[] = [];
    // The same key twice is one key: BatchGetItem refuses a request with duplicates.
    const found = await writer(delays).existing([...batch, batch[3]]);
    expect(found.map((item) => item.sk)).toEqual([batch[0].sk, batch[99].sk]);
    const requests = dynamodb.commandCalls(BatchGetCommand).map((call) => call.args[0].input.RequestItems![TABLE]);
    expect(requests.map((request) => request.Keys!.length)).toEqual([100, 50, 50]);
    expect(requests[0]).toMatchObject({ ProjectionExpression: 'pk, sk, queryId, sourceKey, sourceOffset, ingestedAt, pointer' });
    expect(requests[0].ConsistentRead).toBeUndefined();
    expect(delays).toEqual([75, 150]);
  });

  it('raises, naming what is left, when DynamoDB leaves keys unread for 10 attempts', async () => {
    dynamodb.on(BatchGetCommand).resolves({ Responses: {}, UnprocessedKeys: { [TABLE]: { Keys: [{ pk: 'a', sk: 'b' }] } } });
    await expect(writer().existing(items(3))).rejects.toThrow('DynamoDB left 1 reads unprocessed after 10 attempts');
  });
});
