import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricUnit as Unit } from '@aws-lambda-powertools/metrics/types';

/** What handlers count or measure (unit per METRIC_UNITS); CloudWatch metrics (EMF) in Lambda, nothing in tests unless given. */
export interface Counter {
  count(name: MetricName, value?: number, dimensions?: Record<string, string>): void;
}

/** Every metric the product emits, in namespace RingPortability with the function's service name. */
export type MetricName =
  | 'QueriesRequested'
  | 'QueriesCompleted'
  | 'QueriesCanceled'
  | 'QueriesFailed'
  | 'ChangeEventsNotPut'
  | 'QueriesImported'
  | 'NotificationsVerified'
  | 'NotificationsRejected'
  | 'NotificationsRejectedByReason'
  | 'NotificationsUnknownQuery'
  | 'SubscriptionsConfirmed'
  | 'SubscriptionsPending'
  | 'FilesListed'
  | 'FilesFetched'
  | 'BytesFetched'
  | 'FilesLoaded'
  | 'FilesMalformed'
  | 'FilesWithoutUsableSchema'
  | 'BytesLoaded'
  | 'RecordsLoaded'
  | 'RecordsNew'
  | 'RecordsUnchanged'
  | 'RecordsRejected'
  | 'DuplicateRecords'
  | 'CollectDuration'
  | 'FetchDuration'
  | 'LoadDuration'
  | 'ImportBacklog'
  | 'ImportsDispatched'
  | 'OldestImportAgeHours';

/** Metrics that are not counts; every other metric is a Count. */
export const METRIC_UNITS: Partial<Record<MetricName, Unit>> = {
  BytesFetched: MetricUnit.Bytes,
  BytesLoaded: MetricUnit.Bytes,
  CollectDuration: MetricUnit.Milliseconds,
  FetchDuration: MetricUnit.Milliseconds,
  LoadDuration: MetricUnit.Milliseconds,
  OldestImportAgeHours: MetricUnit.NoUnit,
};

export const noMetrics: Counter = { count: () => undefined };

export function powertoolsCounter(metrics: Metrics): Counter {
  return {
    count: (name, value = 1, dimensions) => {
      const unit = METRIC_UNITS[name] ?? MetricUnit.Count;
      if (!dimensions) {
        metrics.addMetric(name, unit, value);
        return;
      }
      // Extra dimensions go on a metric of their own, so the plain one keeps its alarm's dimensions.
      const single = metrics.singleMetric();
      for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
      single.addMetric(name, unit, value);
    },
  };
}

export const metrics = new Metrics();

/**
 * A query failing is one metric wherever it happens (schedule, collect, fetch): this counts
 * QueriesFailed each time `fail` marks one failed, for the one alarm over all of them.
 */
export function countingQueryFailures<Store extends { fail(queryId: string, reason: string, now: number): Promise<void> }>(store: Store, counter: Counter): Store {
  const fail = store.fail.bind(store);
  return Object.assign(Object.create(store) as Store, {
    fail: async (queryId: string, reason: string, now: number) => {
      await fail(queryId, reason, now);
      counter.count('QueriesFailed');
    },
  });
}
