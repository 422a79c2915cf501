import type { Clock, Logger } from '../ports';

export interface FileSummary {
  readonly n: number;
  readonly dataset?: string;
  readonly key?: string;
  readonly bytes?: number;
  readonly sha256?: string;
  readonly records?: number;
  readonly rejected?: number;
  readonly malformed?: string | null;
}

export interface CompletionStore {
  /** Counts one more loaded file of the query; returns the count and the query's file total. */
  countLoaded(queryId: string): Promise<{ loaded: number; files?: number }>;
  files(queryId: string): AsyncIterable<FileSummary>;
  /** LOADING → DONE with the totals; false if the query was not LOADING (done already). */
  markDone(queryId: string, totals: Record<string, number>, now: number): Promise<boolean>;
}

export interface ManifestWriter {
  putManifest(key: string, manifest: unknown): Promise<void>;
}

/**
 * After a file is loaded: when it was the query's last, writes
 * `raw/<customer>/<query>/manifest.json` (files, bytes, sha256, records, rejects) and marks
 * the query DONE with its totals.
 */
export async function completeIfLastFile(
  deps: { store: CompletionStore; manifests: ManifestWriter; clock: Clock; logger: Logger },
  query: { queryId: string; customerId: string },
): Promise<boolean> {
  const { loaded, files } = await deps.store.countLoaded(query.queryId);
  if (files === undefined || loaded < files) return false;
  const summaries: FileSummary[] = [];
  for await (const file of deps.store.files(query.queryId)) summaries.push(file);
  const totals = {
    files: summaries.length,
    bytes: summaries.reduce((sum, file) => sum + (file.bytes ?? 0), 0),
    records: summaries.reduce((sum, file) => sum + (file.records ?? 0), 0),
    rejected: summaries.reduce((sum, file) => sum + (file.rejected ?? 0), 0),
    malformedFiles: summaries.filter((file) => file.malformed).length,
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
