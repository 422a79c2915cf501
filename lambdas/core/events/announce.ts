import { z } from 'zod';
import type { ConnectionRecord, ConnectionStatus } from '../connections/model';
import { ConfigurationError } from '../errors';
import type { CompletedImport } from '../ingest/complete';
import type { Clock, ConnectionRepository, ConnectionStatusStore, Logger } from '../ports';
import {
  CONNECTION_STATUS_CHANGED,
  DatasetCountsSchema,
  IMPORT_COMPLETED,
  type AnnouncedStatus,
  type ConnectionStatusChangedDetail,
  type EventPublisher,
  type ImportCompletedDetail,
} from './model';

/**
 * Change events are not written in the same transaction as the state they announce: PutEvents
 * can fail, or the function die, after a query became DONE. So a DONE query counts as not yet
 * announced until its event is on the bus, and the schedule's reconcile (every poll-overdue
 * run, bounded work per run) puts the event of every DONE query still unannounced. A status
 * event the bus refused is kept beside them and put by the same reconcile. Delivery is at least once: each detail
 * carries a stable `eventId` to deduplicate on.
 */
export interface AnnouncementStore {
  /** DONE queries whose event is not known to be on the bus, created after `createdAfter` (ISO), oldest first, at most `limit`. */
  unannounced(createdAfter: string, limit: number): AsyncIterable<{ queryId: string; customerId: string; doneAt?: string }>;
  /** The query's `Import Completed` is on the bus: the reconcile stops finding it. */
  markAnnounced(queryId: string): Promise<void>;
  /** Keeps a status event the bus refused until the reconcile puts it. */
  keepStatusEvent(detail: ConnectionStatusChangedDetail): Promise<void>;
  /** Kept status events, oldest first, at most `limit`. */
  keptStatusEvents(limit: number): AsyncIterable<ConnectionStatusChangedDetail>;
  forgetStatusEvent(eventId: string): Promise<void>;
}

export interface ManifestReader {
  /** The manifest's JSON, undefined when it is not there (a purge deleted it). */
  readManifest(key: string): Promise<unknown>;
}

export interface AnnouncerDeps {
  readonly publisher: EventPublisher;
  readonly store: AnnouncementStore;
  readonly connections: Pick<ConnectionRepository, 'get'>;
  /** Only for `Import Completed` (load, schedule): the raw-data bucket, where each query's manifest is. */
  readonly manifests?: { readonly bucket: string; readonly reader: ManifestReader };
  readonly clock: Clock;
  readonly logger: Logger;
}

/** A reconcile's bounds: a query DONE this recently may still be announced by the call that made it DONE. */
export const RECONCILE_LIMITS = { perRun: 100, settleMs: 10 * 60_000, lookBackMs: 7 * 24 * 3_600_000 };

/** What a manifest must hold for its query to be announced again (lambdas/core/ingest/complete.ts writes it). */
const StoredManifest = z.object({
  queryId: z.string(),
  customerId: z.string(),
  completedAt: z.string(),
  totals: z.record(z.string(), z.number()),
  datasets: z.record(z.string(), DatasetCountsSchema.loose()),
});

const TOTALS = ['files', 'bytes', 'records', 'recordsNew', 'recordsUnchanged', 'duplicates', 'rejected'] as const;

export class ChangeAnnouncer {
  constructor(private readonly deps: AnnouncerDeps) {}

  /**
   * `CompletionDeps.onDone`: puts the query's `Import Completed` and marks it announced. A
   * failure is logged and left to the reconcile: failing the load message would not bring the
   * event back (the query is DONE already), only retry a file that is loaded.
   */
  async importCompleted(completed: CompletedImport): Promise<void> {
    const { logger } = this.deps;
    try {
      const connection = await this.deps.connections.get(completed.customerId);
      if (!connection) return;
      await this.putImport(completed, connection);
    } catch (error) {
      logger.warn('Import Completed not put on the bus; the schedule reconciles it', { queryId: completed.queryId, error: (error as Error).message });
    }
  }

  /** Announces a real transition; a status event the bus refuses is kept for the reconcile. */
  async statusChanged(change: {
    connection: Pick<ConnectionRecord, 'customerId' | 'brand' | 'region'>;
    status: AnnouncedStatus;
    previousStatus: ConnectionStatus | null;
    reason: string;
    /** When the row changed (epoch ms): the time the repository recorded. @default now */
    at?: number;
    eventId?: string;
  }): Promise<void> {
    const changedAt = new Date(change.at ?? this.deps.clock.now()).toISOString();
    const { customerId, brand, region } = change.connection;
    const detail: ConnectionStatusChangedDetail = {
      eventId: change.eventId ?? `${customerId}#${change.status}#${changedAt}`,
      customerId,
      brand,
      region,
      status: change.status,
      previousStatus: change.previousStatus,
      reason: change.reason,
      changedAt,
    };
    try {
      await this.deps.publisher.publish([{ detailType: CONNECTION_STATUS_CHANGED, detail }]);
    } catch (error) {
      this.deps.logger.warn('Connection Status Changed not put on the bus; kept for the schedule to reconcile', { customerId, status: change.status, error: (error as Error).message });
      await this.deps.store.keepStatusEvent(detail);
    }
  }

