import { Stack, type RemovalPolicy } from 'aws-cdk-lib';
import { EventBus, Rule, type IEventBus, type IRuleTarget } from 'aws-cdk-lib/aws-events';
import { addToDeadLetterQueueResourcePolicy } from 'aws-cdk-lib/aws-events-targets';
import { PolicyDocument, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnResourcePolicy, LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE, eventBusName } from '../lambdas/core/events/model';
import type { Settings } from '../lambdas/core/settings';
import type { PortabilityFunction } from './stateless/portability-function';

export interface ChangeEventsProps {
  readonly settings: Settings;
  readonly removalPolicy: RemovalPolicy;
  /** Where an event its targets did not take ends up (the stack's EventBridge dead-letter queue, alarmed on). */
  readonly deadLetterQueue: IQueue;
}

/**
 * Where the integrator's backend hears that data landed or a connection changed: an EventBridge
 * bus (the stack's own, `<resourcePrefix>-events`, or the integrator's, `events.busName`), and
 * on it a rule for every event of source `ring-portability` whose targets are an audit log
 * group (the functions' log retention) and, when set, the integrator's SQS queue
 * (`events.targetQueueArn`), each retried twice, then kept in the schedule rules' dead-letter
 * queue (alarmed on). A bus given by ARN (which may be another account's) gets no rule:
 * rules live in the bus's account, so the integrator makes them there.
 */
export class ChangeEvents extends Construct {
  readonly bus: IEventBus;
  readonly rule?: Rule;
  readonly auditLog?: LogGroup;

  constructor(scope: Construct, id: string, props: ChangeEventsProps) {
    super(scope, id);
    const { settings } = props;
    const named = settings.events.busName;
    this.bus = named === undefined ? new EventBus(this, 'Bus', { eventBusName: eventBusName(settings), description: 'ring-portability change events: Import Completed, Connection Status Changed' })
      : named.startsWith('arn:') ? EventBus.fromEventBusArn(this, 'Bus', named)
      : EventBus.fromEventBusName(this, 'Bus', named);
    // A bus named by ARN may be another account's, where this stack can make no rule.
    if (named?.startsWith('arn:')) return;

    this.auditLog = new LogGroup(this, 'AuditLog', { retention: settings.retention.logRetentionDays as RetentionDays, removalPolicy: props.removalPolicy });
    this.rule = new Rule(this, 'AllChanges', {
      eventBus: this.bus,
      description: 'Every ring-portability change event: to the audit log (and the integrator queue, when set)',
      eventPattern: { source: [EVENT_SOURCE] },
    });
    const delivery = { retryAttempts: 2, deadLetterQueue: props.deadLetterQueue };
    this.rule.addTarget(logGroupTarget(this, this.rule, this.bus, this.auditLog, delivery));
    if (settings.events.targetQueueArn) this.rule.addTarget(integratorQueueTarget(settings.events.targetQueueArn, delivery));
  }

  /** Lets `fn` put events on the bus (that bus only) and tells it where: EVENT_BUS. */
  bindPublisher(fn: PortabilityFunction): void {
    fn.bindEventBus('EVENT_BUS', this.bus);
  }
}

/**
 * A log group as a rule's target. CDK's own target writes the log group's resource policy with
 * a custom resource (a Lambda with a managed policy and a grant on "*"); the policy is a plain
 * CloudFormation resource: rules on this bus, in this account, may write to this group's
 * streams, nothing else. The rule waits for the policy, so its first events are not refused.
 */
function logGroupTarget(scope: Construct, rule: Rule, bus: IEventBus, logGroup: LogGroup, delivery: Delivery): IRuleTarget {
  const stack = Stack.of(scope);
  const policy = new CfnResourcePolicy(scope, 'AuditLogPolicy', {
    policyName: `${stack.stackName}-${scope.node.addr.slice(0, 8)}-change-events`,
    policyDocument: stack.toJsonString(
      new PolicyDocument({
        statements: [
          new PolicyStatement({
            principals: [new ServicePrincipal('events.amazonaws.com')],
            actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            resources: [logGroup.logGroupArn],
            // Rules on this bus (the rule's own ARN would make the policy wait for the rule, and the rule for it).
            conditions: { ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: `${bus.eventBusName}/*` }) }, StringEquals: { 'aws:SourceAccount': stack.account } },
          }),
        ],
      }).toJSON(),
    ),
  });
  rule.node.addDependency(policy);
  return {
    bind: (bound) => {
      addToDeadLetterQueueResourcePolicy(bound, delivery.deadLetterQueue);
      return { arn: logGroup.logGroupArn, deadLetterConfig: { arn: delivery.deadLetterQueue.queueArn }, retryPolicy: { maximumRetryAttempts: delivery.retryAttempts } };
    },
  };
}

interface Delivery {
  readonly retryAttempts: number;
  readonly deadLetterQueue: IQueue;
}

/**
 * The integrator's queue as a target, by ARN alone. CDK's SqsQueue target would edit the
 * queue's policy, which needs the queue in this stack's account and a concrete account at
 * synth; the queue is the integrator's, and so is its policy (README: Change events). A FIFO
 * queue needs a message group: every event goes to one, in order.
 */
function integratorQueueTarget(queueArn: string, delivery: Delivery): IRuleTarget {
  return {
    bind: (bound) => {
      addToDeadLetterQueueResourcePolicy(bound, delivery.deadLetterQueue);
      return {
        arn: queueArn,
        deadLetterConfig: { arn: delivery.deadLetterQueue.queueArn },
        retryPolicy: { maximumRetryAttempts: delivery.retryAttempts },
        ...(queueArn.endsWith('.fifo') ? { sqsParameters: { messageGroupId: EVENT_SOURCE } } : {}),
      };
    },
  };
}
