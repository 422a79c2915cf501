import { randomUUID } from 'node:crypto';
import { ChangeMessageVisibilityCommand, CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { SqsPoller } from '../../local/sqs-poller';
import { eventually, localAws } from './support/local-aws';

const aws = localAws();
const { sqs } = aws.clients;
afterAll(() => aws.clients.destroy());

/**
 * A queue of this test's own, dead-letter after 2 receives. Its 60 s visibility is far longer
 * than any receive-to-delete on a busy machine: a handled message never comes back by accident.
 */
async function queuePair() {
  const name = `poller-${randomUUID().slice(0, 8)}`;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }));
  const queue = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '60', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: 2 }) } }),
  );
  return { url: queue.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

describe('local SQS poller (what Lambda’s event source mapping does)', () => {
  it('deletes what the handler did, keeps what it reported failed, and the queue’s redrive sends that to the DLQ', async () => {
    const { url, dlqUrl } = await queuePair();
    const seen: string[] = [];
    let receives = 0;
    const poller = new SqsPoller(
      sqs,
      async (event: SQSEvent) => {
        seen.push(...event.Records.map((record) => record.body));
        receives = Math.max(receives, ...event.Records.map((record) => Number(record.attributes.ApproximateReceiveCount)));
        const failed = event.Records.filter((record) => record.body === 'bad');
        // As the product's consumers do with a failed message: back now, not after the queue's 60 s.
        for (const record of failed) await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 }));
        return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
      },
      { name: 'test', queueUrl: url, queueArn: 'arn:aws:sqs:eu-west-1:000000000000:test', region: 'eu-west-1', batchSize: 10, concurrency: 1, timeoutSeconds: 30 },
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'good' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'bad' }));
    poller.start();
    try {
      const dead = await eventually(async () => {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1 }));
        return Messages.length > 0 ? Messages : undefined;
      }, 'the failed message in the DLQ', 20_000);
      expect(dead.map((message) => message.Body)).toEqual(['bad']);
    } finally {
      await poller.stop();
    }
    expect(seen.filter((body) => body === 'good')).toEqual(['good']);
    expect(seen.filter((body) => body === 'bad').length).toBe(2);
    expect(receives).toBe(2);
  });
});
