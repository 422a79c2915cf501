import type { CollectFrom, CollectStore, FileTask } from '../../lambdas/core/ingest/collect';
import type { CompletionStore, FileSummary, ManifestWriter } from '../../lambdas/core/ingest/complete';
import type { NotificationQueryStore, SubscriptionStore, TransitionResult } from '../../lambdas/core/notifications/handle';
import type { QueryRepository } from '../../lambdas/core/queries/import';
import type { QueryRecord } from '../../lambdas/core/queries/model';
import { controlItemPrefixes } from '../../lambdas/core/definitions';
import { collectFrom, fileSummary, savedFrom } from '../../lambdas/adapters/ingest-store';
import { pagesOf } from './connection-stores';
import { GSI_PK, GSI_SK, HISTORY_PK, HISTORY_SK, PK, SK, withoutKeys, type MemoryTable } from './table';

const queryPk = (queryId: string) => `${controlItemPrefixes.query}${queryId}`;
const QUERY_SK = 'QUERY';
const taskSk = (n: number) => `FILE#${String(n).padStart(7, '0')}`;

/** lambdas/adapters/query-store.ts `DynamoDbQueryRepository`, in memory: query rows, gsi1 by status and age, gsi2 by customer. */
export class MemoryQueryRepository implements QueryRepository {
  constructor(private readonly table: MemoryTable) {}

  create(record: QueryRecord): Promise<void> {
    this.table.put(
      { [PK]: queryPk(record.queryId), [SK]: QUERY_SK, ...record, [GSI_PK]: `QSTATUS#${record.status}`, [GSI_SK]: record.createdAt, [HISTORY_PK]: `QHISTORY#${record.customerId}`, [HISTORY_SK]: record.createdAt },
      (current) => current === undefined,
    );
    return Promise.resolve();
  }

  listRequestedBefore(createdBefore: string): AsyncIterable<QueryRecord> {
    return pagesOf<QueryRecord>(this.table, 'QSTATUS#REQUESTED', createdBefore);
  }

  fail(queryId: string, reason: string, now: number): Promise<void> {
    this.table.update(
      queryPk(queryId),
      QUERY_SK,
      (item) => ({ ...item, status: 'FAILED', statusReason: reason, failedAt: new Date(now).toISOString(), [GSI_PK]: 'QSTATUS#FAILED' }),
      (current) => current?.status === 'REQUESTED',
    );
    return Promise.resolve();
  }

  get(queryId: string): Promise<QueryRecord | undefined> {
    const item = this.table.get(queryPk(queryId), QUERY_SK);
    return Promise.resolve(item ? withoutKeys<QueryRecord>(item) : undefined);
  }
}

/** lambdas/adapters/query-store.ts `DynamoDbNotificationQueryStore`, in memory. */
export class MemoryNotificationQueryStore implements NotificationQueryStore {
  private readonly repository: MemoryQueryRepository;

  constructor(private readonly table: MemoryTable) {
    this.repository = new MemoryQueryRepository(table);
  }

  async finish(queryId: string, status: 'COMPLETED' | 'CANCELED', now: number): Promise<TransitionResult> {
    const updated = this.table.update(
      queryPk(queryId),
      QUERY_SK,
      (item) => ({ ...item, status, notifiedAt: new Date(now).toISOString(), [GSI_PK]: `QSTATUS#${status}` }),
      (current) => current !== undefined && current.status === 'REQUESTED',
    );
    if (updated) return { result: 'transitioned', query: withoutKeys<QueryRecord>(updated) };
    const query = await this.repository.get(queryId);
    return query ? { result: 'already', query } : { result: 'unknown' };
  }

  claimCompletion(queryId: string, messageId: string): Promise<boolean> {
    const updated = this.table.update(
      queryPk(queryId),
      QUERY_SK,
      (item) => ({ ...item, completionClaimedBy: messageId }),
      (current) => current !== undefined && current.completionClaimedBy === undefined,
    );
    return Promise.resolve(updated !== undefined);
  }

  releaseCompletion(queryId: string): Promise<void> {
    this.table.update(queryPk(queryId), QUERY_SK, ({ completionClaimedBy: _claimed, ...item }) => item);
    return Promise.resolve();
  }
}

/** lambdas/adapters/query-store.ts `DynamoDbSubscriptionStore`, in memory. */
export class MemorySubscriptionStore implements SubscriptionStore {
  constructor(private readonly table: MemoryTable) {}

  keepPending(topicArn: string, subscribeUrl: string, reason: string, now: number): Promise<void> {
    this.table.put({ [PK]: `${controlItemPrefixes.subscription}${topicArn}`, [SK]: 'SUBSCRIPTION', topicArn, status: 'PENDING', subscribeUrl, reason, receivedAt: new Date(now).toISOString() });
    return Promise.resolve();
  }

