import { Stack, type RemovalPolicy } from 'aws-cdk-lib';
import { EventBus, Rule, type IEventBus, type IRuleTarget } from 'aws-cdk-lib/aws-events';
import { addToDeadLetterQueueResourcePolicy, SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { PolicyDocument, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnResourcePolicy, LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, type IQueue } from 'aws-cdk-lib/aws-sqs';
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
    this.rule.addTarget(logGroupTarget(this, this.auditLog, delivery));
    if (settings.events.targetQueueArn) this.rule.addTarget(new SqsQueue(Queue.fromQueueArn(this, 'IntegratorQueue', settings.events.targetQueueArn), delivery));
  }

  /** Lets `fn` put events on the bus (that bus only) and tells it where: EVENT_BUS. */
  bindPublisher(fn: PortabilityFunction): void {
    fn.bindEventBus('EVENT_BUS', this.bus);
  }
}

/**
 * A log group as a rule's target. CDK's own target writes the log group's resource policy with
 * a custom resource (a Lambda with a managed policy and a grant on "*"); the policy is a plain
 * CloudFormation resource: EventBridge may write to this group's streams, nothing else.
 */
function logGroupTarget(scope: Construct, logGroup: LogGroup, delivery: { retryAttempts: number; deadLetterQueue: IQueue }): IRuleTarget {
  new CfnResourcePolicy(scope, 'AuditLogPolicy', {
    policyName: `${Stack.of(scope).stackName}-${scope.node.addr.slice(0, 8)}-change-events`,
    policyDocument: Stack.of(scope).toJsonString(
      new PolicyDocument({
        statements: [
          new PolicyStatement({
            principals: [new ServicePrincipal('events.amazonaws.com'), new ServicePrincipal('delivery.logs.amazonaws.com')],
            actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            resources: [`${logGroup.logGroupArn}`],
          }),
        ],
      }).toJSON(),
    ),
  });
  return {
    bind: (rule) => {
      addToDeadLetterQueueResourcePolicy(rule, delivery.deadLetterQueue);
      return { arn: logGroup.logGroupArn, deadLetterConfig: { arn: delivery.deadLetterQueue.queueArn }, retryPolicy: { maximumRetryAttempts: delivery.retryAttempts } };
    },
  };
}
