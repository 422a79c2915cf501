import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { readEnv } from '../core/env';
import { metrics, powertoolsCounter } from '../shared/metrics';
import { notificationDeps, NotificationsEnv } from '../shared/runtime';
import { makeNotificationsHandler } from './app';

/** POST /notifications/v1 (public): Ring's SNS deliveries. Reads no secret. */
export const handler = makeNotificationsHandler({ ...notificationDeps(readEnv(NotificationsEnv)), metrics: powertoolsCounter(metrics) }).use(logMetrics(metrics));
