import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConnectionRecord, ConnectionStatus, PendingAuthorization } from '../core/connections/model';
import { controlTable } from '../core/definitions';
import type { AuthorizationStateStore, ConnectionRepository } from '../core/ports';

const PK = controlTable.partitionKey.name;
const SK = controlTable.sortKey.name;
const TTL = controlTable.timeToLiveAttribute;
const GSI_PK = controlTable.globalSecondaryIndexes[0].partitionKey.name;
const GSI_SK = controlTable.globalSecondaryIndexes[0].sortKey.name;

const connectionKey = (customerId: string) => ({ [PK]: `CONN#${customerId}`, [SK]: 'CONNECTION' });

/**
 * Connection rows in the control table. The sparse gsi1 lists connections by status
 * (`CONNSTATUS#<status>`), which the scheduler uses to find ACTIVE connections.
 */
export class DynamoDbConnectionRepository implements ConnectionRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(customerId: string): Promise<ConnectionRecord | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: connectionKey(customerId), ConsistentRead: true }));
    if (!Item) return undefined;
    const { [PK]: _pk, [SK]: _sk, [GSI_PK]: _gpk, [GSI_SK]: _gsk, ...record } = Item;
    return record as ConnectionRecord;
  }

  async put(record: ConnectionRecord): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...connectionKey(record.customerId), ...record, [GSI_PK]: `CONNSTATUS#${record.status}`, [GSI_SK]: record.customerId },
      }),
    );
  }

  async *listByStatus(status: ConnectionStatus): AsyncIterable<ConnectionRecord> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: controlTable.globalSecondaryIndexes[0].indexName,
          KeyConditionExpression: '#gpk = :gpk',
          ExpressionAttributeNames: { '#gpk': GSI_PK },
          ExpressionAttributeValues: { ':gpk': `CONNSTATUS#${status}` },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const { [PK]: _pk, [SK]: _sk, [GSI_PK]: _gpk, [GSI_SK]: _gsk, ...record } = item;
        yield record as ConnectionRecord;
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }

  async setNextImport(customerId: string, nextImportAt: string, expected: string | undefined): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(customerId),
          UpdateExpression: 'SET nextImportAt = :next',
          ConditionExpression: expected === undefined ? 'attribute_exists(#pk) AND attribute_not_exists(nextImportAt)' : 'nextImportAt = :expected',
          ExpressionAttributeNames: expected === undefined ? { '#pk': PK } : undefined,
          ExpressionAttributeValues: expected === undefined ? { ':next': nextImportAt } : { ':next': nextImportAt, ':expected': expected },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async setStatus(customerId: string, status: ConnectionStatus, reason: string, now: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(customerId),
          UpdateExpression: 'SET #status = :status, statusReason = :reason, statusChangedAt = :now, #gpk = :gpk',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#status': 'status', '#pk': PK, '#gpk': GSI_PK },
          ExpressionAttributeValues: { ':status': status, ':reason': reason, ':now': new Date(now).toISOString(), ':gpk': `CONNSTATUS#${status}` },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

/** OAuth states (`STATE#<state>`): written once, consumed by a conditional delete, once. */
export class DynamoDbAuthorizationStateStore implements AuthorizationStateStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(pending: PendingAuthorization): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        // The state's own expiry (ms, checked by the code) is kept apart from the TTL attribute
        // (seconds, DynamoDB's clean-up), which has the same name as the field.
        Item: { [PK]: `STATE#${pending.state}`, [SK]: 'STATE', ...pending, expiresAtMs: pending.expiresAt, [TTL]: Math.ceil(pending.expiresAt / 1000) },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      }),
    );
  }

  async consume(state: string): Promise<PendingAuthorization | undefined> {
    try {
      const { Attributes } = await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [PK]: `STATE#${state}`, [SK]: 'STATE' },
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
          ReturnValues: 'ALL_OLD',
        }),
      );
      if (!Attributes) return undefined;
      const { [PK]: _pk, [SK]: _sk, [TTL]: _ttl, expiresAtMs, ...pending } = Attributes;
      return { ...pending, expiresAt: expiresAtMs as number } as PendingAuthorization;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}
