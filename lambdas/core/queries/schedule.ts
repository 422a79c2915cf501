import { IMPORTABLE_STATUSES, type ConnectionRecord, type ImportRequest } from '../connections/model';
import { holdConnection } from '../connections/status';
import { finishQuery, type FinishDeps } from '../notifications/handle';
import type { Clock, Connection, ConnectionRepository, Logger, WorkQueue } from '../ports';
import { RelinkRequiredError, RetryLaterError, RingApiError } from '../ring/errors';
import type { IntakeClient } from '../ring/intake-client';
import type { TokenService } from '../ring/token-service';
import type { Settings } from '../settings';
import type { QueryRepository } from './import';

export interface ScheduleDeps extends FinishDeps {
  readonly settings: Settings;
  readonly connections: ConnectionRepository;
  readonly queryRecords: QueryRepository;
  readonly intake: IntakeClient;
  readonly tokens: TokenService;
  readonly imports: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** A query this old without a notification is given up and requested again. */
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;

const connectionOf = (record: { customerId: string; brand: string; region: string; secretId: string }): Connection => ({
  customerId: record.customerId,
  brand: record.brand,
  region: record.region,
  secretId: record.secretId,
});

/**
 * The polling fallback: queries REQUESTED for longer than the notification should take are
 * probed with one listDataQueryRecords call. Records there → completed (the notification's
 * path); not completed yet → wait; authorization gone → connection revoked; listing window
 * gone or too old → FAILED and a new import requested.
 */
export async function pollOverdueQueries(deps: ScheduleDeps): Promise<{ probed: number; completed: number; failed: number }> {
  const { settings, clock, logger, connections, queryRecords, intake } = deps;
  const overdueBefore = new Date(clock.now() - settings.schedules.notificationOverdueMinutes * 60_000).toISOString();
  let probed = 0;
  let completed = 0;
  let failed = 0;
  for await (const query of queryRecords.listRequestedBefore(overdueBefore)) {
    probed++;
    const connection = await connections.get(query.customerId);
    const requeue = async (reason: string) => {
      await queryRecords.fail(query.queryId, reason, clock.now());
      failed++;
      if (connection?.status === 'ACTIVE') {
        const request: ImportRequest = { customerId: query.customerId, reason: 'scheduled', requestedAt: new Date(clock.now()).toISOString() };
        await deps.imports.send(request);
      }
    };
    if (!connection || connection.status !== 'ACTIVE') {
      await queryRecords.fail(query.queryId, `connection is ${connection?.status ?? 'gone'}`, clock.now());
      failed++;
      continue;
    }
    try {
      await intake.listPage(connectionOf(connection), query.queryId, { maxResults: 1 });
      if ((await finishQuery(deps, query.queryId, 'COMPLETED', `poll:${query.queryId}`)) === 'completed') completed++;
      logger.info('overdue query found completed by polling', { queryId: query.queryId });
    } catch (error) {
      if (error instanceof RetryLaterError || error instanceof RelinkRequiredError) continue;
      if (!(error instanceof RingApiError)) throw error;
      if (error.type === 'QUERY_NOT_COMPLETED' && clock.now() - Date.parse(query.createdAt) < GIVE_UP_AFTER_MS) continue;
      if (error.decision === 'stop-connection') {
        await holdConnection(connections, query.customerId, error, clock.now());
        await finishQuery(deps, query.queryId, 'CANCELED', `poll:${query.queryId}`);
        continue;
      }
      if (error.decision === 'retry') continue;
      await requeue(`${error.type ?? error.status} while polling`);
    }
  }
  return { probed, completed, failed };
}

/**
 * Recurring imports: every ACTIVE connection whose next import is due gets one, spread over
 * time so the createDataQuery budget (20 per 20 minutes) is respected, and its next import
 * moves one interval on (conditionally, so two runs never schedule twice). An ON_HOLD
 * connection gets one too: its re-check, which makes it ACTIVE again once Ring accepts.
 */
export async function scheduleRecurringImports(deps: ScheduleDeps): Promise<{ scheduled: number }> {
  const { settings, clock, connections, imports } = deps;
  const intervalMs = settings.schedules.importIntervalMinutes * 60_000;
  const { perWindow, windowSeconds } = settings.rateLimits.createDataQuery;
  const spacingSeconds = Math.ceil(windowSeconds / perWindow);
  let scheduled = 0;
  for await (const connection of importableConnections(connections)) {
    const due = connection.nextImportAt ?? new Date(Date.parse(connection.connectedAt) + intervalMs).toISOString();
    if (Date.parse(due) > clock.now()) continue;
    const next = new Date(clock.now() + intervalMs).toISOString();
    if (!(await connections.setNextImport(connection.customerId, next, connection.nextImportAt))) continue;
    const delaySeconds = Math.min(900, scheduled * spacingSeconds);
    const request: ImportRequest & { notBefore: number } = {
      customerId: connection.customerId,
      reason: 'scheduled',
      requestedAt: new Date(clock.now()).toISOString(),
      notBefore: clock.now() + scheduled * spacingSeconds * 1000,
    };
    await imports.send(request, { delaySeconds });
    scheduled++;
  }
  return { scheduled };
}

/**
 * The token keeper: refreshes every ACTIVE (or ON_HOLD) connection whose refresh token is older
 * than the configured age, so a long consent outlives Ring's ~30-day refresh-token expiry. The
 * token service's lease makes a concurrent refresh of the same connection impossible.
 */
export async function keepTokensAlive(deps: ScheduleDeps): Promise<{ refreshed: number; relink: number }> {
  const { settings, connections, tokens, logger } = deps;
  const maxAgeMs = settings.schedules.refreshTokenMaxAgeDays * 86_400_000;
  let refreshed = 0;
  let relink = 0;
  for await (const connection of importableConnections(connections)) {
    try {
      if ((await tokens.keepAlive(connectionOf(connection), maxAgeMs)) === 'refreshed') refreshed++;
    } catch (error) {
      if (error instanceof RelinkRequiredError) relink++;
      else if (error instanceof RetryLaterError) logger.warn('token keeper will try this connection next time', { customerId: connection.customerId });
      else throw error;
    }
  }
  return { refreshed, relink };
}

/** Every connection an import may run for, status by status, page by page. */
async function* importableConnections(connections: ConnectionRepository): AsyncGenerator<ConnectionRecord> {
  for (const status of IMPORTABLE_STATUSES) yield* connections.listByStatus(status);
}