  /**
   * The schedule's safety net: puts the events of DONE queries still unannounced (DONE for
   * `settleMs` at least, created within `lookBackMs`) and the kept status events, at most
   * `perRun` of each. A query whose manifest or connection is gone (purged) is marked
   * announced without an event: there is nothing left to tell about. One event that fails is
   * logged, counted in `failed` and left for the next run: it does not hold up the others.
   */
  async reconcile(limits = RECONCILE_LIMITS): Promise<{ imports: number; statuses: number; failed: number }> {
    const { store, connections, clock, logger } = this.deps;
    const manifests = this.manifests();
    const now = clock.now();
    let imports = 0;
    let failed = 0;
    for await (const query of store.unannounced(new Date(now - limits.lookBackMs).toISOString(), limits.perRun)) {
      if (query.doneAt !== undefined && Date.parse(query.doneAt) > now - limits.settleMs) continue;
      try {
        const manifestKey = manifestKeyOf(query);
        const manifest = StoredManifest.safeParse(await manifests.reader.readManifest(manifestKey));
        const connection = await connections.get(query.customerId);
        if (!manifest.success || !connection || connection.purgeRequestedAt) {
          await store.markAnnounced(query.queryId);
          continue;
        }
        const { completedAt, totals, datasets } = manifest.data;
        await this.putImport({ queryId: query.queryId, customerId: query.customerId, brand: connection.brand, manifestKey, completedAt, totals, datasets }, connection);
        imports++;
      } catch (error) {
        failed++;
        logger.warn('Import Completed not put on the bus again; the next run tries again', { queryId: query.queryId, error: (error as Error).message });
      }
    }
    let statuses = 0;
    for await (const detail of store.keptStatusEvents(limits.perRun)) {
      try {
        await this.deps.publisher.publish([{ detailType: CONNECTION_STATUS_CHANGED, detail }]);
        await store.forgetStatusEvent(detail.eventId);
        statuses++;
      } catch (error) {
        failed++;
        logger.warn('Connection Status Changed not put on the bus again; the next run tries again', { eventId: detail.eventId, error: (error as Error).message });
      }
    }
    return { imports, statuses, failed };
  }

  private async putImport(completed: CompletedImport, connection: Pick<ConnectionRecord, 'region'>): Promise<void> {
    await this.deps.publisher.publish([{ detailType: IMPORT_COMPLETED, detail: importCompletedDetail(completed, connection.region, this.manifests().bucket) }]);
    await this.deps.store.markAnnounced(completed.queryId);
  }

  private manifests(): NonNullable<AnnouncerDeps['manifests']> {
    if (!this.deps.manifests) throw new ConfigurationError('announcing imports needs the raw-data bucket (RAW_BUCKET) and a manifest reader');
    return this.deps.manifests;
  }
}

export function importCompletedDetail(completed: CompletedImport, region: string, bucket: string): ImportCompletedDetail {
  const datasets: ImportCompletedDetail['datasets'] = {};
  for (const [name, counts] of Object.entries(completed.datasets)) {
    datasets[name] = { files: counts.files, bytes: counts.bytes, records: counts.records, recordsNew: counts.recordsNew, recordsUnchanged: counts.recordsUnchanged, duplicates: counts.duplicates, rejected: counts.rejected };
  }
  return {
    eventId: completed.queryId,
    customerId: completed.customerId,
    brand: completed.brand,
    region,
    queryId: completed.queryId,
    completedAt: completed.completedAt,
    manifest: { bucket, key: completed.manifestKey },
    totals: Object.fromEntries(TOTALS.map((name) => [name, completed.totals[name] ?? 0])) as ImportCompletedDetail['totals'],
    datasets,
  };
}

/** lambdas/core/ingest/complete.ts writes the manifest there. */
const manifestKeyOf = (query: { queryId: string; customerId: string }) => `raw/${query.customerId}/${query.queryId}/manifest.json`;

/**
 * The connection repository, announcing every real status transition: a connection written
 * with another status than it had (a first connection, a reconnection at the callback), and a
 * status change that took place (not one refused by its `from` condition, nor a status set
 * again). The other methods are the repository's own (prototype delegation keeps methods the
 * port grows).
 */
export function announcingConnections<T extends Pick<ConnectionRepository, 'get' | 'put' | 'setStatus'>>(repository: T, announcer: ChangeAnnouncer): T {
  const announcing = Object.create(repository) as T;
  announcing.put = async (record) => {
    const previous = await repository.get(record.customerId);
    await repository.put(record);
    if (previous?.status === record.status) return;
    const reason = previous ? `the customer connected again (was ${previous.status})` : 'the customer connected';
    await announcer.statusChanged({ connection: record, status: record.status, previousStatus: previous?.status ?? null, reason, at: Date.parse(record.connectedAt) });
  };
  announcing.setStatus = async (customerId, status, reason, now, from) => {
    const change = await repository.setStatus(customerId, status, reason, now, from);
    if (change && change.previousStatus !== status) await announcer.statusChanged({ connection: { customerId, ...change }, status, previousStatus: change.previousStatus, reason, at: now });
    return change;
  };
  return announcing;
}

/** The token service's status store, announcing RELINK_REQUIRED when it is new. */
export function announcingStatusStore(store: ConnectionStatusStore, announcer: ChangeAnnouncer): ConnectionStatusStore {
  return {
    markRelinkRequired: async (customerId, reason, now) => {
      const change = await store.markRelinkRequired(customerId, reason, now);
      if (change) await announcer.statusChanged({ connection: { customerId, ...change }, status: 'RELINK_REQUIRED', previousStatus: change.previousStatus, reason, at: now });
      return change;
    },
  };
}
