import { randomUUID } from 'node:crypto';
import { ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { pipelineQueues, type PipelineQueueName } from '../../lambdas/core/definitions';
import { parseSettings } from '../../lambdas/core/settings';
import { eventually, localAws } from './support/local-aws';

const aws = localAws();
const { sqs } = aws.clients;
const defaults = parseSettings({});
afterAll(() => aws.clients.destroy());

describe('local SQS (fauxqs)', () => {
  it.each(Object.keys(pipelineQueues) as PipelineQueueName[])(
    'creates the %s queue with the definition’s visibility timeout and a redrive policy to its DLQ',
    async (name) => {
      const queue = aws.resources.queues[name];
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['All'] }));
      expect(Number(Attributes?.VisibilityTimeout)).toBe(pipelineQueues[name].visibilityTimeoutSeconds);
      expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
        deadLetterTargetArn: queue.deadLetterArn,
        maxReceiveCount: defaults.pipeline.maxReceiveCount,
      });
    },
  );

  it('moves a message that is received but never deleted to the dead-letter queue after maxReceiveCount receives', async () => {
    const queue = aws.resources.queues.imports;
    const marker = randomUUID();
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify({ marker }) }));

    // Each receive without a delete is a failed attempt; a zero visibility timeout makes the
    // message visible again at once instead of after the queue's six minutes.
    let receives = 0;
    await eventually(async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
      );
      receives += Messages.filter((message) => message.Body?.includes(marker)).length;
      return receives >= defaults.pipeline.maxReceiveCount ? true : undefined;
    }, 'the message to be received maxReceiveCount times');

    const dead = await eventually(async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
      );
      expect(Messages.some((message) => message.Body?.includes(marker))).toBe(false);
      const fromDlq = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.deadLetterUrl, MaxNumberOfMessages: 10, AttributeNames: ['All'] }),
      );
      return fromDlq.Messages?.find((message) => message.Body?.includes(marker));
    }, 'the message in the dead-letter queue');

    expect(JSON.parse(dead.Body!)).toEqual({ marker });
  });

  it('refuses the delays and visibility timeouts SQS refuses, which the product caps its own at', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `limits-${randomUUID()}` }));
    try {
      const send = (DelaySeconds: number) => sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{}', DelaySeconds }));
      await send(0);
      await send(900);
      for (const delay of [901, -1]) {
        await expect(send(delay)).rejects.toMatchObject({ message: `Value ${delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.` });
      }
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
      const [received] = Messages;
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: received.ReceiptHandle, VisibilityTimeout: 43_200 }));
      await expect(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: received.ReceiptHandle, VisibilityTimeout: 43_201 }))).rejects.toThrow('Must be between 0 and 43200');
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    }
  });
});
