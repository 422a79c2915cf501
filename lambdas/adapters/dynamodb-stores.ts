import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConnectionStatusStore, LeaseStore, RateLimitStore, RateLog, StatusChange } from '../core/ports';
import { statusChangeOf } from './connection-stores';
import { GSI_PK, PK, SK, TTL } from './control-table';


const conflicted = (error: unknown): boolean => error instanceof ConditionalCheckFailedException || (error as Error | undefined)?.name === 'ConditionalCheckFailedException';

/** Leases in the control table: a conditional put that succeeds when free or expired. */
export class DynamoDbLeaseStore implements LeaseStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async acquire(key: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [PK]: key, [SK]: 'LEASE', holder, leaseUntil: now + ttlMs, [TTL]: Math.ceil((now + ttlMs) / 1000) + 3600 },
          ConditionExpression: 'attribute_not_exists(#pk) OR leaseUntil < :now',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (conflicted(error)) return false;
      throw error;
    }
  }

  async release(key: string, holder: string): Promise<void> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [PK]: key, [SK]: 'LEASE' },
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error) {
      if (!conflicted(error)) throw error;
    }
  }
}

/** Connection rows (`CONN#<customerId>`): only the status change the token service needs. */
export class DynamoDbConnectionStatusStore implements ConnectionStatusStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async markRelinkRequired(customerId: string, reason: string, now: number): Promise<StatusChange | undefined> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: `CONN#${customerId}`, [SK]: 'CONNECTION' },
          // The status index moves too: the scheduler must stop finding the connection ACTIVE.
          UpdateExpression: 'SET #status = :status, statusReason = :reason, statusChangedAt = :now, #gpk = :gpk',
          ConditionExpression: 'attribute_exists(#pk) AND #status IN (:active, :onHold)',
          ExpressionAttributeNames: { '#status': 'status', '#pk': PK, '#gpk': GSI_PK },
          ExpressionAttributeValues: { ':status': 'RELINK_REQUIRED', ':reason': reason, ':now': new Date(now).toISOString(), ':gpk': 'CONNSTATUS#RELINK_REQUIRED', ':active': 'ACTIVE', ':onHold': 'ON_HOLD' },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return statusChangeOf(Attributes);
    } catch (error) {
      // No connection row (deleted meanwhile), or one the integrator disconnected: nothing to mark.
      if (!conflicted(error)) throw error;
      return undefined;
    }
  }
}

/** Rate-limit logs and counters in the control table, with optimistic concurrency. */
export class DynamoDbRateLimitStore implements RateLimitStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async readLog(key: string): Promise<RateLog> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { [PK]: key, [SK]: 'LOG' }, ConsistentRead: true }));
    return { times: (Item?.times as number[] | undefined) ?? [], version: (Item?.version as number | undefined) ?? 0 };
  }

  async writeLog(key: string, times: readonly number[], expectedVersion: number, expiresAt: number): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [PK]: key, [SK]: 'LOG', times: [...times], version: expectedVersion + 1, [TTL]: expiresAt },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(#pk)' : 'version = :version',
          ExpressionAttributeNames: expectedVersion === 0 ? { '#pk': PK } : undefined,
          ExpressionAttributeValues: expectedVersion === 0 ? undefined : { ':version': expectedVersion },
        }),
      );
      return true;
    } catch (error) {
      if (conflicted(error)) return false;
      throw error;
    }
  }

  async incrementBelow(key: string, limit: number, expiresAt: number): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: key, [SK]: 'COUNTER' },
          UpdateExpression: 'ADD #count :one SET #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': 'count', '#ttl': TTL },
          ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':ttl': expiresAt },
        }),
      );
      return true;
    } catch (error) {
      if (conflicted(error)) return false;
      throw error;
    }
  }
}
