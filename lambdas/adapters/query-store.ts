import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { controlTable } from '../core/definitions';
import type { QueryRecord } from '../core/queries/model';
import type { QueryRepository } from '../core/queries/import';

const PK = controlTable.partitionKey.name;
const SK = controlTable.sortKey.name;
const GSI_PK = controlTable.globalSecondaryIndexes[0].partitionKey.name;
const GSI_SK = controlTable.globalSecondaryIndexes[0].sortKey.name;

export const queryKey = (queryId: string) => ({ [PK]: `QUERY#${queryId}`, [SK]: 'QUERY' });

/** Query rows (`QUERY#<id>`); gsi1 lists them by status and age (`QSTATUS#<status>`, createdAt) for polling. */
export class DynamoDbQueryRepository implements QueryRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(record: QueryRecord): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...queryKey(record.queryId), ...record, [GSI_PK]: `QSTATUS#${record.status}`, [GSI_SK]: record.createdAt },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async get(queryId: string): Promise<QueryRecord | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: queryKey(queryId), ConsistentRead: true }));
    if (!Item) return undefined;
    const { [PK]: _pk, [SK]: _sk, [GSI_PK]: _gpk, [GSI_SK]: _gsk, ...record } = Item;
    return record as QueryRecord;
  }
}