  markConfirmed(topicArn: string, now: number): Promise<void> {
    this.table.put({ [PK]: `${controlItemPrefixes.subscription}${topicArn}`, [SK]: 'SUBSCRIPTION', topicArn, status: 'CONFIRMED', confirmedAt: new Date(now).toISOString() });
    return Promise.resolve();
  }
}

/** lambdas/adapters/ingest-store.ts `DynamoDbCollectStore`, in memory: file tasks and the query's collect state. */
export class MemoryCollectStore implements CollectStore {
  constructor(private readonly table: MemoryTable) {}

  startCollecting(queryId: string, now: number): Promise<CollectFrom | undefined> {
    const updated = this.table.update(
      queryPk(queryId),
      QUERY_SK,
      (item) => ({ ...item, status: 'COLLECTING', [GSI_PK]: 'QSTATUS#COLLECTING', collectStartedAt: item.collectStartedAt ?? new Date(now).toISOString() }),
      (current) => current?.status === 'COMPLETED' || current?.status === 'COLLECTING',
    );
    return Promise.resolve(updated === undefined ? undefined : collectFrom(updated.collectFrom));
  }

  saveCollectFrom(queryId: string, from: CollectFrom): Promise<void> {
    this.table.update(queryPk(queryId), QUERY_SK, (item) => ({ ...item, collectFrom: savedFrom(from) }), (current) => current?.status === 'COLLECTING');
    return Promise.resolve();
  }

  putTask(task: FileTask): Promise<boolean> {
    return Promise.resolve(this.table.put({ [PK]: queryPk(task.queryId), [SK]: taskSk(task.n), ...task, status: 'LISTED' }, (current) => current === undefined));
  }

  isEnqueued(queryId: string, n: number): Promise<boolean> {
    return Promise.resolve(this.table.get(queryPk(queryId), taskSk(n))?.enqueued === true);
  }

  markEnqueued(queryId: string, n: number): Promise<void> {
    this.table.update(queryPk(queryId), taskSk(n), (item) => ({ ...item, enqueued: true }));
    return Promise.resolve();
  }

  finishCollecting(queryId: string, files: number, now: number): Promise<void> {
    this.table.update(
      queryPk(queryId),
      QUERY_SK,
      (item) => ({ ...item, status: 'LOADING', [GSI_PK]: 'QSTATUS#LOADING', files, collectedAt: new Date(now).toISOString() }),
      (current) => current?.status === 'COLLECTING',
    );
    return Promise.resolve();
  }

  fail(queryId: string, reason: string, now: number): Promise<void> {
    this.table.update(queryPk(queryId), QUERY_SK, (item) => ({ ...item, status: 'FAILED', [GSI_PK]: 'QSTATUS#FAILED', statusReason: reason, failedAt: new Date(now).toISOString() }));
    return Promise.resolve();
  }
}

/** lambdas/adapters/ingest-store.ts `DynamoDbCompletionStore`, in memory. */
export class MemoryCompletionStore implements CompletionStore {
  constructor(private readonly table: MemoryTable) {}

  countLoaded(queryId: string, n: number): Promise<{ loaded: number; files?: number }> {
    const updated = this.table.update(queryPk(queryId), QUERY_SK, (item) => ({ ...item, loadedFileSet: new Set([...((item.loadedFileSet as Set<number> | undefined) ?? []), n]) }))!;
    return Promise.resolve({ loaded: (updated.loadedFileSet as Set<number>).size, files: updated.files as number | undefined });
  }

  async *files(queryId: string): AsyncIterable<FileSummary> {
    for (const item of this.table.queryPartition(queryPk(queryId), 'FILE#')) {
      yield fileSummary(item);
      await Promise.resolve();
    }
  }

  listLoadingBefore(createdBefore: string): AsyncIterable<{ queryId: string; customerId: string; files?: number }> {
    return pagesOf<{ queryId: string; customerId: string; files?: number }>(this.table, 'QSTATUS#LOADING', createdBefore);
  }

  markDone(queryId: string, totals: Record<string, number>, now: number): Promise<boolean> {
    const updated = this.table.update(
      queryPk(queryId),
      QUERY_SK,
      (item) => ({ ...item, status: 'DONE', [GSI_PK]: 'QSTATUS#DONE', totals, doneAt: new Date(now).toISOString() }),
      (current) => current?.status === 'LOADING',
    );
    return Promise.resolve(updated !== undefined);
  }
}

/** lambdas/adapters/raw-files.ts `S3RawReader.putManifest`, in memory: which manifests were written (their keys; the bodies are not kept). */
export class MemoryManifestWriter implements ManifestWriter {
  readonly keys = new Set<string>();

  putManifest(key: string, manifest: unknown): Promise<void> {
    JSON.stringify(manifest);
    this.keys.add(key);
    return Promise.resolve();
  }
}
