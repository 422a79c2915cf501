import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { readEnv } from '../core/env';
import { metrics, powertoolsCounter } from '../shared/metrics';
import { z } from 'zod';
import { DynamoDbCompletionStore } from '../adapters/ingest-store';
import { S3RawReader } from '../adapters/raw-files';
import { changeAnnouncer, clients, ringDeps, RingEnv } from '../shared/runtime';
import { makeScheduleHandler } from './app';

/** EventBridge schedules: polling fallback, recurring imports, token keeper. */
const env = readEnv(RingEnv.extend({ RAW_BUCKET: z.string().min(1), EVENT_BUS: z.string().min(1) }));
const aws = clients();
const announcer = changeAnnouncer(aws, env)!;
export const handler = makeScheduleHandler({
  ...ringDeps(env),
  metrics: powertoolsCounter(metrics),
  completion: {
    store: new DynamoDbCompletionStore(aws.documents, env.CONTROL_TABLE),
    manifests: new S3RawReader(aws.s3, env.RAW_BUCKET),
    onDone: (completed) => announcer.importCompleted(completed),
  },
  announcer,
}).use(logMetrics(metrics));
