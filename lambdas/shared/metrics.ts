import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** What handlers count; CloudWatch metrics (EMF) in Lambda, nothing in tests unless given. */
export interface Counter {
  count(name: MetricName, value?: number): void;
}

/** Every metric the product emits, in namespace RingPortability with the function's service name. */
export type MetricName =
  | 'QueriesRequested'
  | 'QueriesCompleted'
  | 'QueriesCanceled'
  | 'QueriesFailed'
  | 'NotificationsVerified'
  | 'NotificationsRejected'
  | 'NotificationsUnknownQuery'
  | 'SubscriptionsConfirmed'
  | 'SubscriptionsPending';

export const noMetrics: Counter = { count: () => undefined };

export function powertoolsCounter(metrics: Metrics): Counter {
  return { count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value) };
}

export const metrics = new Metrics();
