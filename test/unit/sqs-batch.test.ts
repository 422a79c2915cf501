import type { SQSEvent } from 'aws-lambda';
import { failedRetrySeconds, processBatch } from '../../lambdas/shared/sqs';

const quiet = () => undefined;
const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };

function event(receiveCount: number): SQSEvent {
  return {
    Records: [
      { messageId: 'ok', receiptHandle: 'r-ok', body: '{"n":1}', attributes: { ApproximateReceiveCount: String(receiveCount) } },
      { messageId: 'bad', receiptHandle: 'r-bad', body: '{"n":2}', attributes: { ApproximateReceiveCount: String(receiveCount) } },
    ],
  } as unknown as SQSEvent;
}

describe('SQS batches', () => {
  it('report only the failed message, and bring it back sooner than the visibility timeout, later each time', async () => {
    for (const [receives, seconds] of [[1, 30], [2, 120], [3, 480], [4, 1_920], [5, 3_600]]) {
      const retries: [string, number][] = [];
      const queue = { send: () => Promise.resolve(), retryAfter: (handle: string, after: number) => Promise.resolve(void retries.push([handle, after])) };
      const result = await processBatch(event(receives), queue, () => 0, logger, (body) => ((body as { n: number }).n === 2 ? Promise.reject(new Error('boom')) : Promise.resolve({ done: true })));
      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
      expect(retries).toEqual([['r-bad', seconds]]);
      expect(failedRetrySeconds(receives)).toBe(seconds);
    }
  });

  it('still reports the failure when the retry delay cannot be shortened', async () => {
    const queue = { send: () => Promise.resolve(), retryAfter: () => Promise.reject(new Error('AccessDenied')) };
    const result = await processBatch(event(1), queue, () => 0, logger, () => Promise.reject(new Error('boom')));
    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['ok', 'bad']);
  });
});
