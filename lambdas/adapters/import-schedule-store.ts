import { GetCommand, PutCommand, DeleteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { controlItemPrefixes } from '../core/definitions';
import type { TokenAgeIndex } from '../core/ports';
import { orderKey, tokenAgeKey, type ImportEntry, type ImportEntryState, type ImportScheduleStore } from '../core/queries/import-schedule';
import { GSI, GSI_PK, GSI_SK, PK, queryIndex, SK, unlessConflict, withoutKeys } from './control-table';

const entryKey = (customerId: string) => ({ [PK]: `${controlItemPrefixes.importEntry}${customerId}`, [SK]: 'IMPORT' });
const pacerKey = (brand: string) => ({ [PK]: `${controlItemPrefixes.importPacer}${brand}`, [SK]: 'PACER' });
const partition = (brand: string, state: ImportEntryState) => `IMPORTS#${brand}#${state}`;

/**
 * The import schedule in the control table: one item per connection (`IMPORT#<customerId>`),
 * listed through gsi1 by brand and state (`IMPORTS#<brand>#WAITING|BUSY`) in dispatch order,
 * and one pacing mark per brand (`PACER#<brand>`). Every write is conditional on the version read.
 */
export class DynamoDbImportScheduleStore implements ImportScheduleStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(customerId: string): Promise<ImportEntry | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: entryKey(customerId), ConsistentRead: true }));
    return Item ? withoutKeys<ImportEntry>(Item) : undefined;
  }

  replace(entry: ImportEntry, expectedVersion: number | undefined): Promise<boolean> {
    const stored = { ...entry, version: (expectedVersion ?? 0) + 1 };
    return unlessConflict(
      this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...entryKey(entry.customerId), ...stored, [GSI_PK]: partition(entry.brand, entry.state), [GSI_SK]: orderKey(entry) },
          ConditionExpression: expectedVersion === undefined ? 'attribute_not_exists(#pk)' : 'version = :version',
          ExpressionAttributeNames: expectedVersion === undefined ? { '#pk': PK } : undefined,
          ExpressionAttributeValues: expectedVersion === undefined ? undefined : { ':version': expectedVersion },
        }),
      ),
    );
  }

  async remove(customerId: string): Promise<void> {
    await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: entryKey(customerId) }));
  }

  async list(brand: string, state: ImportEntryState, options: { before?: string; limit: number }): Promise<ImportEntry[]> {
    const entries: ImportEntry[] = [];
    for await (const entry of queryIndex<ImportEntry>(this.documents, this.tableName, partition(brand, state), options.before, options.limit)) entries.push(entry);
    return entries;
  }

  async count(brand: string, state: ImportEntryState, before: string): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: GSI,
          Select: 'COUNT',
          KeyConditionExpression: '#gpk = :gpk AND #gsk < :before',
          ExpressionAttributeNames: { '#gpk': GSI_PK, '#gsk': GSI_SK },
          ExpressionAttributeValues: { ':gpk': partition(brand, state), ':before': before },
          ExclusiveStartKey: start,
        }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  }

  async pacer(brand: string): Promise<{ nextSlotAt: number; version: number } | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: pacerKey(brand), ConsistentRead: true }));
    return Item ? { nextSlotAt: Item.nextSlotAt as number, version: Item.version as number } : undefined;
  }

  movePacer(brand: string, nextSlotAt: number, expectedVersion: number | undefined): Promise<boolean> {
    return unlessConflict(
      this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...pacerKey(brand), nextSlotAt, version: (expectedVersion ?? 0) + 1 },
          ConditionExpression: expectedVersion === undefined ? 'attribute_not_exists(#pk)' : 'version = :version',
          ExpressionAttributeNames: expectedVersion === undefined ? { '#pk': PK } : undefined,
          ExpressionAttributeValues: expectedVersion === undefined ? undefined : { ':version': expectedVersion },
        }),
      ),
    );
  }
}

const TOKEN_AGES = 'TOKENAGES';

/** Refresh-token issue times in the control table (`TOKENS#<customerId>`), listed oldest first through gsi1. */
export class DynamoDbTokenAgeIndex implements TokenAgeIndex {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(customerId: string, refreshTokenIssuedAt: number): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { [PK]: `${controlItemPrefixes.tokenAge}${customerId}`, [SK]: 'TOKENS', customerId, refreshTokenIssuedAt, [GSI_PK]: TOKEN_AGES, [GSI_SK]: tokenAgeKey(refreshTokenIssuedAt, customerId) },
        // An older issue time never replaces a newer one (a slow writer after a second refresh).
        ConditionExpression: 'attribute_not_exists(#pk) OR refreshTokenIssuedAt <= :issued',
        ExpressionAttributeNames: { '#pk': PK },
        ExpressionAttributeValues: { ':issued': refreshTokenIssuedAt },
      }),
    ).catch((error: unknown) => {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    });
  }

  async issuedBefore(before: number, limit: number): Promise<{ customerId: string; refreshTokenIssuedAt: number }[]> {
    const due: { customerId: string; refreshTokenIssuedAt: number }[] = [];
    for await (const item of queryIndex<{ customerId: string; refreshTokenIssuedAt: number }>(this.documents, this.tableName, TOKEN_AGES, tokenAgeKey(before, ''), limit)) {
      due.push({ customerId: item.customerId, refreshTokenIssuedAt: item.refreshTokenIssuedAt });
    }
    return due;
  }

  async remove(customerId: string): Promise<void> {
    await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: { [PK]: `${controlItemPrefixes.tokenAge}${customerId}`, [SK]: 'TOKENS' } }));
  }
}
