import { randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';

/** An SQS event as the Lambda event source mapping delivers it. */
export function sqsEvent(bodies: { body: unknown; messageId?: string }[]): SQSEvent {
  return {
    Records: bodies.map(({ body, messageId }) => ({
      messageId: messageId ?? randomUUID(),
      receiptHandle: randomUUID(),
      body: JSON.stringify(body),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'test', ApproximateFirstReceiveTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:imports',
      awsRegion: 'eu-west-1',
    })),
  };
}
