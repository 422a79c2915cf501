import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { CustomerId } from '../core/connections/model';
import { collectQuery, type CollectDeps } from '../core/ingest/collect';
import type { WorkQueue } from '../core/ports';
import { processBatch, remainingTimeOf } from '../shared/sqs';

const CompletedQueryMessage = z.object({
  queryId: z.string().min(1).max(128),
  customerId: CustomerId,
  brand: z.string(),
  region: z.string(),
  completedAt: z.string(),
});

// (adapter) --> collectQuery --> domain
export function makeCollectHandler(deps: CollectDeps & { readonly completedQueue: WorkQueue }) {
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processBatch(event, deps.completedQueue, () => deps.clock.now(), deps.logger, async (body) => {
      const message = CompletedQueryMessage.parse(body);
      const remainingMs = remainingTimeOf(context);
      const outcome = await collectQuery(deps, message, { remainingMs });
      if (outcome.outcome === 'retry-later') return { retryAfterSeconds: outcome.retryAfterSeconds };
      return { done: true };
    }),
  );
}
