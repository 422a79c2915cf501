import { MAX_RETRY_AFTER_CRASH_SECONDS } from '../../lambdas/core/definitions';
import { resourcesOf, synthStack } from './support/stack';

const { template } = synthStack();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** The logical id a `{"Fn::GetAtt": [id, …]}` or `{"Ref": id}` points at. */
const target = (value: unknown): string => {
  const reference = value as { 'Fn::GetAtt'?: [string, string]; Ref?: string };
  return reference['Fn::GetAtt']?.[0] ?? reference.Ref!;
};

/** Every SQS consumer: its queue's visibility timeout and its function's timeout, in seconds. */
const consumers = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping')).map((mapping) => {
  const queue = resources[target(mapping.Properties.EventSourceArn)];
  const fn = resources[target(mapping.Properties.FunctionName)];
  return {
    queue: target(mapping.Properties.EventSourceArn),
    visibilityTimeout: Number(queue.Properties.VisibilityTimeout),
    functionTimeout: Number(fn.Properties.Timeout),
  };
});

describe('a crashed or timed-out consumer', () => {
  it('consumes every work queue', () => {
    expect(consumers).toHaveLength(4);
  });

  it.each(consumers.map((consumer) => [consumer.queue, consumer] as const))('%s: its message is handed out again within 10 minutes', (_queue, consumer) => {
    expect(consumer.visibilityTimeout).toBeLessThanOrEqual(MAX_RETRY_AFTER_CRASH_SECONDS);
    expect(MAX_RETRY_AFTER_CRASH_SECONDS).toBe(600);
  });

  it.each(consumers.map((consumer) => [consumer.queue, consumer] as const))('%s: still 6 × its function timeout, as AWS advises', (_queue, consumer) => {
    expect(consumer.visibilityTimeout).toBeGreaterThanOrEqual(6 * consumer.functionTimeout);
  });
});
