import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { z } from 'zod';
import type { Clock, Logger, WorkQueue } from '../core/ports';

/** SQS allows at most 15 minutes of delay on a message. */
const MAX_DELAY_SECONDS = 900;

/** When a failed message is tried again: 30 s, then 4 times longer each receive, at most 1 hour. */
export function failedRetrySeconds(receiveCount: number): number {
  return Math.min(3_600, 30 * 4 ** Math.max(0, receiveCount - 1));
}

export type RecordResult = { readonly done: true } | { readonly retryAfterSeconds: number };

/**
 * Processes a batch one record at a time and reports only the failed ones (partial batch
 * response), so one bad message never sends its batch back. A record that must wait is
 * re-sent with a delay (carrying `notBefore` when the wait is longer than SQS allows) and
 * its original deleted: waiting never burns a receive towards the DLQ.
 */
export async function processBatch(
  event: SQSEvent,
  queue: WorkQueue,
  now: () => number,
  logger: Logger,
  handle: (body: unknown, record: SQSRecord) => Promise<RecordResult>,
): Promise<SQSBatchResponse> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    try {
      const body = JSON.parse(record.body) as Record<string, unknown>;
      const notBefore = typeof body.notBefore === 'number' ? body.notBefore : undefined;
      const result: RecordResult = notBefore !== undefined && notBefore > now() ? { retryAfterSeconds: Math.ceil((notBefore - now()) / 1000) } : await handle(body, record);
      if ('retryAfterSeconds' in result) {
        const delay = Math.max(1, Math.ceil(result.retryAfterSeconds));
        await queue.send({ ...body, notBefore: now() + delay * 1000 }, { delaySeconds: Math.min(MAX_DELAY_SECONDS, delay) });
      }
    } catch (error) {
      const retryIn = failedRetrySeconds(Number(record.attributes.ApproximateReceiveCount) || 1);
      logger.error('message failed; it will be retried, then go to the dead-letter queue', { messageId: record.messageId, errorName: (error as Error).name, errorMessage: (error as Error).message, retryInSeconds: retryIn });
      batchItemFailures.push({ itemIdentifier: record.messageId });
      // Sooner than the queue's visibility timeout (set for the longest invocation): 30 s, 2, 8, 32 min…
      await queue.retryAfter?.(record.receiptHandle, retryIn).catch((failure: unknown) => logger.warn('could not shorten the retry delay', { messageId: record.messageId, errorMessage: (failure as Error).message }));
    }
  }
  return { batchItemFailures };
}

/**
 * A Lambda that consumes `queue`: each record's body is parsed with `schema` at the edge (a bad
 * one fails as any error does: retried, then dead-lettered) and handed to `handle` with the
 * invocation's remaining time, so a consumer is only what it does with one message.
 */
export function sqsConsumer<Message>(
  queue: WorkQueue,
  schema: z.ZodType<Message>,
  deps: { readonly clock: Clock; readonly logger: Logger },
  handle: (message: Message, remainingMs: (() => number) | undefined) => Promise<RecordResult>,
) {
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processBatch(event, queue, () => deps.clock.now(), deps.logger, (body) => handle(schema.parse(body), remainingTimeOf(context))),
  );
}

/** The invocation's remaining time, as the core's retry and checkpoint logic asks for it. */
function remainingTimeOf(context: Context): (() => number) | undefined {
  return typeof context.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
}
