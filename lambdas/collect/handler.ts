import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { readEnv } from '../core/env';
import { metrics, powertoolsCounter } from '../shared/metrics';
import { DynamoDbCollectStore } from '../adapters/ingest-store';
import { ingestDeps, IngestEnv } from '../shared/runtime';
import { makeCollectHandler } from './app';

/** Consumer of the completed-queries queue: list every page into file tasks. */
const env = readEnv(IngestEnv);
const deps = ingestDeps(env);
export const handler = makeCollectHandler({ ...deps, store: new DynamoDbCollectStore(deps.aws.documents, env.CONTROL_TABLE), completedQueue: deps.completed, metrics: powertoolsCounter(metrics) }).use(logMetrics(metrics));
