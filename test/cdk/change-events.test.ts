import { Match, Template } from 'aws-cdk-lib/assertions';
import { CHANGE_EVENT_PUBLISHERS } from '../../lib/ring-portability';
import { parseSettings } from '../../lambdas/core/settings';
import { buildStack, resourcesOf, synthStack } from './support/stack';

const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:integrator-events';

describe('change events (EventBridge)', () => {
  const { stack, template } = synthStack({ resourcePrefix: 'acme', events: { targetQueueArn: QUEUE_ARN }, retention: { logRetentionDays: 30 } });
  const busId = stack.getLogicalId(stack.portability.changeEvents.bus.node.defaultChild as never);
  const dlqId = stack.getLogicalId(stack.portability.queryLifecycle.scheduleDeadLetters.node.defaultChild as never);
  const logGroupId = stack.getLogicalId(stack.portability.changeEvents.auditLog!.node.defaultChild as never);

  it('creates a bus of its own, named after the resource prefix', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'acme-events' });
  });

  it('has a rule on that bus for every ring-portability event, to the audit log group and the integrator queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: busId },
      EventPattern: { source: ['ring-portability'] },
      State: 'ENABLED',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [logGroupId, 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } }, RetryPolicy: { MaximumRetryAttempts: 2 } }),
        Match.objectLike({ Arn: QUEUE_ARN, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } } }),
      ],
    });
  });

  it('keeps the audit log as long as the functions’ logs, and lets only this account’s rules on this bus write to it', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const policies = Object.entries(resourcesOf(template, 'AWS::Logs::ResourcePolicy'));
    expect(policies).toHaveLength(1);
    const [policyId, policy] = policies[0];
    // A joined string (it holds the log group's ARN): its text says enough.
    const document = JSON.stringify(stack.resolve(policy.Properties.PolicyDocument));
    expect(document).toContain('events.amazonaws.com');
    expect(document).not.toContain('delivery.logs');
    expect(document).toContain(logGroupId);
    expect(document).not.toMatch(/"Resource\\?":\\?"\*/);
    expect(document).toContain('aws:SourceAccount');
    expect(document).toMatch(new RegExp(`aws:SourceArn.*:rule/",\\{"Ref":"${busId}"\\},"/\\*`));
    // The rule waits for the policy: EventBridge's first deliveries are not refused.
    const [rule] = Object.values(template.findResources('AWS::Events::Rule', { Properties: { EventBusName: { Ref: busId } } })) as { DependsOn?: string[] }[];
    expect(rule.DependsOn).toContain(policyId);
  });

  it('sends to an integrator FIFO queue in another account in one message group, and synthesizes without a concrete account', () => {
    const fifo = 'arn:aws:sqs:us-east-1:999999999999:integrator-events.fifo';
    const template = Template.fromStack(buildStack({ events: { targetQueueArn: fifo } }));
    template.hasResourceProperties('AWS::Events::Rule', { Targets: Match.arrayWith([Match.objectLike({ Arn: fifo, SqsParameters: { MessageGroupId: 'ring-portability' } })]) });
  });

  it('refuses an integrator queue with a bus given by ARN, naming the setting', () => {
    expect(() => parseSettings({ events: { busName: 'arn:aws:events:eu-west-1:999999999999:event-bus/integrator', targetQueueArn: QUEUE_ARN } })).toThrow(/events\.targetQueueArn: targetQueueArn needs a rule/);
  });

  it('outputs the bus and the rule, for the integrator’s own rules and queue policies', () => {
    template.hasOutput('EventBusArn', { Value: { 'Fn::GetAtt': [busId, 'Arn'] } });
    template.hasOutput('ChangeEventsRuleArn', {});
  });

  it('tells exactly the publishing functions where the bus is (EVENT_BUS)', () => {
    const functions = stack.portability as unknown as Record<string, Record<string, { node: { defaultChild: unknown } }>>;
    const withBus = Object.entries(resourcesOf(template, 'AWS::Lambda::Function'))
      .filter(([, fn]) => (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.EVENT_BUS !== undefined)
      .map(([id]) => id)
      .sort();
    const publishers = CHANGE_EVENT_PUBLISHERS.map((service) => {
      const owner = ['callback', 'connections'].includes(service) ? 'connectApi' : ['imports', 'schedule'].includes(service) ? 'queryLifecycle' : 'ingestion';
      return stack.getLogicalId(functions[owner][service].node.defaultChild as never);
    }).sort();
    expect(withBus).toEqual(publishers);
    for (const id of withBus) {
      expect((resourcesOf(template, 'AWS::Lambda::Function')[id].Properties.Environment as { Variables: Record<string, unknown> }).Variables.EVENT_BUS).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    }
  });

  it('uses the integrator’s bus when the settings name one, and creates none', () => {
    const template = Template.fromStack(buildStack({ events: { busName: 'integrator-bus' } }));
    template.resourceCountIs('AWS::Events::EventBus', 0);
    template.hasResourceProperties('AWS::Events::Rule', { EventBusName: 'integrator-bus', EventPattern: { source: ['ring-portability'] } });
  });

  it('makes no rule on a bus given by ARN, which may be another account’s (rules live in the bus’s account)', () => {
    const template = Template.fromStack(buildStack({ events: { busName: 'arn:aws:events:eu-west-1:999999999999:event-bus/integrator' } }));
    template.resourceCountIs('AWS::Events::EventBus', 0);
    template.resourceCountIs('AWS::Events::Rule', 3);
    expect(JSON.stringify(template.toJSON())).toContain('arn:aws:events:eu-west-1:999999999999:event-bus/integrator');
  });
});
