import { z } from 'zod';
import { CustomerId } from '../core/connections/model';
import { collectQuery, type CollectDeps } from '../core/ingest/collect';
import type { WorkQueue } from '../core/ports';
import { noMetrics, type Counter } from '../shared/metrics';
import { sqsConsumer } from '../shared/sqs';

const CompletedQueryMessage = z.object({
  queryId: z.string().min(1).max(128),
  customerId: CustomerId,
  brand: z.string(),
  region: z.string(),
  completedAt: z.string(),
});

// (adapter) --> collectQuery --> domain
export function makeCollectHandler(deps: CollectDeps & { readonly completedQueue: WorkQueue; readonly metrics?: Counter }) {
  const metrics = deps.metrics ?? noMetrics;
  return sqsConsumer(deps.completedQueue, CompletedQueryMessage, deps, async (message, remainingMs) => {
    const started = deps.clock.now();
    const outcome = await collectQuery(deps, message, { remainingMs });
    metrics.count('CollectDuration', deps.clock.now() - started);
    if (outcome.outcome === 'collected') metrics.count('FilesListed', outcome.files);
    if (outcome.outcome === 'retry-later') return { retryAfterSeconds: outcome.retryAfterSeconds };
    // Out of time mid-listing: a continuation lists on from the saved page.
    if (outcome.outcome === 'continue') await deps.completedQueue.send(message);
    return { done: true };
  });
}
