import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, Metric, TextWidget, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { PipelineQueue } from './stateful/pipeline-queues';

export interface OperationsDashboardProps {
  /** Each function by its service name (the `service` dimension of its metrics). */
  readonly functions: Record<string, IFunction>;
  readonly queues: readonly PipelineQueue[];
  /** The product's metrics namespace (metricsNamespace of the resourcePrefix). */
  readonly namespace: string;
}


/**
 * One CloudWatch dashboard for operating the system: queries by outcome, notifications
 * accepted and rejected, files, bytes and records per hour, stage durations, dead-letter and
 * work-queue depths, and errors and throttles per function.
 */
export class OperationsDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const metric = (name: string, service: string, options: { period?: Duration; statistic?: string; label?: string } = {}): IMetric =>
      new Metric({ namespace: props.namespace, metricName: name, dimensionsMap: { service }, statistic: options.statistic ?? 'Sum', period: options.period ?? Duration.minutes(5), label: options.label ?? name });
    const hourly = { period: Duration.hours(1) };
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) => new GraphWidget({ title, left, right, width: 12, height: 6 });

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.days(1) });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# ring-portability\nQueries flow imports → Ring → notification (or polling) → collect → fetch → load. Messages in a dead-letter queue raise an alarm: fix the cause, then redrive them from the SQS console.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('Queries by outcome', [
        metric('QueriesRequested', 'imports', { label: 'requested' }),
        metric('QueriesCompleted', 'notifications', { label: 'completed (notified)' }),
        metric('QueriesCompleted', 'schedule', { label: 'completed (polled)' }),
        metric('QueriesImported', 'load', { label: 'imported (DONE)' }),
        metric('QueriesCanceled', 'notifications', { label: 'canceled' }),
        metric('QueriesFailed', 'schedule', { label: 'failed' }),
      ]),
      graph('Notifications', [
        metric('NotificationsVerified', 'notifications', { label: 'accepted' }),
        metric('NotificationsRejected', 'notifications', { label: 'rejected' }),
        metric('NotificationsUnknownQuery', 'notifications', { label: 'unknown query' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Files per hour', [
        metric('FilesListed', 'collect', { ...hourly, label: 'listed' }),
        metric('FilesFetched', 'fetch', { ...hourly, label: 'fetched' }),
        metric('FilesLoaded', 'load', { ...hourly, label: 'loaded' }),
        metric('FilesMalformed', 'load', { ...hourly, label: 'malformed (kept raw)' }),
        metric('FilesWithoutUsableSchema', 'load', { ...hourly, label: 'schema file not usable' }),
      ]),
      graph(
        'Records and bytes per hour',
        [metric('RecordsLoaded', 'load', { ...hourly, label: 'records loaded' }), metric('RecordsNew', 'load', { ...hourly, label: 'new (written)' }), metric('RecordsUnchanged', 'load', { ...hourly, label: 'unchanged (not written)' }), metric('RecordsRejected', 'load', { ...hourly, label: 'records rejected' }), metric('DuplicateRecords', 'load', { ...hourly, label: 'repeats in a file' })],
        [metric('BytesFetched', 'fetch', { ...hourly, label: 'bytes fetched' }), metric('BytesLoaded', 'load', { ...hourly, label: 'bytes loaded' })],
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Dead-letter queues (messages)',
        props.queues.map(({ definition, deadLetterQueue }) => deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5), label: `${definition.id} DLQ` })),
      ),
      graph(
        'Work queues: waiting and oldest (s)',
        props.queues.map(({ definition, queue }) => queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5), label: definition.id })),
        props.queues.map(({ definition, queue }) => queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(5), label: `${definition.id} oldest` })),
      ),
    );
    const services = Object.entries(props.functions);
    this.dashboard.addWidgets(
      graph('Function errors', services.map(([service, fn]) => fn.metricErrors({ period: Duration.minutes(5), label: service }))),
      graph('Function throttles', services.map(([service, fn]) => fn.metricThrottles({ period: Duration.minutes(5), label: service }))),
    );
    this.dashboard.addWidgets(
      graph('Stage duration per message (p90, ms)', [
        metric('CollectDuration', 'collect', { statistic: 'p90', label: 'collect' }),
        metric('FetchDuration', 'fetch', { statistic: 'p90', label: 'fetch' }),
        metric('LoadDuration', 'load', { statistic: 'p90', label: 'load' }),
      ]),
      graph('Function duration (p90, ms)', services.map(([service, fn]) => fn.metricDuration({ statistic: 'p90', period: Duration.minutes(5), label: service }))),
    );
  }
}
