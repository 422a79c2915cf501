import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GSI_PK, GSI_SK, HISTORY_PK, HISTORY_SK, historyPartition, PK, queryIndex, SK, withoutKeys } from './control-table';
import { controlItemPrefixes } from '../core/definitions';
import type { QueryRecord } from '../core/queries/model';
import type { NotificationQueryStore, SubscriptionStore, TransitionResult } from '../core/notifications/handle';
import type { QueryRepository } from '../core/queries/import';


export const queryKey = (queryId: string) => ({ [PK]: `${controlItemPrefixes.query}${queryId}`, [SK]: 'QUERY' });

/**
 * Query rows (`QUERY#<id>`); gsi1 lists them by status and age (`QSTATUS#<status>`, createdAt)
 * for polling, gsi2 by customer and age (`QHISTORY#<customerId>`, createdAt) for the history.
 */
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
          Item: { ...queryKey(record.queryId), ...record, [GSI_PK]: `QSTATUS#${record.status}`, [GSI_SK]: record.createdAt, [HISTORY_PK]: historyPartition(record.customerId), [HISTORY_SK]: record.createdAt },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  listRequestedBefore(createdBefore: string): AsyncIterable<QueryRecord> {
    return queryIndex<QueryRecord>(this.documents, this.tableName, 'QSTATUS#REQUESTED', createdBefore);
  }

  async fail(queryId: string, reason: string, now: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: queryKey(queryId),
          UpdateExpression: 'SET #status = :failed, statusReason = :reason, failedAt = :now, #gpk = :gpk',
          ConditionExpression: '#status = :requested',
          ExpressionAttributeNames: { '#status': 'status', '#gpk': GSI_PK },
          ExpressionAttributeValues: { ':failed': 'FAILED', ':reason': reason, ':now': new Date(now).toISOString(), ':requested': 'REQUESTED', ':gpk': 'QSTATUS#FAILED' },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async get(queryId: string): Promise<QueryRecord | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: queryKey(queryId), ConsistentRead: true }));
    return Item ? withoutKeys<QueryRecord>(Item) : undefined;
  }
}

/** The notification endpoint's view of queries: conditional transitions and a one-time completion claim. */
export class DynamoDbNotificationQueryStore implements NotificationQueryStore {
  private readonly repository: DynamoDbQueryRepository;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.repository = new DynamoDbQueryRepository(documents, tableName);
  }

  async finish(queryId: string, status: 'COMPLETED' | 'CANCELED', now: number): Promise<TransitionResult> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: queryKey(queryId),
          UpdateExpression: 'SET #status = :status, notifiedAt = :now, #gpk = :gpk',
          ConditionExpression: 'attribute_exists(#pk) AND #status = :requested',
          ExpressionAttributeNames: { '#status': 'status', '#pk': PK, '#gpk': GSI_PK },
          ExpressionAttributeValues: { ':status': status, ':now': new Date(now).toISOString(), ':requested': 'REQUESTED', ':gpk': `QSTATUS#${status}` },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { result: 'transitioned', query: withoutKeys<QueryRecord>(Attributes!) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const query = await this.repository.get(queryId);
      return query ? { result: 'already', query } : { result: 'unknown' };
    }
  }

  async claimCompletion(queryId: string, messageId: string): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: queryKey(queryId),
          UpdateExpression: 'SET completionClaimedBy = :message',
          ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(completionClaimedBy)',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':message': messageId },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async releaseCompletion(queryId: string): Promise<void> {
    await this.documents.send(new UpdateCommand({ TableName: this.tableName, Key: queryKey(queryId), UpdateExpression: 'REMOVE completionClaimedBy' }));
  }
}

/** Subscription confirmations (`SUBSCRIPTION#<TopicArn>`): confirmed, or pending an operator. */
export class DynamoDbSubscriptionStore implements SubscriptionStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async keepPending(topicArn: string, subscribeUrl: string, reason: string, now: number): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { [PK]: `${controlItemPrefixes.subscription}${topicArn}`, [SK]: 'SUBSCRIPTION', topicArn, status: 'PENDING', subscribeUrl, reason, receivedAt: new Date(now).toISOString() },
      }),
    );
  }

  async markConfirmed(topicArn: string, now: number): Promise<void> {
    await this.documents.send(
      new PutCommand({ TableName: this.tableName, Item: { [PK]: `${controlItemPrefixes.subscription}${topicArn}`, [SK]: 'SUBSCRIPTION', topicArn, status: 'CONFIRMED', confirmedAt: new Date(now).toISOString() } }),
    );
  }
}
