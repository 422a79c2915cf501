import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConnectionRecord, ConnectionStatus, LastImport, PendingAuthorization } from '../core/connections/model';
import type { AuthorizationStateStore, ConnectionRepository, StatusChange } from '../core/ports';
import { GSI_PK, GSI_SK, PK, queryIndex, SK, TTL, unlessConflict, withoutKeys } from './control-table';


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
    return Item ? withoutKeys<ConnectionRecord>(Item) : undefined;
  }

  async put(record: ConnectionRecord): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...connectionKey(record.customerId), ...record, [GSI_PK]: `CONNSTATUS#${record.status}`, [GSI_SK]: record.customerId },
      }),
    );
  }

  listByStatus(status: ConnectionStatus): AsyncIterable<ConnectionRecord> {
    return queryIndex<ConnectionRecord>(this.documents, this.tableName, `CONNSTATUS#${status}`);
  }

  async markPurgeRequested(customerId: string, now: number): Promise<string> {
    const { Attributes } = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: connectionKey(customerId),
        UpdateExpression: 'SET purgeRequestedAt = if_not_exists(purgeRequestedAt, :now)',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
        ExpressionAttributeValues: { ':now': new Date(now).toISOString() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes!.purgeRequestedAt as string;
  }

  setNextImport(customerId: string, nextImportAt: string, expected: string | undefined): Promise<boolean> {
    return unlessConflict(
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(customerId),
          UpdateExpression: 'SET nextImportAt = :next',
          ConditionExpression: expected === undefined ? 'attribute_exists(#pk) AND attribute_not_exists(nextImportAt)' : 'nextImportAt = :expected',
          ExpressionAttributeNames: expected === undefined ? { '#pk': PK } : undefined,
          ExpressionAttributeValues: expected === undefined ? { ':next': nextImportAt } : { ':next': nextImportAt, ':expected': expected },
        }),
      ),
    );
  }

  async setStatus(customerId: string, status: ConnectionStatus, reason: string, now: number, from?: readonly ConnectionStatus[]): Promise<StatusChange | undefined> {
    const allowed = Object.fromEntries((from ?? []).map((value, i) => [`:from${i}`, value]));
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(customerId),
          UpdateExpression: 'SET #status = :status, statusReason = :reason, statusChangedAt = :now, #gpk = :gpk',
          // The same status again changes nothing: statusChangedAt says since when (and agrees with the event).
          ConditionExpression: `attribute_exists(#pk) AND #status <> :status${from === undefined ? '' : ` AND #status IN (${Object.keys(allowed).join(', ')})`}`,
          ExpressionAttributeNames: { '#status': 'status', '#pk': PK, '#gpk': GSI_PK },
          ExpressionAttributeValues: { ':status': status, ':reason': reason, ':now': new Date(now).toISOString(), ':gpk': `CONNSTATUS#${status}`, ...allowed },
          // What it replaced: the announcement's previousStatus, brand and region, without another read.
          ReturnValues: 'ALL_OLD',
        }),
      );
      return statusChangeOf(Attributes);
    } catch (error) {
      // A connection gone, already in the status, or in one it may not leave this way, is left alone.
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async recordImport(customerId: string, lastImport: LastImport): Promise<void> {
    await unlessConflict(
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(customerId),
          UpdateExpression: 'SET lastImport = :last',
          // A retried older request does not hide what became of a newer one.
          ConditionExpression: 'attribute_exists(#pk) AND (attribute_not_exists(lastImport) OR lastImport.requestedAt <= :requestedAt)',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':last': lastImport, ':requestedAt': lastImport.requestedAt },
        }),
      ),
    );
  }
}

/** The previous row of a conditional status update (`ReturnValues: ALL_OLD`) as a status change. */
export function statusChangeOf(previous: Record<string, unknown> | undefined): StatusChange | undefined {
  if (!previous) return undefined;
  return { previousStatus: previous.status as ConnectionStatus, brand: previous.brand as string, region: previous.region as string };
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
