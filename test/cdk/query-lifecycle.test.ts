import { Match } from 'aws-cdk-lib/assertions';
import { INGESTION_NODE_OPTIONS } from '../../lambdas/core/definitions';
import { PUBLIC_ROUTE_THROTTLE } from '../../lib/stateless/connect-api';
import { LOAD_MEMORY_MB } from '../../lib/stateless/ingestion';
import { resourcesOf, synthStack } from './support/stack';

const { stack, template } = synthStack({ schedules: { overduePollMinutes: 5, tokenKeeperIntervalMinutes: 720 } });
const lifecycle = stack.portability.queryLifecycle;
const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

function policyText(fn: { role?: unknown }): string {
  const roleId = logicalId(fn.role as never);
  return JSON.stringify(
    Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
      .map((policy) => policy.Properties.PolicyDocument),
  );
}

describe('query lifecycle', () => {
  it('exposes POST /notifications/v1 without an authorizer, throttled like the other public route', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /notifications/v1', AuthorizationType: 'NONE' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: {
        'POST /notifications/v1': { ThrottlingRateLimit: PUBLIC_ROUTE_THROTTLE.rateLimit, ThrottlingBurstLimit: PUBLIC_ROUTE_THROTTLE.burstLimit },
        'GET /oauth/callback': Match.anyValue(),
      },
    });
  });

  it('never lets the notification function read a secret', () => {
    const text = policyText(lifecycle.notifications);
    expect(text).not.toContain('secretsmanager');
    expect(text).toContain('sqs:SendMessage');
  });

  it.each([
    ['pollOverdue', 'rate(5 minutes)', 'poll-overdue'],
    ['dispatchImports', 'rate(1 minute)', 'dispatch-imports'],
    ['tokenKeeper', 'rate(12 hours)', 'token-keeper'],
  ] as const)('schedules %s (%s) to the schedule function with task %s', (rule, expression, task) => {
    expect(resourcesOf(template, 'AWS::Events::Rule')[logicalId(lifecycle.rules[rule])].Properties).toMatchObject({
      ScheduleExpression: expression,
      State: 'ENABLED',
      Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [logicalId(lifecycle.schedule), 'Arn'] }, Input: JSON.stringify({ task }) })],
    });
  });

  it('has every queue consumer report partial batch failures, with visibility at least 6 × its timeout', () => {
    const functions = resourcesOf(template, 'AWS::Lambda::Function');
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings.length).toBeGreaterThan(0);
    for (const { Properties } of mappings) {
      expect(Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      const fn = functions[(Properties.FunctionName as { Ref: string }).Ref].Properties;
      const queue = queues[(Properties.EventSourceArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]].Properties;
      expect(queue.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * (fn.Timeout as number));
    }
  });

  it('alarms on rejected-notification spikes and failed queries', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'RingPortability/ring-portability', MetricName: 'NotificationsRejected', Dimensions: [{ Name: 'service', Value: 'notifications' }], Threshold: 10 });
    // QueriesFailed is one alarm over every function that fails queries (test/cdk/operations.test.ts).
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(schedule, 0) + FILL(collect, 0) + FILL(fetch, 0)' })]), Threshold: 0 });
  });

  it('lets the Ring-calling functions rotate connection tokens, and only under the connections prefix', () => {
    for (const fn of [lifecycle.imports, lifecycle.schedule]) {
      const text = policyText(fn);
      expect(text).toContain('secretsmanager:PutSecretValue');
      expect(text).toContain('secret:ring-portability/connections/*');
      expect(text).not.toContain('secretsmanager:DeleteSecret');
    }
  });
});

describe('completed-queries queue access', () => {
  it('is sent to by the notification and schedule functions only, not by the imports consumer', () => {
    const completed = logicalId(stack.portability.stateful.queues.queues.completedQueries.queue);
    expect(policyText(lifecycle.imports)).not.toContain(completed);
    expect(policyText(lifecycle.schedule)).toContain(completed);
    expect(policyText(lifecycle.notifications)).toContain(completed);
  });
});

describe('ingestion functions', () => {
  const { ingestion, stateful } = stack.portability;

  it('consume the completed-queries, files and loads queues', () => {
    for (const [fn, queue] of [
      [ingestion.collect, stateful.queues.queues.completedQueries.queue],
      [ingestion.fetch, stateful.queues.queues.files.queue],
      [ingestion.load, stateful.queues.queues.loads.queue],
    ] as const) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(fn) },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(queue), 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
  });

  it('keep to their own resources: load reads no secret, fetch never touches the records table', () => {
    expect(policyText(ingestion.load)).not.toContain('secretsmanager');
    expect(policyText(ingestion.fetch)).not.toContain(logicalId(stateful.recordsTable));
    expect(policyText(ingestion.collect)).not.toContain(logicalId(stateful.rawDataBucket));
  });

  it('run fetch and load with the V8 flags `npm run bench` measures them with (a 256 MiB old space)', () => {
    const nodeOptions = (fn: { node: { defaultChild?: unknown } }) =>
      (resourcesOf(template, 'AWS::Lambda::Function')[logicalId(fn)].Properties.Environment as { Variables: Record<string, unknown> }).Variables.NODE_OPTIONS;
    expect(INGESTION_NODE_OPTIONS).toContain('--max-old-space-size=256');
    expect(nodeOptions(ingestion.fetch)).toBe(INGESTION_NODE_OPTIONS);
    expect(nodeOptions(ingestion.load)).toBe(INGESTION_NODE_OPTIONS);
    expect(nodeOptions(ingestion.collect)).toBe('--enable-source-maps');
  });

  it('give load one full vCPU (1,769 MB): it is one thread bound by per-record CPU', () => {
    expect(resourcesOf(template, 'AWS::Lambda::Function')[logicalId(ingestion.load)].Properties.MemorySize).toBe(LOAD_MEMORY_MB);
    expect(LOAD_MEMORY_MB).toBe(1769);
  });
});
