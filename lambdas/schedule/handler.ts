import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { readEnv } from '../core/env';
import { metrics, powertoolsCounter } from '../shared/metrics';
import { ringDeps, RingEnv } from '../shared/runtime';
import { makeScheduleHandler } from './app';

/** EventBridge schedules: polling fallback, recurring imports, token keeper. */
export const handler = makeScheduleHandler({ ...ringDeps(readEnv(RingEnv)), metrics: powertoolsCounter(metrics) }).use(logMetrics(metrics));
