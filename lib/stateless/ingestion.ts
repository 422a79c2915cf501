import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { INGESTION_MAX_INVOCATION_SECONDS, INGESTION_NODE_OPTIONS } from '../../lambdas/core/definitions';
import type { Settings } from '../../lambdas/core/settings';
import type { StatefulResources } from '../stateful/stateful-resources';
import { PortabilityFunction, settingsVariable } from './portability-function';
import { grantRingCalls } from './ring-access';

export interface IngestionProps {
  readonly settings: Settings;
  readonly stateful: StatefulResources;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Load is one thread bound by per-record CPU (README: Performance), and Lambda gives one full
 * vCPU at 1,769 MB: below that it gets a fraction of a core (0.58 at 1,024 MB), which costs the
 * same per record (GB-seconds) but takes 1.7 times as long; above it, a second vCPU that one
 * thread cannot use (worker threads were measured and do not pay). Its memory stays about
 * 150 MiB whatever the file.
 */
export const LOAD_MEMORY_MB = 1769;

/**
 * collect (completed queries → file tasks), fetch (file → S3, while its URL lives) and load
 * (S3 → records, resumable): one consumer per pipeline queue.
 */
export class Ingestion extends Construct {
  readonly collect: PortabilityFunction;
  readonly fetch: PortabilityFunction;
  readonly load: PortabilityFunction;

  constructor(scope: Construct, id: string, props: IngestionProps) {
    super(scope, id);
    const { settings, stateful } = props;
    const { queues } = stateful.queues;
    const common = { logRetention: settings.retention.logRetentionDays as RetentionDays, removalPolicy: props.removalPolicy };

    this.collect = grantRingCalls(
      new PortabilityFunction(this, 'Collect', {
        ...common,
        entry: 'lambdas/collect/handler.ts',
        serviceName: 'collect',
        description: 'Completed queries: list every page into file tasks',
        timeout: Duration.seconds(INGESTION_MAX_INVOCATION_SECONDS),
        environment: { SETTINGS: settingsVariable(settings) },
      }),
      stateful,
      settings,
    )
      .bindQueue('COMPLETED_QUEUE_URL', queues.completedQueries.queue)
      .bindQueue('FILES_QUEUE_URL', queues.files.queue)
      .consume(queues.completedQueries, { batchSize: 1, maxConcurrency: 5 });

    this.fetch = grantRingCalls(
      new PortabilityFunction(this, 'Fetch', {
        ...common,
        entry: 'lambdas/fetch/handler.ts',
        serviceName: 'fetch',
        description: 'File tasks: stream one listed file into S3',
        timeout: Duration.seconds(INGESTION_MAX_INVOCATION_SECONDS),
        memorySize: 1024,
        environment: { SETTINGS: settingsVariable(settings), NODE_OPTIONS: INGESTION_NODE_OPTIONS },
      }),
      stateful,
      settings,
    )
      .bindBucket('RAW_BUCKET', stateful.rawDataBucket, 'write')
      .bindQueue('FILES_QUEUE_URL', queues.files.queue)
      .bindQueue('LOADS_QUEUE_URL', queues.loads.queue)
      .consume(queues.files, { batchSize: 1, maxConcurrency: 10 });

    this.load = new PortabilityFunction(this, 'Load', {
      ...common,
      entry: 'lambdas/load/handler.ts',
      serviceName: 'load',
      description: 'Load tasks: parse a raw S3 object into records',
      timeout: Duration.seconds(INGESTION_MAX_INVOCATION_SECONDS),
      memorySize: LOAD_MEMORY_MB,
      environment: { NODE_OPTIONS: INGESTION_NODE_OPTIONS },
    })
      .bindTable('CONTROL_TABLE', stateful.controlTable, 'readWrite')
      .bindTable('RECORDS_TABLE', stateful.recordsTable, 'readWrite')
      .bindBucket('RAW_BUCKET', stateful.rawDataBucket, 'readWrite')
      .bindQueue('LOADS_QUEUE_URL', queues.loads.queue)
      .consume(queues.loads, { batchSize: 1, maxConcurrency: 10 });
  }
}
