import type { Clock, ConnectionRepository, Logger } from '../ports';

export interface FileSummary {
  readonly n: number;
  readonly status?: string;
  readonly dataset?: string;
  readonly key?: string;
  readonly bytes?: number;
  readonly sha256?: string;
  readonly records?: number;
  readonly rejected?: number;
  readonly malformed?: string | null;
  /** Why Ring's schema file could not be used (records were then checked by zod alone). */
  readonly schemaProblem?: string | null;
}

export interface CompletionStore {
  /** Counts one more loaded file of the query; returns the count and the query's file total. */
  countLoaded(queryId: string): Promise<{ loaded: number; files?: number }>;
  files(queryId: string): AsyncIterable<FileSummary>;
  /** LOADING → DONE with the totals; false if the query was not LOADING (done already). */
  markDone(queryId: string, totals: Record<string, number>, now: number): Promise<boolean>;
  /** Queries still LOADING that were created before `createdBefore` (ISO). */
  listLoadingBefore(createdBefore: string): AsyncIterable<{ queryId: string; customerId: string; files?: number }>;
}

export interface ManifestWriter {
  putManifest(key: string, manifest: unknown): Promise<void>;
}

/**
 * After a file is loaded: when it was the query's last, writes
 * `raw/<customer>/<query>/manifest.json` (files, bytes, sha256, records, rejects) and marks
 * the query DONE with its totals.
 */
export async function completeIfLastFile(deps: CompletionDeps, query: { queryId: string; customerId: string }): Promise<boolean> {
  const { loaded, files } = await deps.store.countLoaded(query.queryId);
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
    rejected: summaries.reduce((sum, file) => sum + (file.rejected ?? 0), 0),
    malformedFiles: summaries.filter((file) => file.malformed).length,
    filesWithoutUsableSchema: summaries.filter((file) => file.schemaProblem).length,
  };
  await deps.manifests.putManifest(`raw/${query.customerId}/${query.queryId}/manifest.json`, {
    queryId: query.queryId,
    customerId: query.customerId,
    completedAt: new Date(deps.clock.now()).toISOString(),
    totals,
    files: summaries,
  });
  const done = await deps.store.markDone(query.queryId, totals, deps.clock.now());
  if (done) deps.logger.info('query imported', { queryId: query.queryId, ...totals });
  return done;
}
