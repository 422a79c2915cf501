import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { controlTable } from '../core/definitions';

/** The control table's key attribute names, from its shared definition. */
export const PK = controlTable.partitionKey.name;
export const SK = controlTable.sortKey.name;
export const TTL = controlTable.timeToLiveAttribute;
export const GSI = controlTable.globalSecondaryIndexes[0].indexName;
export const GSI_PK = controlTable.globalSecondaryIndexes[0].partitionKey.name;
export const GSI_SK = controlTable.globalSecondaryIndexes[0].sortKey.name;
/** A customer's queries, newest first: only query items set it. */
export const HISTORY_GSI = controlTable.globalSecondaryIndexes[1].indexName;
export const HISTORY_PK = controlTable.globalSecondaryIndexes[1].partitionKey.name;
export const HISTORY_SK = controlTable.globalSecondaryIndexes[1].sortKey.name;

/** A customer's partition of the history index. */
export const historyPartition = (customerId: string): string => `QHISTORY#${customerId}`;

/** An item without the table's key attributes: the domain record it stores. */
export function withoutKeys<T>(item: Record<string, unknown>): T {
  const { [PK]: _pk, [SK]: _sk, [GSI_PK]: _gpk, [GSI_SK]: _gsk, [HISTORY_PK]: _hpk, [HISTORY_SK]: _hsk, ...record } = item;
  return record as T;
}

/** The items of a gsi1 partition in sort order (optionally with gsi1sk before a value, at most `limit`), page by page. */
export async function* queryIndex<T>(documents: DynamoDBDocumentClient, tableName: string, partition: string, sortBefore?: string, limit?: number): AsyncGenerator<T> {
  let start: Record<string, unknown> | undefined;
  let left = limit ?? Number.POSITIVE_INFINITY;
  do {
    const page = await documents.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: GSI,
        KeyConditionExpression: sortBefore === undefined ? '#gpk = :gpk' : '#gpk = :gpk AND #gsk < :before',
        ExpressionAttributeNames: sortBefore === undefined ? { '#gpk': GSI_PK } : { '#gpk': GSI_PK, '#gsk': GSI_SK },
        ExpressionAttributeValues: sortBefore === undefined ? { ':gpk': partition } : { ':gpk': partition, ':before': sortBefore },
        ExclusiveStartKey: start,
        ...(limit === undefined ? {} : { Limit: left }),
      }),
    );
    for (const item of page.Items ?? []) {
      if (left-- <= 0) return;
      yield withoutKeys<T>(item);
    }
    start = page.LastEvaluatedKey;
  } while (start && left > 0);
}

/** Runs a conditional write: true when it was made, false when its condition did not hold. */
export async function unlessConflict(work: Promise<unknown>): Promise<boolean> {
  try {
    await work;
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
