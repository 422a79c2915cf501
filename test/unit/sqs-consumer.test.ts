import type { Context, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { sqsConsumer, type RecordResult } from '../../lambdas/shared/sqs';

const Message = z.object({ queryId: z.string().min(1), n: z.number().int() });
const NOW = 1_700_000_000_000;
const context = { getRemainingTimeInMillis: () => 42_000 } as unknown as Context;

function event(...bodies: string[]): SQSEvent {
  return { Records: bodies.map((body, i) => ({ messageId: `m${i}`, receiptHandle: `r${i}`, body, attributes: { ApproximateReceiveCount: '1' } })) } as unknown as SQSEvent;
}

/** A consumer of `Message` over a queue and logger that remember what they were asked. */
function consumer(handle: (message: z.infer<typeof Message>, remainingMs: (() => number) | undefined) => Promise<RecordResult>) {
  const sent: { body: object; delaySeconds?: number }[] = [];
  const retried: [string, number][] = [];
  const errors: Record<string, unknown>[] = [];
  const queue = {
    send: (body: object, options?: { delaySeconds?: number }) => Promise.resolve(void sent.push({ body, delaySeconds: options?.delaySeconds })),
    retryAfter: (handle: string, seconds: number) => Promise.resolve(void retried.push([handle, seconds])),
  };
  const quiet = () => undefined;
  const logger = { debug: quiet, info: quiet, warn: quiet, error: (_message: string, extra: Record<string, unknown> = {}) => void errors.push(extra) };
  const handler = sqsConsumer(queue, Message, { clock: { now: () => NOW, sleep: () => Promise.resolve() }, logger }, handle);
  return { handler, sent, retried, errors };
}

describe('an SQS consumer', () => {
  it('hands the handler the parsed message and the invocation’s remaining time', async () => {
    const seen: unknown[] = [];
    const { handler, sent } = consumer((message, remainingMs) => Promise.resolve({ done: (seen.push(message, remainingMs?.()), true) }));
    const result = await handler(event('{"queryId":"q1","n":2}'), context);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([{ queryId: 'q1', n: 2 }, 42_000]);
    expect(sent).toEqual([]);
  });

  it('refuses a bad body before the handler runs, with an error naming the field, and retries it', async () => {
    const handled: unknown[] = [];
    const { handler, retried, errors } = consumer((message) => Promise.resolve({ done: (handled.push(message), true) }));
    const result = await handler(event('{"queryId":"q1","n":"two"}', '{"queryId":"q2","n":3}'), context);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    expect(handled).toEqual([{ queryId: 'q2', n: 3 }]);
    expect(retried).toEqual([['r0', 30]]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ messageId: 'm0', errorName: 'ZodError' });
    expect(JSON.parse(errors[0].errorMessage as string)).toEqual([expect.objectContaining({ path: ['n'], code: 'invalid_type' })]);
  });

  it('sends a message that must wait back with its delay and the time it may run again', async () => {
    const { handler, sent, retried } = consumer(() => Promise.resolve({ retryAfterSeconds: 120 }));
    const result = await handler(event('{"queryId":"q1","n":2}'), context);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sent).toEqual([{ body: { queryId: 'q1', n: 2, notBefore: NOW + 120_000 }, delaySeconds: 120 }]);
    expect(retried).toEqual([]);
  });
});
