import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { CustomerId } from '../core/connections/model';
import { loadFile, type LoadDeps } from '../core/ingest/load';
import type { WorkQueue } from '../core/ports';
import { processBatch, remainingTimeOf } from '../shared/sqs';

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
export function makeLoadHandler(deps: LoadDeps & { readonly loadsQueue: WorkQueue }) {
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processBatch(event, deps.loadsQueue, () => deps.clock.now(), deps.logger, async (body) => {
      const message = LoadMessageSchema.parse(body);
      const remainingMs = remainingTimeOf(context);
      const outcome = await loadFile(deps, message, { remainingMs });
      // Out of time mid-file: a continuation resumes from the saved checkpoint.
      if (outcome.outcome === 'continue') await deps.loadsQueue.send(message);
      return { done: true };
    }),
  );
}
