import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { CustomerId } from '../core/connections/model';
import type { WorkQueue } from '../core/ports';
import { requestDataQuery, type ImportDeps } from '../core/queries/import';
import { noMetrics, type Counter } from '../shared/metrics';
import { processBatch, remainingTimeOf } from '../shared/sqs';

const ImportMessage = z.object({
  customerId: CustomerId,
  reason: z.enum(['connected', 'requested', 'scheduled', 'recheck']),
  requestedAt: z.string(),
  attempt: z.number().int().min(1).max(10).optional(),
});

// (adapter) --> requestDataQuery --> domain
export function makeImportsHandler(deps: ImportDeps & { readonly importsQueue: WorkQueue; readonly metrics?: Counter }) {
  const metrics = deps.metrics ?? noMetrics;
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processBatch(event, deps.importsQueue, () => deps.clock.now(), deps.logger, async (body) => {
      const request = ImportMessage.parse(body);
      const remainingMs = remainingTimeOf(context);
      const outcome = await requestDataQuery(deps, request, { remainingMs });
      if (outcome.outcome === 'requested') metrics.count('QueriesRequested');
      if (outcome.outcome === 'retry-later') return { retryAfterSeconds: outcome.retryAfterSeconds };
      if (outcome.outcome === 'skipped') deps.logger.info('import request skipped', { customerId: request.customerId, reason: outcome.reason });
      return { done: true };
    }),
  );
}
