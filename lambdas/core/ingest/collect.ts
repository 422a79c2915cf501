import type { ImportRequest } from '../connections/model';
import { holdConnection } from '../connections/status';
import type { Clock, Connection, ConnectionRepository, Logger, WorkQueue } from '../ports';
import type { CompletedQuery } from '../queries/model';
import { RelinkRequiredError, RetryLaterError, RingApiError } from '../ring/errors';
import type { CallOptions, IntakeClient } from '../ring/intake-client';
import { detectDataset } from './datasets';

/** One listed file of a query: what fetch needs to find (or re-list) and download it. */
export interface FileTask {
  readonly queryId: string;
  readonly customerId: string;
  /** Position of the file in the query's listing, from 0. */
  readonly n: number;
  /** Dataset guessed from the URL; confirmed from the schema file by load. */
  readonly dataset?: string;
  /** The token of the page that listed it (undefined: the first page), and its index there. */
  readonly pageToken?: string;
  readonly pageIndex: number;
  readonly listedAt: string;
}

/** A fetch message: the task plus the presigned URLs as listed (valid 5 minutes). */
export interface FetchMessage extends FileTask {
  readonly fileUrl: string;
  readonly schemaUrl: string;
}

/** Where a query's listing goes on: the page's token (undefined: the first page) and the position of its first file. */
export interface CollectFrom {
  readonly n: number;
  readonly pageToken?: string;
}

export interface CollectStore {
  /**
   * COMPLETED → COLLECTING: where listing starts (the first page, or where an earlier
   * invocation stopped), or undefined when the query is not waiting to be collected.
   */
  startCollecting(queryId: string, now: number): Promise<CollectFrom | undefined>;
  /** Records where listing goes on, while the query is COLLECTING. */
  saveCollectFrom(queryId: string, from: CollectFrom): Promise<void>;
  /** Records a file task once; false if it already exists (redelivery). */
  putTask(task: FileTask): Promise<boolean>;
  /** Whether the task's fetch message went out (so a crashed collect re-sends only what is missing). */
  isEnqueued(queryId: string, n: number): Promise<boolean>;
  markEnqueued(queryId: string, n: number): Promise<void>;
  /** COLLECTING → LOADING with the number of files; FAILED with a reason. */
  finishCollecting(queryId: string, files: number, now: number): Promise<void>;
  fail(queryId: string, reason: string, now: number): Promise<void>;
}

export interface CollectDeps {
  readonly store: CollectStore;
  readonly connections: ConnectionRepository;
  readonly intake: IntakeClient;
  readonly files: WorkQueue;
  readonly imports: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
}

export type CollectOutcome =
  | { readonly outcome: 'collected'; readonly files: number }
  | { readonly outcome: 'skipped'; readonly reason: string }
  | { readonly outcome: 'retry-later'; readonly retryAfterSeconds: number }
  /** Out of time: listing goes on from the saved page in the next invocation. */
  | { readonly outcome: 'continue'; readonly from: CollectFrom };

/**
 * The time an invocation keeps for what follows a file (its four calls) and for saving where
 * to go on: below this, collect stops at the current page and a continuation resumes there.
 */
export const COLLECT_RESERVE_MS = 20_000;

/**
 * The collect stage: lists every page of a completed query (250 a page) and turns each listed
 * file into a task and a fetch message, once per file even when the message is delivered
 * twice or collect dies half-way. Ring's answers decide: not completed yet → later; listing
 * window elapsed → the query FAILED and a new import requested; authorization gone → the
 * connection is revoked.
 *
 * A query of many files takes more than one invocation (four calls a file): before each file
 * collect checks its remaining time, and with less than COLLECT_RESERVE_MS left it saves the
 * page it is on and answers `continue`, for a continuation to list from that page on. A retry
 * (rate limit, Ring's 5xx) also goes on from the page it failed on, never from the first.
 */
