import middy from '@middy/core';
import { z } from 'zod';
import { reconcileLoadingQueries, type CompletionStore, type ManifestWriter } from '../core/ingest/complete';
import { keepTokensAlive, pollOverdueQueries, scheduleRecurringImports, type ScheduleDeps } from '../core/queries/schedule';
import { noMetrics, type Counter } from '../shared/metrics';

/** What each EventBridge rule sends as the event. */
export const ScheduledTask = z.object({ task: z.enum(['poll-overdue', 'recurring-imports', 'token-keeper']) });

// (adapter) --> pollOverdueQueries | scheduleRecurringImports | keepTokensAlive --> domain
/** Queries LOADING longer than this are recounted from their file tasks. */
export const RECONCILE_AFTER_MS = 60 * 60_000;

export function makeScheduleHandler(deps: ScheduleDeps & { readonly metrics?: Counter; readonly completion?: { store: CompletionStore; manifests: ManifestWriter } }) {
  const metrics = deps.metrics ?? noMetrics;
  return middy(async (event: unknown) => {
    const { task } = ScheduledTask.parse(event);
    const result =
      task === 'poll-overdue'
        ? {
            ...(await pollOverdueQueries(deps)),
            ...(deps.completion ? { reconciled: (await reconcileLoadingQueries({ ...deps.completion, connections: deps.connections, clock: deps.clock, logger: deps.logger }, RECONCILE_AFTER_MS)).completed } : {}),
          }
        : task === 'recurring-imports'
          ? await scheduleRecurringImports(deps)
          : await keepTokensAlive(deps);
    if ('failed' in result && result.failed > 0) metrics.count('QueriesFailed', result.failed);
    if ('completed' in result && result.completed > 0) metrics.count('QueriesCompleted', result.completed);
    deps.logger.info('scheduled task done', { task, ...result });
    return { task, ...result };
  });
}
