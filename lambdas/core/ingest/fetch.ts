import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import type { ImportRequest } from '../connections/model';
import type { Clock, Connection, ConnectionRepository, Logger, WorkQueue } from '../ports';
import { RetryLaterError, RingApiError } from '../ring/errors';
import type { CallOptions, IntakeClient, RecordsPage } from '../ring/intake-client';
import type { FetchMessage } from './collect';

export interface Download {
  readonly body: Readable;
  readonly contentLength?: number;
}

export interface FileDownloader {
  /** GETs a presigned URL; a non-200 answer is thrown as a RingApiError (see downloadFailure). */
  open(url: string): Promise<Download>;
}

export interface RawObjectStore {
  /** Streams `body` into the raw-data bucket under `key` (multipart; a failed upload is aborted). */
  upload(key: string, body: Readable, contentType: string): Promise<void>;
}

export interface FetchedFile {
  readonly key: string;
  readonly schemaKey: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface FetchStore {
  fetched(queryId: string, n: number): Promise<FetchedFile | undefined>;
  markFetched(queryId: string, n: number, file: FetchedFile, now: number): Promise<void>;
}

export interface LoadMessage extends FetchedFile {
  readonly queryId: string;
  readonly customerId: string;
  readonly n: number;
  readonly dataset?: string;
}

export interface FetchDeps {
  readonly store: FetchStore;
  /** The query can no longer be listed (its hour is over): end it FAILED with the reason. */
  readonly failQuery: (queryId: string, reason: string, now: number) => Promise<void>;
  /** Where a new import is asked for when a query is lost. */
  readonly imports: WorkQueue;
  readonly connections: ConnectionRepository;
  readonly intake: IntakeClient;
  readonly downloader: FileDownloader;
  readonly objects: RawObjectStore;
  readonly loads: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** URLs live 5 minutes; this close to the end they are re-listed first. */
export const URL_FRESH_MS = 4 * 60_000;
const ATTEMPTS = 3;
/** What another attempt needs of the invocation's time: two silences of the downloader's 30 s (the schema, the data file), and the rest. */
export const RETRY_RESERVE_MS = 70_000;

export type FetchOutcome = { readonly outcome: 'fetched' | 'already'; readonly file: FetchedFile } | { readonly outcome: 'skipped'; readonly reason: string } | { readonly outcome: 'retry-later'; readonly retryAfterSeconds: number };

export const rawKey = (message: Pick<FetchMessage, 'customerId' | 'queryId' | 'dataset' | 'n'>, part: 'data' | 'schema'): string =>
  `raw/${message.customerId}/${message.queryId}/${message.dataset ?? 'Unknown'}/${message.n}.${part === 'schema' ? 'schema.json' : 'json'}`;

/**
 * The fetch stage: streams one listed file (and its schema) into S3 while its URL lives,
 * hashing and counting the bytes on the way and checking them against Content-Length. An
 * expired or refused URL is re-listed for a fresh one; a cut download or an S3 error is tried
 * again; after that the message comes back later. Memory is the upload's part buffers.
 */
export async function fetchFile(deps: FetchDeps, message: FetchMessage, options: CallOptions = {}): Promise<FetchOutcome> {
  const { store, clock, logger } = deps;
  const done = await store.fetched(message.queryId, message.n);
  if (done) {
    await deps.loads.send(loadMessage(message, done));
    return { outcome: 'already', file: done };
  }
  const record = await deps.connections.get(message.customerId);
  if (!record || record.status !== 'ACTIVE') return { outcome: 'skipped', reason: `connection is ${record?.status ?? 'gone'}` };
  const connection: Connection = { customerId: record.customerId, brand: record.brand, region: record.region, secretId: record.secretId };

  let urls = { fileUrl: message.fileUrl, schemaUrl: message.schemaUrl };
  let listedAt = Date.parse(message.listedAt);
  for (let attempt = 1; ; attempt++) {
    // A host that hangs costs its whole timeout an attempt: another is tried only if it fits.
    if (attempt > 1 && (options.remainingMs?.() ?? Number.POSITIVE_INFINITY) < RETRY_RESERVE_MS) return { outcome: 'retry-later', retryAfterSeconds: 30 };
    try {
      if (clock.now() - listedAt > URL_FRESH_MS) {
        urls = await relist(deps, connection, message, options, urls.fileUrl);
        listedAt = clock.now();
      }
      const schema = await copyToS3(deps, urls.schemaUrl, rawKey(message, 'schema'), 'application/schema+json');
      const data = await copyToS3(deps, urls.fileUrl, rawKey(message, 'data'), 'application/json');
      const file: FetchedFile = { key: rawKey(message, 'data'), schemaKey: rawKey(message, 'schema'), bytes: data.bytes, sha256: data.sha256 };
      if (schema.bytes === 0) logger.warn('empty schema file', { queryId: message.queryId, n: message.n });
      await store.markFetched(message.queryId, message.n, file, clock.now());
      await deps.loads.send(loadMessage(message, file));
      logger.info('file fetched', { queryId: message.queryId, n: message.n, bytes: file.bytes });
      return { outcome: 'fetched', file };
    } catch (error) {
      if (error instanceof RetryLaterError) return { outcome: 'retry-later', retryAfterSeconds: error.retryAfterSeconds };
      const decision = error instanceof RingApiError ? error.decision : error instanceof CutDownloadError ? 'retry' : undefined;
      if (decision === 'recreate') {
        // The listing window closed before this file was fetched: the query cannot finish.
        const reason = `${(error as RingApiError).type ?? 'listing'} before file ${message.n} was fetched`;
        await deps.failQuery(message.queryId, reason, clock.now());
        const request: ImportRequest & { endedQueryId: string } = { customerId: message.customerId, reason: 'recheck', requestedAt: new Date(clock.now()).toISOString(), endedQueryId: message.queryId };
        await deps.imports.send(request);
        logger.warn('query lost before all its files were fetched; a new import was requested', { queryId: message.queryId, n: message.n });
        return { outcome: 'skipped', reason };
      }
      if (decision === undefined || decision === 'fail' || decision === 'stop-connection') throw error;
      logger.warn('download failed; trying again', { queryId: message.queryId, n: message.n, attempt, decision, reason: (error as Error).message });
      if (attempt >= ATTEMPTS) return { outcome: 'retry-later', retryAfterSeconds: 30 };
      // An expired or refused URL needs a fresh one; anything else retries the same URL after a pause.
      if (decision === 'relist') listedAt = 0;
      else await clock.sleep(1_000 * attempt);
    }
  }
}

function loadMessage(message: FetchMessage, file: FetchedFile): LoadMessage {
  return { queryId: message.queryId, customerId: message.customerId, n: message.n, dataset: message.dataset, ...file };
}

/** The download ended short of its Content-Length. */
export class CutDownloadError extends Error {
  override readonly name = 'CutDownloadError';
}

/**
 * The fetch stage's data path: streams one URL into S3, hashing and counting on the way, and
 * refuses a body shorter than its Content-Length. Memory is the upload's part buffers.
 */
export async function copyToS3(deps: Pick<FetchDeps, 'downloader' | 'objects'>, url: string, key: string, contentType: string): Promise<{ bytes: number; sha256: string }> {
  const download = await deps.downloader.open(url);
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    // The response's chunks are up to 64 KiB: with the default 16 KiB every chunk paused the
    // download until the upload took it; 1 MiB (the size of the upload's reads from disk)
    // saves those pauses, a few % of fetch's CPU, for 2 MiB more memory at most.
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      if (download.contentLength !== undefined && bytes !== download.contentLength) {
        callback(new CutDownloadError(`received ${bytes} of ${download.contentLength} bytes`));
        return;
      }
      callback();
    },
  });
  download.body.on('error', (error) => meter.destroy(new CutDownloadError(error.message)));
  try {
    await deps.objects.upload(key, download.body.pipe(meter), contentType);
  } catch (error) {
    // The upload destroys the stream it read (the meter), not the response behind it: close the
    // connection now rather than when the downloader's timeout ends it.
    download.body.destroy();
    throw error;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * Fresh URLs for the task's file from its page. Ring answers the same call with the same
 * response for 5 minutes, so a cached (already expiring) answer is asked for again with
 * another page size, which is another call.
 */
async function relist(deps: FetchDeps, connection: Connection, message: FetchMessage, options: CallOptions, staleFileUrl: string): Promise<{ fileUrl: string; schemaUrl: string }> {
  for (const maxResults of [250, 249]) {
    if (message.pageIndex >= maxResults) break;
    let page: RecordsPage;
    try {
      page = await deps.intake.listPage(connection, message.queryId, { pageToken: message.pageToken, maxResults }, options);
    } catch (error) {
      if (!(message.pageToken !== undefined && error instanceof RingApiError && error.type === 'INVALID_NEXT_PAGE')) throw error;
      return relistFromStart(deps, connection, message, options, staleFileUrl);
    }
    const listed = page.records[message.pageIndex];
    if (!listed) throw new RingApiError(404, 'S3', 'FileNotListed', `file ${message.n} is no longer listed`, 'recreate');
    if (listed.file !== staleFileUrl) return { fileUrl: listed.file, schemaUrl: listed.schema };
  }
  throw new RetryLaterError(60, 'Ring still serves the cached listing; try after its 5 minutes');
}

/**
 * Fresh URLs for the task's file when Ring refuses its page's token (INVALID_NEXT_PAGE): the
 * listing again from its first page, as the reference says, to the file's place in it (the
 * position of its page's first file, `n - pageIndex`, plus its index), a listing call a page.
 */
async function relistFromStart(deps: FetchDeps, connection: Connection, message: FetchMessage, options: CallOptions, staleFileUrl: string): Promise<{ fileUrl: string; schemaUrl: string }> {
  let first = 0;
  let pageToken: string | undefined;
  for (;;) {
    const page = await deps.intake.listPage(connection, message.queryId, { pageToken, maxResults: 250 }, options);
    if (message.n < first + page.records.length) {
      const listed = page.records[message.n - first];
      if (listed.file === staleFileUrl) throw new RetryLaterError(60, 'Ring still serves the cached listing; try after its 5 minutes');
      return { fileUrl: listed.file, schemaUrl: listed.schema };
    }
    first += page.records.length;
    if (!page.nextPageToken) throw new RingApiError(404, 'S3', 'FileNotListed', `file ${message.n} is no longer listed`, 'recreate');
    pageToken = page.nextPageToken;
  }
}


