import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConnectionRecord, ConnectionStatus } from '../core/connections/model';
import { controlItemPrefixes } from '../core/definitions';
import type { ConnectionDirectory, ConnectionSlice, HistoryItem, HistoryPosition, ImportHistory } from '../core/connections/listing';
import { GSI, GSI_PK, GSI_SK, HISTORY_GSI, HISTORY_PK, HISTORY_SK, historyPartition, PK, SK, withoutKeys } from './control-table';
import { queryKey } from './query-store';

const connectionStatusPartition = (status: ConnectionStatus) => `CONNSTATUS#${status}`;

/**
 * Connections by status on gsi1 (`CONNSTATUS#<status>`, customer id), one Query of at most
 * `limit` items: `brand` is a filter, applied by DynamoDB after the read (a read costs the
 * same filtered or not), so the page may hold fewer. A key per brand and status would make
 * every page full, at the price of a third index on the control table for a listing an
 * integrator with one or two brands rarely filters by.
 */
export class DynamoDbConnectionDirectory implements ConnectionDirectory {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async slice(status: ConnectionStatus, options: { after?: string; limit: number; brand?: string }): Promise<ConnectionSlice> {
    const partition = connectionStatusPartition(status);
    const page = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: GSI,
        KeyConditionExpression: '#gpk = :gpk',
        ...(options.brand ? { FilterExpression: '#brand = :brand' } : {}),
        ExpressionAttributeNames: { '#gpk': GSI_PK, ...(options.brand ? { '#brand': 'brand' } : {}) },
        ExpressionAttributeValues: { ':gpk': partition, ...(options.brand ? { ':brand': options.brand } : {}) },
        ExclusiveStartKey: options.after === undefined ? undefined : { [PK]: `CONN#${options.after}`, [SK]: 'CONNECTION', [GSI_PK]: partition, [GSI_SK]: options.after },
        Limit: options.limit,
      }),
    );
    return {
      connections: (page.Items ?? []).map((item) => withoutKeys<ConnectionRecord>(item)),
      read: page.ScannedCount ?? 0,
      ...(page.LastEvaluatedKey ? { last: page.LastEvaluatedKey[GSI_SK] as string } : {}),
    };
  }
}

/** A customer's queries on gsi2 (`QHISTORY#<customerId>`, createdAt), newest first, one Query of at most `limit` items. */
export class DynamoDbImportHistory implements ImportHistory {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async slice(customerId: string, options: { before?: HistoryPosition; limit: number }): Promise<{ queries: HistoryItem[]; last?: HistoryPosition }> {
    const partition = historyPartition(customerId);
    const page = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: HISTORY_GSI,
        KeyConditionExpression: '#hpk = :hpk',
        ExpressionAttributeNames: { '#hpk': HISTORY_PK },
        ExpressionAttributeValues: { ':hpk': partition },
        ScanIndexForward: false,
        ExclusiveStartKey: options.before && { ...queryKey(options.before.queryId), [HISTORY_PK]: partition, [HISTORY_SK]: options.before.createdAt },
        Limit: options.limit,
      }),
    );
    const last = page.LastEvaluatedKey;
    return {
      queries: (page.Items ?? []).map((item) => withoutKeys<HistoryItem>(item)),
      ...(last ? { last: { createdAt: last[HISTORY_SK] as string, queryId: (last[PK] as string).slice(controlItemPrefixes.query.length) } } : {}),
    };
  }
}
