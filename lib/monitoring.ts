import { Annotations, Duration } from 'aws-cdk-lib';
import type { IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
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
    else {
      Annotations.of(this).addWarningV2(
        'ring-portability:no-alarm-subscriber',
        'No one is subscribed to the alarm topic: set ringPortability.alarms.email (or subscribe to the AlarmTopicArn output) or stuck work, dead letters and failures page no one.',
      );
    }
    this.action = new SnsAction(this.alarmTopic);
  }

  /** Alarms when a metric's value goes over `threshold`, to the alarm topic. */
  alarm(id: string, metric: IMetric, options: { threshold: number; description: string }): Alarm {
    const alarm = new Alarm(this, id, {
      metric,
      alarmDescription: options.description,
      threshold: options.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    return alarm;
  }

  /** Alarms when a work queue's oldest message is older than `seconds`: its work is stuck. */
  alarmOnStuckQueue(id: string, queue: IQueue, what: string, seconds: number): Alarm {
    const alarm = queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }).createAlarm(this, id, {
      alarmDescription: `The oldest message of the ${what} queue is older than ${seconds / 60} minutes: its work is stuck (consumer failing or throttled, a rate limit that does not lift). Look at the consumer's logs and throttles.`,
      threshold: seconds,
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
