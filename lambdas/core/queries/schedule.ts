import { IMPORTABLE_STATUSES, type ImportRequest } from '../connections/model';
import { holdConnection } from '../connections/status';
import { finishQuery, type FinishDeps } from '../notifications/handle';
import type { Clock, Connection, ConnectionRepository, Logger, TokenAgeIndex, WorkQueue } from '../ports';
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
  /** Where a re-request is admitted (the import schedule). */
  readonly imports: WorkQueue;
  readonly tokenAges: TokenAgeIndex;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** At most this many overdue queries probed per run: its per-invocation bound. */
export const POLL_BATCH = 100;

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
    if (++probed > POLL_BATCH) {
      probed--;
      break;
    }
    const connection = await connections.get(query.customerId);
    const requeue = async (reason: string) => {
      await queryRecords.fail(query.queryId, reason, clock.now());
      failed++;
      if (connection?.status === 'ACTIVE') {
        const request: ImportRequest & { brand: string; endedQueryId: string } = { customerId: query.customerId, brand: query.brand, reason: 'scheduled', requestedAt: new Date(clock.now()).toISOString(), endedQueryId: query.queryId };
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

/** At most this many due connections per token-keeper run: its per-invocation bound. */
export const TOKEN_KEEPER_BATCH = 200;

/**
 * The token keeper: refreshes the tokens of connections whose refresh token is older than the
 * configured age, so a long consent outlives Ring's ~30-day refresh-token expiry. It reads the
 * token-age index, not the secrets: only due connections' secrets are read, at most
 * TOKEN_KEEPER_BATCH a run, oldest first. The token service's lease makes a concurrent refresh
 * of the same connection impossible, and it records each refresh in the index.
 */
export async function keepTokensAlive(deps: ScheduleDeps): Promise<{ checked: number; refreshed: number; relink: number }> {
  const { settings, connections, tokens, tokenAges, clock, logger } = deps;
  const maxAgeMs = settings.schedules.refreshTokenMaxAgeDays * 86_400_000;
  const due = await tokenAges.issuedBefore(clock.now() - maxAgeMs, TOKEN_KEEPER_BATCH);
  let refreshed = 0;
  let relink = 0;
  for (const { customerId } of due) {
    const connection = await connections.get(customerId);
    if (!connection || !IMPORTABLE_STATUSES.includes(connection.status)) {
      await tokenAges.remove(customerId);
      continue;
    }
    try {
      if ((await tokens.keepAlive(connectionOf(connection), maxAgeMs)) === 'refreshed') refreshed++;
    } catch (error) {
      if (error instanceof RelinkRequiredError) {
        relink++;
        await tokenAges.remove(customerId);
      } else if (error instanceof RetryLaterError) logger.warn('token keeper will try this connection next time', { customerId });
      else throw error;
    }
  }
  return { checked: due.length, refreshed, relink };
}
