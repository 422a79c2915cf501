import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { readEnv } from '../core/env';
import { metrics, powertoolsCounter } from '../shared/metrics';
import { ringDeps, RingEnv } from '../shared/runtime';
import { makeImportsHandler } from './app';

/** Consumer of the imports queue. */
const deps = ringDeps(readEnv(RingEnv));
export const handler = makeImportsHandler({ ...deps, queries: deps.queryRecords,  metrics: powertoolsCounter(metrics) }).use(logMetrics(metrics));
