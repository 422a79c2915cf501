import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CollectFrom, CollectStore, FileTask } from '../core/ingest/collect';
import type { FetchedFile, FetchStore } from '../core/ingest/fetch';
import type { CompletionStore, FileSummary } from '../core/ingest/complete';
import type { LoadCheckpoint, LoadResult, LoadStore, RecordCounts } from '../core/ingest/load';
import { GSI_PK, PK, queryIndex, SK, unlessConflict } from './control-table';
import { queryKey } from './query-store';

const taskKey = (queryId: string, n: number) => ({ [PK]: `QUERY#${queryId}`, [SK]: `FILE#${String(n).padStart(7, '0')}` });

/** A finished file's counts, kept in its checkpoint attribute (offset -1). */
export function finalCounts(result: LoadResult): RecordCounts {
  return { records: result.records, recordsNew: result.recordsNew, recordsUnchanged: result.recordsUnchanged, duplicates: result.duplicates, rejected: result.rejected };
}

/** The manifest's view of a file task item (the memory store shares it). */
export function fileSummary(item: Record<string, unknown>): FileSummary {
  const checkpoint = item.checkpoint as Partial<RecordCounts> | undefined;
  return {
    n: item.n as number,
    status: item.status as string | undefined,
    dataset: (item.loadedDataset ?? item.dataset) as string | undefined,
    key: item.key as string | undefined,
    bytes: item.bytes as number | undefined,
    sha256: item.sha256 as string | undefined,
    records: checkpoint?.records,
    recordsNew: checkpoint?.recordsNew,
    recordsUnchanged: checkpoint?.recordsUnchanged,
    duplicates: checkpoint?.duplicates,
    rejected: checkpoint?.rejected,
    malformed: (item.malformed as string | null | undefined) ?? null,
    schemaProblem: (item.schemaProblem as string | null | undefined) ?? null,
  };
}

/** Where listing goes on, as saved on the query item (none saved: the first page). */
export function collectFrom(saved: unknown): CollectFrom {
  const { n, pageToken, pageIndex, sent } = (saved ?? {}) as { n?: unknown; pageToken?: unknown; pageIndex?: unknown; sent?: unknown };
  if (typeof n !== 'number') return { n: 0 };
  // Without a token the place is on the first page.
  return { n, ...(typeof pageToken === 'string' ? { pageToken } : {}), ...(typeof pageIndex === 'number' ? { pageIndex } : {}), ...(typeof sent === 'number' ? { sent } : {}) };
}

/** What saveCollectFrom stores: the place without undefined members (DynamoDB refuses them). */
export function savedFrom(from: CollectFrom): Record<string, unknown> {
  return {
    n: from.n,
    ...(from.pageToken !== undefined ? { pageToken: from.pageToken } : {}),
    ...(from.pageIndex !== undefined ? { pageIndex: from.pageIndex } : {}),
    ...(from.sent !== undefined ? { sent: from.sent } : {}),
  };
}

/** File tasks (`QUERY#<id>` / `FILE#<n>`) and the query's collect state, in the control table. */
export class DynamoDbCollectStore implements CollectStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async startCollecting(queryId: string, now: number): Promise<CollectFrom | undefined> {
    let started: Record<string, unknown> | undefined;
    const held = await unlessConflict(
      this.documents
        .send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: queryKey(queryId),
            UpdateExpression: 'SET #status = :collecting, #gpk = :gpk, collectStartedAt = if_not_exists(collectStartedAt, :now)',
            ConditionExpression: '#status IN (:completed, :collecting)',
            ExpressionAttributeNames: { '#status': 'status', '#gpk': GSI_PK },
            ExpressionAttributeValues: { ':collecting': 'COLLECTING', ':completed': 'COMPLETED', ':gpk': 'QSTATUS#COLLECTING', ':now': new Date(now).toISOString() },
            ReturnValues: 'ALL_NEW',
          }),
        )
        .then(({ Attributes }) => void (started = Attributes)),
    );
    return held ? collectFrom(started?.collectFrom) : undefined;
  }

  async saveCollectFrom(queryId: string, from: CollectFrom): Promise<void> {
    await unlessConflict(
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: queryKey(queryId),
          UpdateExpression: 'SET collectFrom = :from',
          ConditionExpression: '#status = :collecting',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':from': savedFrom(from), ':collecting': 'COLLECTING' },
        }),
      ),
    );
  }

  putTask(task: FileTask): Promise<boolean> {
    return unlessConflict(
      this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...taskKey(task.queryId, task.n), ...task, status: 'LISTED' },
          ConditionExpression: 'attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#sk': SK },
        }),
      ),
    );
  }

  async isEnqueued(queryId: string, n: number): Promise<boolean> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: taskKey(queryId, n), ConsistentRead: true }));
    return Item?.enqueued === true;
  }

  async markEnqueued(queryId: string, n: number): Promise<void> {
    await this.documents.send(new UpdateCommand({ TableName: this.tableName, Key: taskKey(queryId, n), UpdateExpression: 'SET enqueued = :yes', ExpressionAttributeValues: { ':yes': true } }));
  }

  async finishCollecting(queryId: string, files: number, now: number): Promise<void> {
    await unlessConflict(
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: queryKey(queryId),
          UpdateExpression: 'SET #status = :loading, #gpk = :gpk, files = :files, collectedAt = :now',
          ConditionExpression: '#status = :collecting',
          ExpressionAttributeNames: { '#status': 'status', '#gpk': GSI_PK },
          ExpressionAttributeValues: { ':loading': 'LOADING', ':collecting': 'COLLECTING', ':gpk': 'QSTATUS#LOADING', ':files': files, ':now': new Date(now).toISOString() },
        }),
      ),
    );
  }

  async fail(queryId: string, reason: string, now: number): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: queryKey(queryId),
        UpdateExpression: 'SET #status = :failed, #gpk = :gpk, statusReason = :reason, failedAt = :now',
        ExpressionAttributeNames: { '#status': 'status', '#gpk': GSI_PK },
        ExpressionAttributeValues: { ':failed': 'FAILED', ':gpk': 'QSTATUS#FAILED', ':reason': reason, ':now': new Date(now).toISOString() },
      }),
    );
  }
}

