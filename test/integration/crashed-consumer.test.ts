import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { MAX_RETRY_AFTER_CRASH_SECONDS, pipelineQueues, type PipelineQueueName } from '../../lambdas/core/definitions';
import { parseSettings } from '../../lambdas/core/settings';
import { localAwsClients, type AwsClients } from '../../local/clients';
import { startFauxqs, type RunningFauxqs } from '../../local/emulators/fauxqs';
import { LOCAL_REGION } from '../../local/local-aws';
import { createQueue } from '../../local/provision';
import { LOCAL_CONSUMERS } from '../../local/runtime';
import { SqsPoller } from '../../local/sqs-poller';
import { eventually } from '../support/eventually';

/**
 * A consumer that dies (a crash, a timeout, a killed container) never deletes its message nor
 * says it failed: the message comes back when the queue's visibility timeout ends. That must
 * be within 10 minutes for every stage, or a file task comes back after Ring's 1-hour listing
 * window. fauxqs runs on a clock this test moves, so "10 minutes later" takes no 10 minutes.
 */
let fauxqs: RunningFauxqs;
let clients: AwsClients;
beforeAll(async () => {
  fauxqs = await startFauxqs({ region: LOCAL_REGION, clockControl: true });
  const unused = 'http://127.0.0.1:9';
  clients = localAwsClients({ dynamodb: unused, s3: fauxqs.endpoint, sqs: fauxqs.endpoint, secretsManager: unused, eventBridge: unused }, LOCAL_REGION);
});
afterAll(async () => {
  clients?.destroy();
  await fauxqs?.stop();
});

describe('a killed consumer', () => {
  it.each(Object.keys(pipelineQueues) as PipelineQueueName[])('of the %s queue has its message handed out again within 10 minutes', async (name) => {
    const queue = await createQueue(clients, pipelineQueues[name], parseSettings({}).pipeline);
    const consumer = LOCAL_CONSUMERS[name];
    const receives: number[] = [];
    const poller = new SqsPoller(
      clients.sqs,
      (event: SQSEvent) => {
        for (const record of event.Records) receives.push(Number(record.attributes.ApproximateReceiveCount));
        // The first invocation dies as a killed Lambda does: no delete, no failure reported.
        if (receives.length === 1) return Promise.reject(new Error('killed'));
        return Promise.resolve({ batchItemFailures: [] });
      },
      { name, queueUrl: queue.url, queueArn: queue.arn, region: LOCAL_REGION, batchSize: consumer.batchSize, concurrency: 1, timeoutSeconds: consumer.timeoutSeconds, onError: () => undefined },
    );
    poller.start();
    try {
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify({ task: name }) }));
      await eventually(() => receives.length === 1 || undefined, 'the first consumer to receive the message');

      await fauxqs.advanceClock(MAX_RETRY_AFTER_CRASH_SECONDS * 1000);
      await eventually(() => receives.length === 2 || undefined, `the message back within ${MAX_RETRY_AFTER_CRASH_SECONDS} s of the crash`);
      expect(receives).toEqual([1, 2]);
    } finally {
      await poller.stop();
    }
  });
});
