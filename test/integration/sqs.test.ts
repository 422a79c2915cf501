import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
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
});