/** The fetch stage's view of file tasks: FETCHED with the object's key, bytes and sha256. */
export class DynamoDbFetchStore implements FetchStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async fetched(queryId: string, n: number): Promise<FetchedFile | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: taskKey(queryId, n), ConsistentRead: true }));
    if (Item?.status !== 'FETCHED') return undefined;
    return { key: Item.key as string, schemaKey: Item.schemaKey as string, bytes: Item.bytes as number, sha256: Item.sha256 as string };
  }

  async markFetched(queryId: string, n: number, file: FetchedFile, now: number): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: taskKey(queryId, n),
        UpdateExpression: 'SET #status = :fetched, #key = :key, schemaKey = :schemaKey, bytes = :bytes, sha256 = :sha256, fetchedAt = :now',
        ExpressionAttributeNames: { '#status': 'status', '#key': 'key' },
        ExpressionAttributeValues: { ':fetched': 'FETCHED', ':key': file.key, ':schemaKey': file.schemaKey, ':bytes': file.bytes, ':sha256': file.sha256, ':now': new Date(now).toISOString() },
      }),
    );
  }
}

/** The load stage's checkpoints on the file task. */
export class DynamoDbLoadStore implements LoadStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async progress(queryId: string, n: number): Promise<{ done: boolean; checkpoint?: LoadCheckpoint }> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: taskKey(queryId, n), ConsistentRead: true }));
    const checkpoint = Item?.checkpoint as LoadCheckpoint | undefined;
    return { done: Item?.status === 'LOADED' || Item?.status === 'MALFORMED', checkpoint };
  }

  saveCheckpoint(queryId: string, n: number, checkpoint: LoadCheckpoint): Promise<boolean> {
    // Only forward, and never over a finished file's totals: a second copy of the message may lag behind.
    return unlessConflict(
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: taskKey(queryId, n),
          UpdateExpression: 'SET checkpoint = :checkpoint, checkpointOffset = :offset',
          ConditionExpression: '(attribute_not_exists(#status) OR NOT (#status IN (:loaded, :malformed))) AND (attribute_not_exists(checkpointOffset) OR checkpointOffset < :offset)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':checkpoint': checkpoint, ':offset': checkpoint.offset, ':loaded': 'LOADED', ':malformed': 'MALFORMED' },
        }),
      ),
    );
  }

  finish(queryId: string, n: number, result: LoadResult, now: number): Promise<boolean> {
    return unlessConflict(
      this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: taskKey(queryId, n),
        UpdateExpression: 'SET #status = :status, loadedDataset = :dataset, checkpoint = :checkpoint, malformed = :malformed, schemaProblem = :schemaProblem, loadedAt = :now',
        // Only the first finisher counts the file towards the query's completion.
        ConditionExpression: 'attribute_not_exists(#status) OR NOT (#status IN (:loaded, :malformedStatus))',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': result.malformed ? 'MALFORMED' : 'LOADED',
          ':dataset': result.dataset,
          ':checkpoint': { offset: -1, format: 'array', ...finalCounts(result) },
          ':malformed': result.malformed ?? null,
          ':schemaProblem': result.schemaProblem ?? null,
          ':now': new Date(now).toISOString(),
          ':loaded': 'LOADED',
          ':malformedStatus': 'MALFORMED',
        },
      }),
      ),
    );
  }
}

/** Counting loaded files on the query item, and the manifest's view of the tasks. */
export class DynamoDbCompletionStore implements CompletionStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async countLoaded(queryId: string, n: number): Promise<{ loaded: number; files?: number }> {
    // ADD to a number set is idempotent, where ADD to a number is not: one file counts once, however often it is counted.
    const { Attributes } = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: queryKey(queryId),
        UpdateExpression: 'ADD loadedFileSet :n',
        ExpressionAttributeValues: { ':n': new Set([n]) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { loaded: (Attributes!.loadedFileSet as Set<number>).size, files: Attributes!.files as number | undefined };
  }

  async *files(queryId: string): AsyncIterable<FileSummary> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :file)',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': `QUERY#${queryId}`, ':file': 'FILE#' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        yield fileSummary(item);
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }

  listLoadingBefore(createdBefore: string): AsyncIterable<{ queryId: string; customerId: string; files?: number }> {
    return queryIndex<{ queryId: string; customerId: string; files?: number }>(this.documents, this.tableName, 'QSTATUS#LOADING', createdBefore);
  }

  markDone(queryId: string, totals: Record<string, number>, now: number): Promise<boolean> {
    return unlessConflict(
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: queryKey(queryId),
          UpdateExpression: 'SET #status = :done, #gpk = :gpk, totals = :totals, doneAt = :now',
          ConditionExpression: '#status = :loading',
          ExpressionAttributeNames: { '#status': 'status', '#gpk': GSI_PK },
          ExpressionAttributeValues: { ':done': 'DONE', ':loading': 'LOADING', ':gpk': 'QSTATUS#DONE', ':totals': totals, ':now': new Date(now).toISOString() },
        }),
      ),
    );
  }
}
