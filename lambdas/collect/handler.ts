import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { readEnv } from '../core/env';
import { countingQueryFailures, metrics, powertoolsCounter } from '../shared/metrics';
import { DynamoDbCollectStore } from '../adapters/ingest-store';
import { ingestDeps, IngestEnv } from '../shared/runtime';
import { makeCollectHandler } from './app';

/** Consumer of the completed-queries queue: list every page into file tasks. */
const env = readEnv(IngestEnv);
const deps = ingestDeps(env);
const counter = powertoolsCounter(metrics);
export const handler = makeCollectHandler({
  ...deps,
  store: countingQueryFailures(new DynamoDbCollectStore(deps.aws.documents, env.CONTROL_TABLE), counter),
  completedQueue: deps.completed,
  metrics: counter,
}).use(logMetrics(metrics));
