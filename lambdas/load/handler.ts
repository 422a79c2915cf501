import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { z } from 'zod';
import { readEnv } from '../core/env';
import { metrics, powertoolsCounter } from '../shared/metrics';
import { systemClock } from '../core/ports';
import { DynamoDbConnectionRepository } from '../adapters/connection-stores';
import { DynamoDbCompletionStore, DynamoDbLoadStore } from '../adapters/ingest-store';
import { completeIfLastFile, type CompletedImport } from '../core/ingest/complete';
import { DynamoDbRecordWriter, S3RawReader } from '../adapters/raw-files';
import { SqsWorkQueue } from '../adapters/aws-admin';
import { changeAnnouncer, clients, logger } from '../shared/runtime';
import { makeLoadHandler } from './app';

const LoadEnv = z.object({
  CONTROL_TABLE: z.string().min(1),
  RECORDS_TABLE: z.string().min(1),
  RAW_BUCKET: z.string().min(1),
  LOADS_QUEUE_URL: z.url(),
  /** The bus `Import Completed` goes to. */
  EVENT_BUS: z.string().min(1),
});

/** Consumer of the loads queue: raw object → records. Calls nothing at Ring. */
const env = readEnv(LoadEnv);
const aws = clients();
const raw = new S3RawReader(aws.s3, env.RAW_BUCKET);
const counter = powertoolsCounter(metrics);
const connections = new DynamoDbConnectionRepository(aws.documents, env.CONTROL_TABLE);
const announcer = changeAnnouncer(aws, env)!;
const completion = {
  store: new DynamoDbCompletionStore(aws.documents, env.CONTROL_TABLE),
  manifests: raw,
  connections,
  clock: systemClock,
  logger,
  onDone: (completed: CompletedImport) => announcer.importCompleted(completed),
};
export const handler = makeLoadHandler({
  store: new DynamoDbLoadStore(aws.documents, env.CONTROL_TABLE),
  connections,
  writer: new DynamoDbRecordWriter(aws.documents, env.RECORDS_TABLE),
  raw,
  onFileLoaded: async (query) => {
    if (await completeIfLastFile(completion, query)) counter.count('QueriesImported');
  },
  loadsQueue: new SqsWorkQueue(aws.sqs, env.LOADS_QUEUE_URL),
  clock: systemClock,
  logger,
  metrics: counter,
}).use(logMetrics(metrics));
