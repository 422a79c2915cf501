import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** What handlers count; CloudWatch metrics (EMF) in Lambda, nothing in tests unless given. */
export interface Counter {
  count(name: MetricName, value?: number, dimensions?: Record<string, string>): void;
}

/** Every metric the product emits, in namespace RingPortability with the function's service name. */
export type MetricName =
  | 'QueriesRequested'
  | 'QueriesCompleted'
  | 'QueriesCanceled'
  | 'QueriesFailed'
  | 'NotificationsVerified'
  | 'NotificationsRejected'
  | 'NotificationsRejectedByReason'
  | 'NotificationsUnknownQuery'
  | 'SubscriptionsConfirmed'
  | 'SubscriptionsPending';

export const noMetrics: Counter = { count: () => undefined };

export function powertoolsCounter(metrics: Metrics): Counter {
  return {
    count: (name, value = 1, dimensions) => {
      if (!dimensions) {
        metrics.addMetric(name, MetricUnit.Count, value);
        return;
      }
      // Extra dimensions go on a metric of their own, so the plain one keeps its alarm's dimensions.
      const single = metrics.singleMetric();
      for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
      single.addMetric(name, MetricUnit.Count, value);
    },
  };
}

export const metrics = new Metrics();
