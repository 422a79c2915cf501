import { manifestKey as manifestKeyOf } from '../connections/partitions';
import type { Clock, ConnectionRepository, Logger } from '../ports';

export interface FileSummary {
  readonly n: number;
  readonly status?: string;
  readonly dataset?: string;
  readonly key?: string;
  readonly bytes?: number;
  readonly sha256?: string;
  /** Valid records seen in the file (new + unchanged + duplicates). */
  readonly records?: number;
  /** Records this query stored (not in the records table before it). */
  readonly recordsNew?: number;
  /** Records already in the records table, identical: not written again. */
  readonly recordsUnchanged?: number;
  /** Repeats of a record this query had already seen (in this file or another of its files). */
  readonly duplicates?: number;
  readonly rejected?: number;
  readonly malformed?: string | null;
  /** Why Ring's schema file could not be used (records were then checked by zod alone). */
  readonly schemaProblem?: string | null;
}

export interface CompletionStore {
  /**
   * Counts file `n` of the query as loaded; returns how many of its files are counted and its
   * file total. Idempotent (a set of file numbers, not an increment): a redelivered message
   * counts its file again without counting it twice, so a load killed between finishing its
   * file and counting it is made good by the next delivery rather than by the reconciler.
   */
  countLoaded(queryId: string, n: number): Promise<{ loaded: number; files?: number }>;
  files(queryId: string): AsyncIterable<FileSummary>;
  /** LOADING → DONE with the totals; false if the query was not LOADING (done already). */
  markDone(queryId: string, totals: Record<string, number>, now: number): Promise<boolean>;
  /** Queries still LOADING that were created before `createdBefore` (ISO). */
  listLoadingBefore(createdBefore: string): AsyncIterable<{ queryId: string; customerId: string; files?: number }>;
}

/** One dataset's part of a finished query (the manifest's `datasets`, the `Import Completed` event's detail). */
export interface DatasetCounts {
  readonly files: number;
  readonly bytes: number;
  readonly records: number;
  readonly recordsNew: number;
  readonly recordsUnchanged: number;
  readonly duplicates: number;
  readonly rejected: number;
}

/** A query that just became DONE: what `onDone` is told (once per query). */
export interface CompletedImport {
  readonly queryId: string;
  readonly customerId: string;
  readonly brand: string;
  readonly manifestKey: string;
  readonly completedAt: string;
  readonly totals: Readonly<Record<string, number>>;
  readonly datasets: Readonly<Record<string, DatasetCounts>>;
}

export interface ManifestWriter {
  putManifest(key: string, manifest: unknown): Promise<void>;
}

/**
 * After a file is loaded: when it was the query's last, writes
 * `raw/<customer>/<query>/manifest.json` (files, bytes, sha256, records, rejects) and marks
 * the query DONE with its totals.
 */
export async function completeIfLastFile(deps: CompletionDeps, query: { queryId: string; customerId: string; n: number }): Promise<boolean> {
  const { loaded, files } = await deps.store.countLoaded(query.queryId, query.n);
  if (files === undefined || loaded < files) return false;
  return writeManifestAndFinish(deps, query);
}

export interface CompletionDeps {
  readonly store: CompletionStore;
  readonly manifests: ManifestWriter;
  /** A customer whose purge was requested gets no manifest (it would outlive the purge). */
  readonly connections: Pick<ConnectionRepository, 'get'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called once the query is DONE, by the call that made it so. */
  readonly onDone?: (completed: CompletedImport) => Promise<void>;
}

const FINISHED = new Set(['LOADED', 'MALFORMED']);

/**
 * The schedule's safety net: a load that died between marking its file loaded and counting it
 * leaves the query LOADING. For queries LOADING longer than `olderThanMs`, recount from the
 * file tasks themselves and complete those whose files are all loaded.
 */
export async function reconcileLoadingQueries(deps: CompletionDeps, olderThanMs: number): Promise<{ completed: number }> {
  let completed = 0;
  for await (const query of deps.store.listLoadingBefore(new Date(deps.clock.now() - olderThanMs).toISOString())) {
    let total = 0;
    let finished = 0;
    for await (const file of deps.store.files(query.queryId)) {
      total++;
      if (FINISHED.has(file.status ?? '')) finished++;
    }
    if (query.files !== undefined && total === query.files && finished === total && (await writeManifestAndFinish(deps, query))) completed++;
  }
  return { completed };
}

async function writeManifestAndFinish(deps: CompletionDeps, query: { queryId: string; customerId: string }): Promise<boolean> {
  const connection = await deps.connections.get(query.customerId);
  if (!connection || connection.purgeRequestedAt) return false;
  const summaries: FileSummary[] = [];
  for await (const file of deps.store.files(query.queryId)) summaries.push(file);
  const totals = {
    files: summaries.length,
    bytes: summaries.reduce((sum, file) => sum + (file.bytes ?? 0), 0),
    records: summaries.reduce((sum, file) => sum + (file.records ?? 0), 0),
    recordsNew: summaries.reduce((sum, file) => sum + (file.recordsNew ?? 0), 0),
    recordsUnchanged: summaries.reduce((sum, file) => sum + (file.recordsUnchanged ?? 0), 0),
    duplicates: summaries.reduce((sum, file) => sum + (file.duplicates ?? 0), 0),
    rejected: summaries.reduce((sum, file) => sum + (file.rejected ?? 0), 0),
    malformedFiles: summaries.filter((file) => file.malformed).length,
    filesWithoutUsableSchema: summaries.filter((file) => file.schemaProblem).length,
  };
  const datasets = countByDataset(summaries);
  const manifestKey = manifestKeyOf(query.customerId, query.queryId);
  const completedAt = new Date(deps.clock.now()).toISOString();
  await deps.manifests.putManifest(manifestKey, { queryId: query.queryId, customerId: query.customerId, completedAt, totals, datasets, files: summaries });
  const done = await deps.store.markDone(query.queryId, totals, deps.clock.now());
  if (done) {
    deps.logger.info('query imported', { queryId: query.queryId, ...totals });
    await deps.onDone?.({ queryId: query.queryId, customerId: query.customerId, brand: connection.brand, manifestKey, completedAt, totals, datasets });
  }
  return done;
}

function countByDataset(summaries: readonly FileSummary[]): Record<string, DatasetCounts> {
  const datasets: Record<string, DatasetCounts> = {};
  for (const file of summaries) {
    const name = file.dataset ?? 'Unknown';
    const sum = datasets[name] ?? { files: 0, bytes: 0, records: 0, recordsNew: 0, recordsUnchanged: 0, duplicates: 0, rejected: 0 };
    datasets[name] = {
      files: sum.files + 1,
      bytes: sum.bytes + (file.bytes ?? 0),
      records: sum.records + (file.records ?? 0),
      recordsNew: sum.recordsNew + (file.recordsNew ?? 0),
      recordsUnchanged: sum.recordsUnchanged + (file.recordsUnchanged ?? 0),
      duplicates: sum.duplicates + (file.duplicates ?? 0),
      rejected: sum.rejected + (file.rejected ?? 0),
    };
  }
  return datasets;
}
