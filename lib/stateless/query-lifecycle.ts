import * as path from 'node:path';
import { Duration, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { metricsNamespace, NOTIFICATION_ITEM_PREFIXES } from '../../lambdas/core/definitions';
import { AMAZON_ROOTS_SOURCE } from '../../lambdas/core/notifications/trust/amazon-roots';
import type { Settings } from '../../lambdas/core/settings';
import type { Monitoring } from '../monitoring';
import type { StatefulResources } from '../stateful/stateful-resources';
import type { ConnectApi } from './connect-api';
import { PortabilityFunction, settingsVariable } from './portability-function';
import { DISPATCH_PERIOD_MS } from '../../lambdas/core/queries/admission';
import { grantRingCalls } from './ring-access';

export interface QueryLifecycleProps {
  readonly settings: Settings;
  readonly stateful: StatefulResources;
  readonly api: ConnectApi;
  readonly monitoring: Monitoring;
  readonly removalPolicy: RemovalPolicy;
}

/** How often recurring imports are looked for; each connection's own interval decides if it is due. */
/** The dispatcher hands out each minute's createDataQuery slots (EventBridge's shortest rate). */
export const DISPATCH_EVERY_MINUTES = DISPATCH_PERIOD_MS / 60_000;

/**
 * From import request to completed query: the imports consumer (createDataQuery), Ring's
 * notifications (POST /notifications/v1), and the schedules (polling fallback, recurring
 * imports, token keeper), with their metrics' alarms.
 */
export class QueryLifecycle extends Construct {
  readonly imports: PortabilityFunction;
  readonly notifications: PortabilityFunction;
  readonly schedule: PortabilityFunction;
  readonly rules: Record<'pollOverdue' | 'dispatchImports' | 'tokenKeeper', Rule>;
  readonly scheduleDeadLetters: Queue;

  constructor(scope: Construct, id: string, props: QueryLifecycleProps) {
    super(scope, id);
    const { settings, stateful, monitoring } = props;
    const { queues } = stateful.queues;
    const common = { logRetention: settings.retention.logRetentionDays as RetentionDays, removalPolicy: props.removalPolicy, environment: { SETTINGS: settingsVariable(settings) } };


    this.imports = grantRingCalls(
      new PortabilityFunction(this, 'Imports', {
        ...common,
        entry: 'lambdas/imports/handler.ts',
        serviceName: 'imports',
        description: 'Imports queue: createDataQuery for a connection',
        timeout: Duration.seconds(60),
      }),
      stateful,
      settings,
    ).consume(queues.imports, { batchSize: 5, maxConcurrency: 5 });

    this.schedule = grantRingCalls(
      new PortabilityFunction(this, 'Schedule', {
        ...common,
        entry: 'lambdas/schedule/handler.ts',
        serviceName: 'schedule',
        description: 'Schedules: polling fallback, recurring imports, token keeper',
        timeout: Duration.minutes(5),
      }),
      stateful,
      settings,
    )
      .bindQueue('COMPLETED_QUEUE_URL', queues.completedQueries.queue)
      // The reconciler writes the manifest of a query whose last load was not counted, and reads
      // manifests back to announce imports whose event was not put.
      .bindBucket('RAW_BUCKET', stateful.rawDataBucket, 'readWrite');

    this.notifications = new PortabilityFunction(this, 'Notifications', {
      ...common,
      entry: 'lambdas/notifications/handler.ts',
      serviceName: 'notifications',
      description: "POST /notifications/v1: Ring's SNS notifications (no secret access)",
      timeout: Duration.seconds(10),
      // The only function that verifies signing certificates, so the only one given trustAnchors.
      environment: { SETTINGS: settingsVariable(settings, { trustAnchors: true }) },
      // The trust anchors of SNS signing certificates, read at start beside the code.
      bundledFiles: { [AMAZON_ROOTS_SOURCE]: path.basename(AMAZON_ROOTS_SOURCE) },
    })
      // Public, so the narrowest grant of all: the query and subscription items, read and updated.
      .bindTable('CONTROL_TABLE', stateful.controlTable, 'readWrite', {
        partitionKeyPrefixes: [...NOTIFICATION_ITEM_PREFIXES],
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      })
      .bindQueue('COMPLETED_QUEUE_URL', queues.completedQueries.queue)
      .bindQueue('IMPORTS_QUEUE_URL', queues.imports.queue);
    props.api.serve('notifications', this.notifications);

    // A schedule EventBridge could not deliver (after its retries) is kept here, and pages someone.
    this.scheduleDeadLetters = new Queue(this, 'ScheduleDeadLetters', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: stateful.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(settings.pipeline.queueRetentionDays),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.scheduleDeadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the schedule rules’ targets (EventBridge), which cdk-nag does not recognize as one.',
    });
    // EventBridge writes to the encrypted queue, so it needs to use the key.
    stateful.key.grant(new ServicePrincipal('events.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    monitoring.alarmOnDeadLetters('schedule-dead-letters', this.scheduleDeadLetters, 'schedule (EventBridge)');

    const rule = (id: string, minutes: number, task: string) => {
      const created = new Rule(this, id, { schedule: Schedule.rate(Duration.minutes(minutes)), description: `ring-portability ${task}` });
      created.addTarget(new LambdaFunction(this.schedule, { event: RuleTargetInput.fromObject({ task }), retryAttempts: 2, deadLetterQueue: this.scheduleDeadLetters }));
      return created;
    };
    this.rules = {
      pollOverdue: rule('PollOverdue', settings.schedules.overduePollMinutes, 'poll-overdue'),
      dispatchImports: rule('DispatchImports', DISPATCH_EVERY_MINUTES, 'dispatch-imports'),
      tokenKeeper: rule('TokenKeeper', settings.schedules.tokenKeeperIntervalMinutes, 'token-keeper'),
    };

    const metric = (name: string, service: string) =>
      new Metric({ namespace: metricsNamespace(settings.resourcePrefix), metricName: name, dimensionsMap: { service }, statistic: 'Sum', period: Duration.minutes(5) });
    const oldestImport = new Metric({
      namespace: metricsNamespace(settings.resourcePrefix),
      metricName: 'OldestImportAgeHours',
      dimensionsMap: { service: 'schedule' },
      statistic: 'Maximum',
      period: Duration.minutes(15),
    });
    monitoring.alarm('OldestImportAge', oldestImport, {
      threshold: settings.schedules.maxImportAgeHours,
      description: `A connection's last successful import is older than ${settings.schedules.maxImportAgeHours} hours (schedules.maxImportAgeHours): more connections are due than Ring's createDataQuery limits allow (README: Capacity), or imports keep failing.`,
    });
    monitoring.alarm('RejectedNotifications', metric('NotificationsRejected', 'notifications'), {
      threshold: 10,
      description: 'More than 10 notifications rejected in 5 minutes: forged or misconfigured deliveries (check allowedTopicArns, signingCertHosts and trustAnchors).',
    });
  }
}
