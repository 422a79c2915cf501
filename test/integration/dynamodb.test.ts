import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { controlTable, recordsTable } from '../../lambdas/core/definitions';
import { localAws } from './support/local-aws';

const aws = localAws();
const { documents, dynamodb } = aws.clients;
afterAll(() => aws.clients.destroy());

describe('local DynamoDB (dynalite)', () => {
  it.each([controlTable, recordsTable])('creates $id with the key schema and indexes of the shared definition', async (definition) => {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: definition.id }));
    expect(Table?.KeySchema).toEqual([
      { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: definition.sortKey.name, KeyType: 'RANGE' },
    ]);
    expect((Table?.GlobalSecondaryIndexes ?? []).map((index) => [index.IndexName, index.KeySchema])).toEqual(
      definition.globalSecondaryIndexes.map((index) => [
        index.indexName,
        [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
      ]),
    );
  });

  it('refuses, as DynamoDB does, a write nesting deeper than 32 levels, and keeps one that nests 32', async () => {
    const nested = (levels: number): unknown => (levels === 0 ? 'leaf' : levels % 2 === 0 ? { a: nested(levels - 1) } : [nested(levels - 1)]);
    const key = () => ({ pk: `DEEP#${randomUUID()}`, sk: 'DEEP' });
    const table = aws.resources.controlTable;
    const deepest = { ...key(), value: nested(32) };
    await documents.send(new PutCommand({ TableName: table, Item: deepest }));
    expect((await documents.send(new GetCommand({ TableName: table, Key: { pk: deepest.pk, sk: 'DEEP' } }))).Item).toEqual(deepest);

    const tooDeep = { ...key(), value: nested(33) };
    const refusal = { name: 'ValidationException', message: 'Nesting Levels have exceeded supported limits' };
    await expect(documents.send(new PutCommand({ TableName: table, Item: tooDeep }))).rejects.toMatchObject(refusal);
    await expect(documents.send(new BatchWriteCommand({ RequestItems: { [table]: [{ PutRequest: { Item: { ...key(), shallow: 1 } } }, { PutRequest: { Item: tooDeep } }] } }))).rejects.toMatchObject(refusal);
    await expect(documents.send(new UpdateCommand({ TableName: table, Key: key(), UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': nested(40) } }))).rejects.toMatchObject(refusal);
    expect((await documents.send(new GetCommand({ TableName: table, Key: { pk: tooDeep.pk, sk: 'DEEP' } }))).Item).toBeUndefined();
    // A string that looks deep is not.
    const looksDeep = { ...key(), text: '{['.repeat(100) };
    await documents.send(new PutCommand({ TableName: table, Item: looksDeep }));
  });

  it('rejects a second conditional put of the same key and keeps the first item', async () => {
    const key = { pk: `STATE#${randomUUID()}`, sk: 'STATE' };
    const put = (owner: string) =>
      documents.send(
        new PutCommand({
          TableName: aws.resources.controlTable,
          Item: { ...key, owner },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );

    await put('first');
    await expect(put('second')).rejects.toBeInstanceOf(ConditionalCheckFailedException);

    const { Item } = await documents.send(new GetCommand({ TableName: aws.resources.controlTable, Key: key }));
    expect(Item?.owner).toBe('first');
  });

  it('grants a lease only when it is free or expired', async () => {
    const key = { pk: `LEASE#${randomUUID()}`, sk: 'LEASE' };
    const acquire = (holder: string, now: number) =>
      documents.send(
        new UpdateCommand({
          TableName: aws.resources.controlTable,
          Key: key,
          UpdateExpression: 'SET holder = :holder, leaseExpiresAt = :until',
          ConditionExpression: 'attribute_not_exists(leaseExpiresAt) OR leaseExpiresAt < :now',
          ExpressionAttributeValues: { ':holder': holder, ':until': now + 30, ':now': now },
        }),
      );

    await acquire('a', 1_000);
    await expect(acquire('b', 1_010)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await acquire('b', 1_031);

    const { Item } = await documents.send(new GetCommand({ TableName: aws.resources.controlTable, Key: key }));
    expect(Item).toMatchObject({ holder: 'b', leaseExpiresAt: 1_061 });
  });

  // On disk, dynalite's LevelDB calls of one moment go out together (local/emulators/coalescing-level.ts): these are the
  // read-modify-write patterns the product relies on, with many requests in flight at once.
  it('keeps read-modify-writes exact with many requests in flight: conditional puts, counters, batches, deletes', async () => {
    const table = aws.resources.controlTable;
    const id = randomUUID();

    // Twenty conditional puts of one key at once: one wins, the others see its item.
    const claims = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => documents.send(new PutCommand({ TableName: table, Item: { pk: `CLAIM#${id}`, sk: 'CLAIM', owner: i }, ConditionExpression: 'attribute_not_exists(pk)' }))),
    );
    expect(claims.filter((claim) => claim.status === 'fulfilled')).toHaveLength(1);
    expect(claims.filter((claim): claim is PromiseRejectedResult => claim.status === 'rejected').every((claim) => claim.reason instanceof ConditionalCheckFailedException)).toBe(true);

    // Fifty increments at once, each reading the one before: none lost.
    const counter = { pk: `COUNTER#${id}`, sk: 'COUNTER' };
    await Promise.all(Array.from({ length: 50 }, () => documents.send(new UpdateCommand({ TableName: table, Key: counter, UpdateExpression: 'ADD #count :one', ExpressionAttributeNames: { '#count': 'count' }, ExpressionAttributeValues: { ':one': 1 } }))));
    expect((await documents.send(new GetCommand({ TableName: table, Key: counter, ConsistentRead: true }))).Item?.count).toBe(50);

    // Four BatchWriteItems in flight, then BatchGetItem and Query of what they wrote, then deletes.
    const items = Array.from({ length: 100 }, (_, i) => ({ pk: `BATCH#${id}`, sk: `ITEM#${String(i).padStart(3, '0')}`, n: i }));
    await Promise.all([0, 25, 50, 75].map((from) => documents.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(from, from + 25).map((Item) => ({ PutRequest: { Item } })) } }))));
    const { Responses } = await documents.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: items.map(({ pk, sk }) => ({ pk, sk })) } } }));
    expect((Responses?.[table] ?? []).map((item) => item.n as number).sort((a, b) => a - b)).toEqual(items.map((item) => item.n));
    const queried = await documents.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `BATCH#${id}` } }));
    expect(queried.Items).toEqual(items);
    await Promise.all(items.slice(0, 50).map(({ pk, sk }) => documents.send(new DeleteCommand({ TableName: table, Key: { pk, sk } }))));
    const left = await documents.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `BATCH#${id}` }, Select: 'COUNT' }));
    expect(left.Count).toBe(50);
  });
});
