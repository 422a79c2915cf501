import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  deadLetterQueueId,
  pipelineQueues,
  type PipelineQueueName,
  type QueueDefinition,
} from '../../lambdas/core/definitions';
import type { Settings } from '../../lambdas/core/settings';

export interface PipelineQueue {
  readonly definition: QueueDefinition;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
}

export interface PipelineQueuesProps {
  readonly key: IKey;
  readonly pipeline: Settings['pipeline'];
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The queues between the pipeline's stages, each with a dead-letter queue. Messages are
 * encrypted with the stack's key and only accepted over TLS. Work over a rate limit waits
 * here, so retention is the longest SQS allows unless configured shorter.
 */
export class PipelineQueues extends Construct {
  readonly queues: Record<PipelineQueueName, PipelineQueue>;

  constructor(scope: Construct, id: string, props: PipelineQueuesProps) {
    super(scope, id);
    const retentionPeriod = Duration.days(props.pipeline.queueRetentionDays);
    const common = {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod,
      removalPolicy: props.removalPolicy,
    };

    const build = (definition: QueueDefinition): PipelineQueue => {
      const deadLetterQueue = new Queue(this, deadLetterQueueId(definition), common);
      const queue = new Queue(this, definition.id, {
        ...common,
        visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: props.pipeline.maxReceiveCount },
      });
      return { definition, queue, deadLetterQueue };
    };

    this.queues = {
      imports: build(pipelineQueues.imports),
      completedQueries: build(pipelineQueues.completedQueries),
      files: build(pipelineQueues.files),
      loads: build(pipelineQueues.loads),
    };
  }

  get all(): PipelineQueue[] {
    return Object.values(this.queues);
  }
}
