import { Duration } from 'aws-cdk-lib';
import type { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface MonitoringProps {
  readonly key: IKey;
  /** Subscribed to the alarm topic when set. */
  readonly email?: string;
}

/** The alarm topic and the alarms that publish to it. */
export class Monitoring extends Construct {
  readonly alarmTopic: Topic;
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'ring-portability alarms',
      masterKey: props.key,
      enforceSSL: true,
    });
    // CloudWatch publishes to the encrypted topic, so it needs to use the key.
    props.key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    if (props.email) this.alarmTopic.addSubscription(new EmailSubscription(props.email));
    this.action = new SnsAction(this.alarmTopic);
  }

  /** Alarms when a metric's value goes over `threshold`, to the alarm topic. */
  alarm(id: string, metric: Metric, options: { threshold: number; description: string }): Alarm {
    const alarm = metric.createAlarm(this, id, {
      alarmDescription: options.description,
      threshold: options.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    return alarm;
  }

  /** Alarms as soon as one message sits in a dead-letter queue: that is work we failed to do. */
  alarmOnDeadLetters(id: string, deadLetterQueue: IQueue, what: string): Alarm {
    const alarm = deadLetterQueue
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' })
      .createAlarm(this, id, {
        alarmDescription: `Messages in the ${what} dead-letter queue: work that failed repeatedly; inspect them and redrive once the cause is fixed.`,
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    alarm.addAlarmAction(this.action);
    return alarm;
  }
}