export async function collectQuery(deps: CollectDeps, message: CompletedQuery, options: CallOptions = {}): Promise<CollectOutcome> {
  const { store, connections, intake, clock, logger } = deps;
  const record = await connections.get(message.customerId);
  if (!record || record.status !== 'ACTIVE') return { outcome: 'skipped', reason: `connection is ${record?.status ?? 'gone'}` };
  const start = await store.startCollecting(message.queryId, clock.now());
  if (!start) return { outcome: 'skipped', reason: 'query is not waiting to be collected' };
  const connection: Connection = { customerId: record.customerId, brand: record.brand, region: record.region, secretId: record.secretId };
  const remainingMs = () => options.remainingMs?.() ?? Number.POSITIVE_INFINITY;

  /** The page being listed: its token and the position of its first file. */
  let from: CollectFrom = start;
  let n = from.n;
  try {
    for (;;) {
      const page = await intake.listPage(connection, message.queryId, { pageToken: from.pageToken, maxResults: 250 }, options);
      n = from.n;
      for (const [pageIndex, listed] of page.records.entries()) {
        // At least one file per invocation, whatever the time: a continuation always gets further.
        if (n > start.n && remainingMs() < COLLECT_RESERVE_MS) {
          await store.saveCollectFrom(message.queryId, from);
          logger.info('collect out of time; a continuation lists on from this page', { queryId: message.queryId, n: from.n });
          return { outcome: 'continue', from };
        }
        const task: FileTask = {
          queryId: message.queryId,
          customerId: message.customerId,
          n,
          dataset: detectDataset({ urlPath: safePath(listed.file) }),
          pageToken: page.pageToken,
          pageIndex,
          listedAt: new Date(clock.now()).toISOString(),
        };
        await store.putTask(task);
        if (!(await store.isEnqueued(task.queryId, n))) {
          const fetch: FetchMessage = { ...task, fileUrl: listed.file, schemaUrl: listed.schema };
          await deps.files.send(fetch);
          await store.markEnqueued(task.queryId, n);
        }
        n++;
      }
      if (!page.nextPageToken) break;
      from = { n, pageToken: page.nextPageToken };
    }
  } catch (error) {
    if (error instanceof RetryLaterError) return { outcome: 'retry-later', retryAfterSeconds: await goOnFrom(deps, message, from, error.retryAfterSeconds) };
    if (error instanceof RelinkRequiredError) return { outcome: 'skipped', reason: 'the customer must connect again' };
    if (!(error instanceof RingApiError)) throw error;
    if (error.decision === 'retry' || error.type === 'QUERY_NOT_COMPLETED') {
      return { outcome: 'retry-later', retryAfterSeconds: await goOnFrom(deps, message, from, Math.max(30, error.retryAfterSeconds ?? 0)) };
    }
    if (error.decision === 'recreate' || error.decision === 'relist') {
      await store.fail(message.queryId, `${error.type ?? error.status} while listing`, clock.now());
      const request: ImportRequest & { brand: string; endedQueryId: string } = { customerId: message.customerId, brand: message.brand, reason: 'recheck', requestedAt: new Date(clock.now()).toISOString(), endedQueryId: message.queryId };
      await deps.imports.send(request);
      logger.warn('query could no longer be listed; a new import was requested', { queryId: message.queryId, type: error.type });
      return { outcome: 'skipped', reason: 'listing window elapsed' };
    }
    if (error.decision === 'stop-connection') {
      await holdConnection(connections, message.customerId, error, clock.now());
      await store.fail(message.queryId, 'access refused while listing (account on hold)', clock.now());
      return { outcome: 'skipped', reason: 'account on hold' };
    }
    throw error;
  }
  await store.finishCollecting(message.queryId, n, clock.now());
  logger.info('query collected', { queryId: message.queryId, files: n });
  return { outcome: 'collected', files: n };
}

/** Saves the page a retry goes on from (past the first page only); answers the retry's delay. */
async function goOnFrom(deps: CollectDeps, message: CompletedQuery, from: CollectFrom, retryAfterSeconds: number): Promise<number> {
  if (from.pageToken !== undefined) await deps.store.saveCollectFrom(message.queryId, from);
  return retryAfterSeconds;
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}
