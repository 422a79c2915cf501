import { z } from 'zod';
import { CustomerId } from '../core/connections/model';
import { loadFile, type LoadDeps, type LoadOutcome } from '../core/ingest/load';
import type { WorkQueue } from '../core/ports';
import { noMetrics, type Counter } from '../shared/metrics';
import { sqsConsumer } from '../shared/sqs';

const LoadMessageSchema = z.object({
  queryId: z.string().min(1).max(128),
  customerId: CustomerId,
  n: z.number().int().min(0),
  dataset: z.string().optional(),
  key: z.string().min(1),
  schemaKey: z.string().min(1),
  bytes: z.number().int().min(0),
  sha256: z.string(),
});

// (adapter) --> loadFile --> domain
export function makeLoadHandler(deps: LoadDeps & { readonly loadsQueue: WorkQueue; readonly metrics?: Counter }) {
  const metrics = deps.metrics ?? noMetrics;
  return sqsConsumer(deps.loadsQueue, LoadMessageSchema, deps, async (message, remainingMs) => {
    const started = deps.clock.now();
    const outcome = await loadFile(deps, message, { remainingMs });
    metrics.count('LoadDuration', deps.clock.now() - started);
    countLoad(metrics, outcome);
    // Out of time mid-file: a continuation resumes from the saved checkpoint.
    if (outcome.outcome === 'continue') await deps.loadsQueue.send(message);
    return { done: true };
  });
}

function countLoad(metrics: Counter, outcome: LoadOutcome): void {
  if (!outcome.stats) return;
  const { stats } = outcome;
  metrics.count('BytesLoaded', stats.bytes);
  metrics.count('RecordsLoaded', stats.records);
  metrics.count('RecordsNew', stats.recordsNew);
  metrics.count('RecordsUnchanged', stats.recordsUnchanged);
  metrics.count('RecordsRejected', stats.rejected);
  metrics.count('DuplicateRecords', stats.duplicates);
  if (outcome.outcome === 'loaded' || outcome.outcome === 'malformed') metrics.count('FilesLoaded');
  if (outcome.outcome === 'malformed') metrics.count('FilesMalformed');
  if (stats.schemaProblem && outcome.outcome !== 'continue') metrics.count('FilesWithoutUsableSchema');
}
