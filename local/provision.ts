import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type AttributeDefinition, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { CreateEventBusCommand } from '@aws-sdk/client-eventbridge';
import { CreateSecretCommand, DescribeSecretCommand, ResourceExistsException } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  clientCredentialsPlaceholder,
  deadLetterQueueId,
  pipelineQueues,
  rawDataBucket,
  secretNames,
  tables,
  type PipelineQueueName,
  type QueueDefinition,
  type TableDefinition,
} from '../lambdas/core/definitions';
import { eventBusName } from '../lambdas/core/events/model';
import type { Brand, Settings } from '../lambdas/core/settings';
import type { AwsClients } from './clients';

export interface LocalQueue {
  readonly url: string;
  readonly arn: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
}

/** Names and URLs of the provisioned resources: what the CDK stack's outputs are on AWS. */
export interface LocalResources {
  readonly controlTable: string;
  readonly recordsTable: string;
  readonly rawDataBucket: string;
  readonly queues: Record<PipelineQueueName, LocalQueue>;
  readonly clientSecrets: Partial<Record<Brand, string>>;
  /** The change events' bus (EVENT_BUS). */
  readonly eventBus: string;
}

export const LOCAL_BUCKET = 'ring-portability-raw-data';

/**
 * Creates the tables, bucket, queues, client-credential secrets and the change events' bus from the same definitions
 * (lambdas/core/definitions.ts) and settings the CDK construct uses: the bucket is versioned,
 * as on AWS. What the emulators lack (TTL, lifecycle, encryption, point-in-time recovery) is
 * enforced or tested on the CDK side instead.
 *
 * Idempotent: on emulators that kept their state (a data directory from an earlier run) it
 * finds what exists and reuses it as it is, with its items, objects, messages and secret
 * values, as a redeploy of the stack keeps its stateful resources.
 */
export async function provisionResources(clients: AwsClients, settings: Settings): Promise<LocalResources> {
  const [controlTable, recordsTable] = await Promise.all(tables.map((table) => createTable(clients, table)));
  await clients.s3.send(new CreateBucketCommand({ Bucket: LOCAL_BUCKET }));
  if (rawDataBucket.versioned) {
    await clients.s3.send(new PutBucketVersioningCommand({ Bucket: LOCAL_BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  }

  const entries = await Promise.all(
    (Object.keys(pipelineQueues) as PipelineQueueName[]).map(
      async (name) => [name, await createQueue(clients, pipelineQueues[name], settings.pipeline)] as const,
    ),
  );

  const clientSecrets: Partial<Record<Brand, string>> = {};
  for (const brand of settings.brands) {
    const name = secretNames.clientCredentials(settings.resourcePrefix, brand);
    try {
      const created = await clients.secretsManager.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(clientCredentialsPlaceholder) }));
      clientSecrets[brand] = created.ARN!;
    } catch (error) {
      // Kept from an earlier run, with whatever value the product has put in it since.
      if (!(error instanceof ResourceExistsException)) throw error;
      clientSecrets[brand] = (await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: name }))).ARN!;
    }
  }

  const eventBus = eventBusName(settings);
  await clients.eventBridge.send(new CreateEventBusCommand({ Name: eventBus.slice(eventBus.lastIndexOf('/') + 1) }));

  return {
    eventBus,
    controlTable,
    recordsTable,
    rawDataBucket: LOCAL_BUCKET,
    queues: Object.fromEntries(entries) as Record<PipelineQueueName, LocalQueue>,
    clientSecrets,
  };
}

/** Creates a table from its shared definition; `name` defaults to the definition's id. */
export async function createTable(clients: AwsClients, table: TableDefinition, name = table.id): Promise<string> {
  const attributes = new Map<string, AttributeDefinition>();
  const keySchema = (partition: { name: string }, sort?: { name: string }): KeySchemaElement[] => [
    { AttributeName: partition.name, KeyType: 'HASH' },
    ...(sort ? [{ AttributeName: sort.name, KeyType: 'RANGE' as const }] : []),
  ];
  for (const key of [table.partitionKey, table.sortKey, ...table.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey])]) {
    if (key) attributes.set(key.name, { AttributeName: key.name, AttributeType: key.type });
  }
  await ignoring(ResourceInUseException, clients.dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attributes.values()],
      KeySchema: keySchema(table.partitionKey, table.sortKey),
      GlobalSecondaryIndexes:
        table.globalSecondaryIndexes.length === 0
          ? undefined
          : table.globalSecondaryIndexes.map((index) => ({
              IndexName: index.indexName,
              KeySchema: keySchema(index.partitionKey, index.sortKey),
              Projection: { ProjectionType: 'ALL' },
            })),
    }),
  ));
  // A table takes writes once ACTIVE; dynalite turns it ACTIVE on a timer, which a busy machine may not have run yet.
  const deadline = Date.now() + 30_000;
  while ((await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`table ${name} did not become ACTIVE within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return name;
}

/** A pipeline queue and its dead-letter queue, as the CDK construct makes them. */
export async function createQueue(clients: AwsClients, queue: QueueDefinition, pipeline: Settings['pipeline']): Promise<LocalQueue> {
  const retention = String(pipeline.queueRetentionDays * 86_400);
  const deadLetter = await clients.sqs.send(
    new CreateQueueCommand({ QueueName: deadLetterQueueId(queue), Attributes: { MessageRetentionPeriod: retention } }),
  );
  const deadLetterArn = await queueArn(clients, deadLetter.QueueUrl!);
  const created = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: queue.id,
      Attributes: {
        MessageRetentionPeriod: retention,
        VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: pipeline.maxReceiveCount }),
      },
    }),
  );
  return {
    url: created.QueueUrl!,
    arn: await queueArn(clients, created.QueueUrl!),
    deadLetterUrl: deadLetter.QueueUrl!,
    deadLetterArn,
  };
}

async function queueArn(clients: AwsClients, url: string): Promise<string> {
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return Attributes!.QueueArn!;
}

/** Awaits `request`, treating an error of `type` (the resource exists already) as done. */
async function ignoring(type: abstract new (...args: never[]) => Error, request: Promise<unknown>): Promise<void> {
  try {
    await request;
  } catch (error) {
    if (!(error instanceof type)) throw error;
  }
}
