import middy from '@middy/core';
import { z } from 'zod';
import type { ChangeAnnouncer } from '../core/events/announce';
import { reconcileLoadingQueries, type CompletionDeps, type CompletionStore, type ManifestWriter } from '../core/ingest/complete';
import { dispatchImports, type DispatchDeps } from '../core/queries/admission';
import { keepTokensAlive, pollOverdueQueries, type ScheduleDeps } from '../core/queries/schedule';
import { noMetrics, type Counter } from '../shared/metrics';

/** What each EventBridge rule sends as the event. */
export const ScheduledTask = z.object({ task: z.enum(['poll-overdue', 'dispatch-imports', 'token-keeper']) });

// (adapter) --> pollOverdueQueries | dispatchImports | keepTokensAlive --> domain
/** Queries LOADING longer than this are recounted from their file tasks. */
export const RECONCILE_AFTER_MS = 60 * 60_000;

export type ScheduleHandlerDeps = ScheduleDeps &
  Pick<DispatchDeps, 'schedule'> & {
    /** The imports queue itself: the dispatcher's messages. */
    readonly importsQueue: DispatchDeps['imports'];
    readonly metrics?: Counter;
    readonly completion?: { store: CompletionStore; manifests: ManifestWriter; onDone?: CompletionDeps['onDone'] };
    /** Puts the change events a crash or a refused PutEvents left unannounced (with the hourly poll). */
    readonly announcer?: Pick<ChangeAnnouncer, 'reconcile'>;
  };

export function makeScheduleHandler(deps: ScheduleHandlerDeps) {
  const metrics = deps.metrics ?? noMetrics;
  return middy(async (event: unknown) => {
    const { task } = ScheduledTask.parse(event);
    let result: Record<string, unknown>;
    if (task === 'poll-overdue') {
      result = {
        ...(await pollOverdueQueries(deps)),
        ...(deps.completion ? { reconciled: (await reconcileLoadingQueries({ ...deps.completion, connections: deps.connections, clock: deps.clock, logger: deps.logger }, RECONCILE_AFTER_MS)).completed } : {}),
        ...(deps.announcer ? { reannounced: await deps.announcer.reconcile() } : {}),
      };
    } else if (task === 'dispatch-imports') {
      const dispatched = await dispatchImports({ ...deps, imports: deps.importsQueue });
      const backlog = Object.values(dispatched.backlog).reduce((sum, n) => sum + n, 0);
      metrics.count('ImportBacklog', backlog);
      metrics.count('OldestImportAgeHours', Math.round(dispatched.oldestImportAgeHours * 100) / 100);
      if (dispatched.dispatched > 0) metrics.count('ImportsDispatched', dispatched.dispatched);
      result = { ...dispatched };
    } else result = await keepTokensAlive(deps);
    if (typeof result.failed === 'number' && result.failed > 0) metrics.count('QueriesFailed', result.failed);
    const reannounced = result.reannounced as { failed: number } | undefined;
    if (reannounced && reannounced.failed > 0) metrics.count('ChangeEventsNotPut', reannounced.failed);
    if (typeof result.completed === 'number' && result.completed > 0) metrics.count('QueriesCompleted', result.completed);
    deps.logger.info('scheduled task done', { task, ...result });
    return { task, ...result };
  });
}
