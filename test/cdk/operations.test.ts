import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { pipelineQueues, type PipelineQueueName } from '../../lambdas/core/definitions';
import { QUERY_FAILING_SERVICES } from '../../lib/ring-portability';
import { resourcesOf, synthStack } from './support/stack';

const nameOf = (id: string): PipelineQueueName => (Object.keys(pipelineQueues) as PipelineQueueName[]).find((name) => pipelineQueues[name].id === id)!;

const { stack, template } = synthStack({ alarms: { email: 'ops@example.com' } });
const alarmTopicId = stack.getLogicalId(stack.portability.monitoring.alarmTopic.node.defaultChild as never);
const SERVICES = ['connect', 'callback', 'connections', 'imports', 'notifications', 'schedule', 'collect', 'fetch', 'load'];

/** The dashboard body is a CloudFormation join of text and references: flattened to search it. */
function dashboardBody(): string {
  const [dashboard] = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'));
  return JSON.stringify(dashboard.Properties.DashboardBody).replace(/\\"/g, '"');
}

describe('operations', () => {
  it('has one dashboard with queries, notifications, files, bytes and records, queue depths, and errors and throttles per function', () => {
    expect(Object.keys(resourcesOf(template, 'AWS::CloudWatch::Dashboard'))).toHaveLength(1);
    const body = dashboardBody();
    for (const title of ['Queries by outcome', 'Notifications', 'Files per hour', 'Records and bytes per hour', 'Dead-letter queues (messages)', 'Function errors', 'Function throttles']) expect(body).toContain(`"title":"${title}"`);
    for (const name of ['QueriesRequested', 'QueriesCompleted', 'QueriesImported', 'QueriesCanceled', 'QueriesFailed', 'NotificationsVerified', 'NotificationsRejected', 'FilesFetched', 'BytesFetched', 'RecordsLoaded', 'RecordsRejected']) {
      expect(body).toContain(`"${name}"`);
    }
    expect(body.match(/"ApproximateNumberOfMessagesVisible"/g)?.length).toBeGreaterThanOrEqual(8);
    for (const service of SERVICES) {
      expect(body).toContain(`"label":"${service}"`);
    }
    expect(body.match(/"Errors"/g)?.length).toBe(SERVICES.length);
    expect(body.match(/"Throttles"/g)?.length).toBe(SERVICES.length);
  });

  it('sends every alarm to the alarm topic, which the integrator subscribes to', () => {
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThanOrEqual(4 + 2 + SERVICES.length);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: alarmTopicId }]);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: alarmTopicId } });
  });

  it('alarms when a function fails (crashes, timeouts), per function', () => {
    for (const service of SERVICES) {
      const matching = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).filter(
        (alarm) => alarm.Properties.MetricName === 'Errors' && String(alarm.Properties.AlarmDescription).startsWith(`The ${service} function failed`),
      );
      expect(matching).toHaveLength(1);
    }
  });
});

describe('stuck work', () => {
  const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'));
  const queueIdOf = (alarm: (typeof alarms)[number]) => (alarm.Properties.Dimensions as { Value: { 'Fn::GetAtt': [string, string] } }[] | undefined)?.[0]?.Value?.['Fn::GetAtt']?.[0];

  it.each(Object.values(pipelineQueues).map((definition) => [definition.id, definition] as const))(
    'alarms when the %s queue’s oldest message is older than its stage should take',
    (_id, definition) => {
      const queueId = stack.getLogicalId(stack.portability.stateful.queues.queues[nameOf(definition.id)].queue.node.defaultChild as never);
      const matching = alarms.filter((alarm) => alarm.Properties.MetricName === 'ApproximateAgeOfOldestMessage' && queueIdOf(alarm) === queueId);
      expect(matching).toHaveLength(1);
      expect(matching[0].Properties).toMatchObject({ Threshold: definition.stuckAfterSeconds, Statistic: 'Maximum', ComparisonOperator: 'GreaterThanThreshold' });
      expect(definition.stuckAfterSeconds).toBeLessThanOrEqual(60 * 60);
    },
  );

  it('alarms when any function is throttled', () => {
    for (const service of SERVICES) {
      const matching = alarms.filter((alarm) => alarm.Properties.MetricName === 'Throttles' && String(alarm.Properties.AlarmDescription).startsWith(`The ${service} function was throttled`));
      expect(matching).toHaveLength(1);
      expect(matching[0].Properties.Threshold).toBe(0);
    }
  });

  it('counts a failed query as one metric wherever it fails: schedule, collect and fetch', () => {
    const [failed] = alarms.filter((alarm) => JSON.stringify(alarm.Properties.Metrics ?? []).includes('QueriesFailed'));
    const metrics = failed.Properties.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: string }[] } } }[];
    // Each series filled with 0: a failure in one stage alone must breach it.
    expect(metrics.find((metric) => metric.Expression)?.Expression).toBe('FILL(schedule, 0) + FILL(collect, 0) + FILL(fetch, 0)');
    expect(metrics.flatMap((metric) => (metric.MetricStat ? [metric.MetricStat.Metric.Dimensions[0].Value] : [])).sort()).toEqual([...QUERY_FAILING_SERVICES].sort());
  });

  it('gives every EventBridge rule target a dead-letter queue, and alarms on it', () => {
    const dlqId = stack.getLogicalId(stack.portability.queryLifecycle.scheduleDeadLetters.node.defaultChild as never);
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule'));
    expect(rules.length).toBeGreaterThanOrEqual(3);
    for (const rule of rules) {
      for (const target of rule.Properties.Targets as { DeadLetterConfig?: { Arn: unknown } }[]) expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } });
    }
    expect(alarms.filter((alarm) => alarm.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' && queueIdOf(alarm) === dlqId)).toHaveLength(1);
  });

  it('warns at synth when no one is subscribed to the alarms, and not when someone is', () => {
    const warningsOf = (checked: ReturnType<typeof synthStack>) =>
      Annotations.fromStack(checked.stack).findWarning('*', Match.stringLikeRegexp('No one is subscribed to the alarm topic'));
    expect(warningsOf(synthStack())).toHaveLength(1);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('No one is subscribed'))).toHaveLength(0);
  });
});

describe('failed messages', () => {
  it('may be made visible again sooner by each SQS consumer (sqs:ChangeMessageVisibility on its own queue)', () => {
    const policies = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).map((policy) => JSON.stringify(policy.Properties.PolicyDocument));
    const { queues } = stack.portability.stateful.queues;
    for (const { queue } of Object.values(queues)) {
      const queueId = stack.getLogicalId(queue.node.defaultChild as never);
      expect(policies.some((policy) => policy.includes('sqs:ChangeMessageVisibility') && policy.includes(`"${queueId}"`))).toBe(true);
    }
  });
});
