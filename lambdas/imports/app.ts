import { z } from 'zod';
import { CustomerId, IMPORTABLE_STATUSES } from '../core/connections/model';
import type { WorkQueue } from '../core/ports';
import { claimDispatch, settleDispatch } from '../core/queries/admission';
import { requestDataQuery, type ImportDeps } from '../core/queries/import';
import type { ImportScheduleStore } from '../core/queries/import-schedule';
import type { Settings } from '../core/settings';
import { noMetrics, type Counter } from '../shared/metrics';
import { sqsConsumer } from '../shared/sqs';

const ImportMessage = z.object({
  customerId: CustomerId,
  reason: z.enum(['connected', 'requested', 'scheduled', 'recheck']),
  requestedAt: z.string(),
  attempt: z.number().int().min(1).max(10).optional(),
  /** The dispatch this message belongs to (the import schedule); a superseded one is dropped. */
  ticket: z.string().min(1).max(64).optional(),
});

/** Ring refused or failed the call: asked again no sooner than this, in the connection's place in line. */
const MIN_RETRY_SECONDS = 30;

// (adapter) --> requestDataQuery --> domain
export function makeImportsHandler(deps: ImportDeps & { readonly importsQueue: WorkQueue; readonly schedule: ImportScheduleStore; readonly settings: Settings; readonly metrics?: Counter }) {
  const metrics = deps.metrics ?? noMetrics;
  return sqsConsumer(deps.importsQueue, ImportMessage, deps, async (request, remainingMs) => {
    const { ticket } = request;
    const settle = { schedule: deps.schedule, clock: deps.clock, logger: deps.logger };
    if (ticket !== undefined) {
      const claim = await claimDispatch(settle, request.customerId, ticket);
      if (claim === 'busy') return { retryAfterSeconds: 60 };
      if (claim === 'stale') {
        deps.logger.info('import message already handled (redelivered, or its import was settled)', { customerId: request.customerId });
        return { done: true };
      }
    }
    // A dispatched import is one slot of the brand's budget: a refused call waits for another slot, not in this invocation.
    const outcome = await requestDataQuery(deps, request, { remainingMs, retries: ticket === undefined });
    if (outcome.outcome === 'requested') metrics.count('QueriesRequested');
    if (outcome.outcome === 'skipped') deps.logger.info('import request skipped', { customerId: request.customerId, reason: outcome.reason });
    if (ticket === undefined) return outcome.outcome === 'retry-later' ? { retryAfterSeconds: outcome.retryAfterSeconds } : { done: true };
    if (outcome.outcome === 'requested') await settleDispatch(settle, request.customerId, ticket, { outcome: 'requested', queryId: outcome.queryId });
    else if (outcome.outcome === 'retry-later') {
      const retryAt = deps.clock.now() + Math.max(MIN_RETRY_SECONDS, outcome.retryAfterSeconds) * 1000;
      await settleDispatch(settle, request.customerId, ticket, { outcome: 'retry', retryAt });
    } else {
      const record = await deps.connections.get(request.customerId);
      const importable = record !== undefined && IMPORTABLE_STATUSES.includes(record.status);
      // ON_HOLD: re-checked one import interval on; gone or needing a new consent: out of the schedule.
      if (importable) await settleDispatch(settle, request.customerId, ticket, { outcome: 'retry', retryAt: deps.clock.now() + deps.settings.schedules.importIntervalMinutes * 60_000 });
      else await settleDispatch(settle, request.customerId, ticket, { outcome: 'leave' });
    }
    return { done: true };
  });
}
