import { z } from 'zod';
import { CustomerId } from '../core/connections/model';
import { fetchFile, type FetchDeps } from '../core/ingest/fetch';
import type { WorkQueue } from '../core/ports';
import { noMetrics, type Counter } from '../shared/metrics';
import { sqsConsumer } from '../shared/sqs';

const FetchMessageSchema = z.object({
  queryId: z.string().min(1).max(128),
  customerId: CustomerId,
  n: z.number().int().min(0),
  dataset: z.string().optional(),
  pageToken: z.string().optional(),
  pageIndex: z.number().int().min(0),
  listedAt: z.string(),
  fileUrl: z.url(),
  schemaUrl: z.url(),
});

// (adapter) --> fetchFile --> domain
export function makeFetchHandler(deps: FetchDeps & { readonly filesQueue: WorkQueue; readonly metrics?: Counter }) {
  const metrics = deps.metrics ?? noMetrics;
  return sqsConsumer(deps.filesQueue, FetchMessageSchema, deps, async (message, remainingMs) => {
    const started = deps.clock.now();
    const outcome = await fetchFile(deps, message, { remainingMs });
    metrics.count('FetchDuration', deps.clock.now() - started);
    if (outcome.outcome === 'fetched') {
      metrics.count('FilesFetched');
      metrics.count('BytesFetched', outcome.file.bytes);
    }
    if (outcome.outcome === 'retry-later') return { retryAfterSeconds: outcome.retryAfterSeconds };
    return { done: true };
  });
}
