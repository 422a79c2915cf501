import type { ImportRequest } from '../connections/model';
import { holdConnection } from '../connections/status';
import type { Clock, Connection, ConnectionRepository, Logger, WorkQueue } from '../ports';
import type { CompletedQuery } from '../queries/model';
import { RelinkRequiredError, RetryLaterError, RingApiError } from '../ring/errors';
import type { CallOptions, IntakeClient, RecordsPage } from '../ring/intake-client';
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

/**
 * Where a query's listing goes on: the first file not yet handled, `n` in the listing, at
 * `pageIndex` on the page `pageToken` lists (undefined: the first page). Every file before it
 * has its task and its fetch message.
 */
export interface CollectFrom {
  readonly n: number;
  readonly pageToken?: string;
  readonly pageIndex?: number;
  /** Files below it have their message too, when that is beyond `n` (a pass-over after a refused token, not finished). */
  readonly sent?: number;
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
  /** Out of time: listing goes on from the saved file in the next invocation. */
  | { readonly outcome: 'continue'; readonly from: CollectFrom };

/**
 * The time an invocation keeps for what follows a file (its four calls) and for saving where
 * to go on: below this, collect stops before the next file and a continuation resumes there.
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
 * collect checks its remaining time, and with less than COLLECT_RESERVE_MS left it saves
 * where it is (the file, its page's token and its place on the page) and answers `continue`.
 * The continuation lists that page again and starts at that file, skipping the ones before it
 * without a call, so each invocation handles at least one file no earlier one did. A retry
 * (a rate limit, Ring's 5xx, a failed write) also goes on from where it stopped. A saved page
 * token Ring no longer accepts (INVALID_NEXT_PAGE) is dropped, as the reference says, and
 * listing starts again from the first page, passing over the files before the place (a listing
 * call a page; a pass-over out of time goes on later, its mark saved as `sent`). A page that
 * lists fewer files than when the place was saved starts over too, checking every file again.
 * Either happens at most once an invocation. A listing that ends before the files already sent
 * has changed: the query fails and a new import is asked for.
 */
export async function collectQuery(deps: CollectDeps, message: CompletedQuery, options: CallOptions = {}): Promise<CollectOutcome> {
  const { store, connections, intake, clock, logger } = deps;
  const record = await connections.get(message.customerId);
  if (!record || record.status !== 'ACTIVE') return { outcome: 'skipped', reason: `connection is ${record?.status ?? 'gone'}` };
  const start = await store.startCollecting(message.queryId, clock.now());
  if (!start) return { outcome: 'skipped', reason: 'query is not waiting to be collected' };
  const connection: Connection = { customerId: record.customerId, brand: record.brand, region: record.region, secretId: record.secretId };
  const remainingMs = () => options.remainingMs?.() ?? Number.POSITIVE_INFINITY;

  /** The first file not handled yet: where a continuation or a retry goes on. */
  let at: CollectFrom = start;
  /** Files below `sent` are known to have their message: passed over after starting again. */
  let sent = start.sent ?? 0;
  /** What this invocation got done: files handled, pages passed over. */
  let handled = 0;
  let passed = 0;
  let startedAgain = false;
  /** Where to go on: the place, and how far files are known sent when that is further. */
  const place = (): CollectFrom => (sent > at.n ? { ...at, sent } : at);
  const goOnLater = async (): Promise<CollectOutcome> => {
    const from = place();
    await store.saveCollectFrom(message.queryId, from);
    logger.info('collect out of time; a continuation goes on from here', { queryId: message.queryId, n: from.n, sent: from.sent });
    return { outcome: 'continue', from };
  };
  const startOver = (why: string, knownSent: number) => {
    logger.warn(`${why}; listing again from the first page`, { queryId: message.queryId, n: at.n });
    startedAgain = true;
    sent = knownSent;
    at = { n: 0 };
  };
  try {
    for (;;) {
      // Passing over pages costs a listing call each: out of time, the pass-over goes on later too.
      if ((handled > 0 || passed > 0) && remainingMs() < COLLECT_RESERVE_MS) return await goOnLater();
      let page: RecordsPage;
      try {
        page = await intake.listPage(connection, message.queryId, { pageToken: at.pageToken, maxResults: 250 }, options);
      } catch (error) {
        if (!(at.pageToken !== undefined && !startedAgain && error instanceof RingApiError && error.type === 'INVALID_NEXT_PAGE')) throw error;
        // Every file before the place has its message: passed over without a call, and not
        // counted as handled, so a continuation gets further even when each token it saved is
        // refused in turn.
        startOver('Ring refused a saved page token', Math.max(sent, at.n));
        continue;
      }
      if ((at.pageIndex ?? 0) > 0 && page.records.length <= at.pageIndex! && !startedAgain) {
        // The page lists fewer files than when the place was saved: the listing changed, so the
        // numbers before the place may not match it either. Every file is checked again.
        startOver(`page lists ${page.records.length} files, fewer than when this place was saved`, 0);
        continue;
      }
      let n = at.n;
      for (let pageIndex = at.pageIndex ?? 0; pageIndex < page.records.length; pageIndex++) {
        at = { n, pageToken: page.pageToken, pageIndex };
        if (n < sent) {
          n++;
          continue;
        }
        if ((handled > 0 || passed > 0) && remainingMs() < COLLECT_RESERVE_MS) return await goOnLater();
        const listed = page.records[pageIndex];
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
        handled++;
      }
      if (n <= sent && page.records.length > 0) passed++;
      at = { n, pageToken: page.nextPageToken };
      if (!page.nextPageToken) break;
    }
    if (at.n < sent) {
      // The listing ends before files already sent: it changed since they were, and the query's
      // count could not match what fetch and load will do. A new query lists it afresh.
      await store.fail(message.queryId, `the listing ended at ${at.n} files, before the ${sent} already sent`, clock.now());
      await requestRecheck(deps, message);
      logger.warn('query listing changed while it was collected; a new import was requested', { queryId: message.queryId, files: at.n, sent });
      return { outcome: 'skipped', reason: 'the listing changed' };
    }
  } catch (error) {
    if (error instanceof RetryLaterError) return { outcome: 'retry-later', retryAfterSeconds: await goOnFrom(deps, message, place(), error.retryAfterSeconds) };
    if (error instanceof RelinkRequiredError) return { outcome: 'skipped', reason: 'the customer must connect again' };
    if (!(error instanceof RingApiError)) {
      // A failed write or send: the redelivery goes on from here if this can still be saved.
      await store.saveCollectFrom(message.queryId, place()).catch(() => undefined);
      throw error;
    }
    if (error.decision === 'retry' || error.type === 'QUERY_NOT_COMPLETED') {
      return { outcome: 'retry-later', retryAfterSeconds: await goOnFrom(deps, message, place(), Math.max(30, error.retryAfterSeconds ?? 0)) };
    }
    if (error.decision === 'recreate' || error.decision === 'relist') {
      await store.fail(message.queryId, `${error.type ?? error.status} while listing`, clock.now());
      await requestRecheck(deps, message);
      const reason = error.decision === 'recreate' ? 'listing window elapsed' : `${error.type ?? error.status} while listing`;
      logger.warn('query could not be listed to its end; a new import was requested', { queryId: message.queryId, type: error.type });
      return { outcome: 'skipped', reason };
    }
    if (error.decision === 'stop-connection') {
      await holdConnection(connections, message.customerId, error, clock.now());
      await store.fail(message.queryId, 'access refused while listing (account on hold)', clock.now());
      return { outcome: 'skipped', reason: 'account on hold' };
    }
    throw error;
  }
  await store.finishCollecting(message.queryId, at.n, clock.now());
  logger.info('query collected', { queryId: message.queryId, files: at.n });
  return { outcome: 'collected', files: at.n };
}

/** A new import for the customer, after this query could not be listed to its end. */
async function requestRecheck(deps: CollectDeps, message: CompletedQuery): Promise<void> {
  const request: ImportRequest & { brand: string; endedQueryId: string } = {
    customerId: message.customerId,
    brand: message.brand,
    reason: 'recheck',
    requestedAt: new Date(deps.clock.now()).toISOString(),
    endedQueryId: message.queryId,
  };
  await deps.imports.send(request);
}

/** Saves where a retry goes on (unless it is the very start); answers the retry's delay. */
async function goOnFrom(deps: CollectDeps, message: CompletedQuery, at: CollectFrom, retryAfterSeconds: number): Promise<number> {
  if (at.n > 0 || at.pageToken !== undefined || at.sent !== undefined) await deps.store.saveCollectFrom(message.queryId, at);
  return retryAfterSeconds;
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}
