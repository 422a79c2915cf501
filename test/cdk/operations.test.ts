import { resourcesOf, synthStack } from './support/stack';

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
