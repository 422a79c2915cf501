import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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
});
