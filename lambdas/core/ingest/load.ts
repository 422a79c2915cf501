import type { Readable } from 'node:stream';
import type { Clock, Logger } from '../ports';
import { DATASET_SCHEMAS, detectDataset } from './datasets';
import type { LoadMessage } from './fetch';
import { JsonElementSplitter, MalformedJsonError, type JsonFormat } from './json-elements';
import { recordKey } from './record-key';

/** Where a load stands: resume from `offset` (after the last written element). */
export interface LoadCheckpoint {
  readonly offset: number;
  readonly format: JsonFormat;
  readonly records: number;
  readonly rejected: number;
}

export interface LoadStore {
  /** The saved checkpoint, or `done` when the file is loaded (or reported malformed). */
  progress(queryId: string, n: number): Promise<{ readonly done: boolean; readonly checkpoint?: LoadCheckpoint }>;
  saveCheckpoint(queryId: string, n: number, checkpoint: LoadCheckpoint): Promise<void>;
  /** Marks the file loaded (or malformed); true for the call that did it, false if it was already. */
  finish(queryId: string, n: number, result: { dataset: string; records: number; rejected: number; malformed?: string }, now: number): Promise<boolean>;
}

export interface RecordItem {
  readonly pk: string;
  readonly sk: string;
  readonly [attribute: string]: unknown;
}

export interface RecordWriter {
  /** Writes up to 25 items, retrying what DynamoDB leaves unprocessed. Same key = same item. */
  write(items: RecordItem[]): Promise<void>;
}

export interface RawReader {
  /** The object's bytes from `offset` on (HTTP Range). */
  read(key: string, offset: number): Promise<Readable>;
  text(key: string, maxBytes: number): Promise<string>;
  /** Appends rejected records (JSON lines) as a new object. */
  putRejects(key: string, lines: string[]): Promise<void>;
}

export interface LoadDeps {
  readonly store: LoadStore;
  /** Called once per file, after it is loaded: completes the query after its last file. */
  readonly onFileLoaded?: (query: { queryId: string; customerId: string }) => Promise<unknown>;
  readonly writer: RecordWriter;
  readonly raw: RawReader;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Checkpoint every this many records. @default 1000 */
  readonly checkpointEvery?: number;
}

/** DynamoDB items stay under 400 KB: a record this large is stored as a pointer to its bytes in S3. */
export const MAX_INLINE_RECORD_BYTES = 350_000;

export type LoadOutcome =
  | { readonly outcome: 'loaded' | 'already'; readonly records: number; readonly rejected: number }
  | { readonly outcome: 'malformed'; readonly reason: string }
  | { readonly outcome: 'continue'; readonly checkpoint: LoadCheckpoint };

/**
 * The load stage: streams a raw object from S3 (from its checkpoint), cuts it into records,
 * validates each against its dataset's schema, and writes the valid ones with deterministic
 * keys (so a replay writes the same items), the invalid ones to `rejected/…jsonl` with the
 * reason. Every `checkpointEvery` records, and when the invocation's time runs low, it saves
 * the byte offset after the last written record and asks to continue from there.
 */
export async function loadFile(deps: LoadDeps, message: LoadMessage, options: { remainingMs?: () => number } = {}): Promise<LoadOutcome> {
  const { store, writer, raw, clock, logger } = deps;
  const state = await store.progress(message.queryId, message.n);
  if (state.done) return { outcome: 'already', records: state.checkpoint?.records ?? 0, rejected: state.checkpoint?.rejected ?? 0 };

  const schemaTitle = await raw
    .text(message.schemaKey, 256 * 1024)
    .then((text) => (JSON.parse(text) as { title?: unknown }).title)
    .catch(() => undefined);
  const dataset = detectDataset({ schemaTitle, urlPath: message.key }) ?? 'Unknown';
  const schema = dataset === 'Unknown' ? undefined : DATASET_SCHEMAS[dataset];

  const start = state.checkpoint;
  let records = start?.records ?? 0;
  let rejected = start?.rejected ?? 0;
  let offset = start?.offset ?? 0;
  const splitter = new JsonElementSplitter({ maxElementBytes: 8 * 1024 * 1024, resumeAt: start && start.offset > 0 ? { offset: start.offset, format: start.format } : undefined });
  const every = deps.checkpointEvery ?? 1_000;
  let batch: RecordItem[] = [];
  let rejects: string[] = [];
  let sinceCheckpoint = 0;

  const flush = async () => {
    if (batch.length > 0) await writer.write(batch);
    if (rejects.length > 0) await raw.putRejects(`rejected/${message.customerId}/${message.queryId}/${message.n}-${offset}.jsonl`, rejects);
    batch = [];
    rejects = [];
  };
  const checkpoint = async (): Promise<LoadCheckpoint> => {
    await flush();
    const saved: LoadCheckpoint = { offset, format: splitter.detectedFormat, records, rejected };
    await store.saveCheckpoint(message.queryId, message.n, saved);
    sinceCheckpoint = 0;
    return saved;
  };

  const body = await raw.read(message.key, offset);
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      for (const element of splitter.push(chunk)) {
        let record: unknown;
        try {
          record = JSON.parse(element.text);
        } catch {
          throw new MalformedJsonError(element.start, 'an element is not valid JSON');
        }
        const valid = record !== null && typeof record === 'object' && !Array.isArray(record) ? (schema ? schema.safeParse(record) : { success: true as const }) : { success: false as const, error: { message: 'not a JSON object' } };
        if (valid.success) {
          const key = recordKey(message.customerId, dataset, record as Record<string, unknown>);
          batch.push(
            element.text.length > MAX_INLINE_RECORD_BYTES
              ? { ...key, pointer: { key: message.key, start: element.start, end: element.end }, queryId: message.queryId, ingestedAt: new Date(clock.now()).toISOString() }
              : { ...key, record, queryId: message.queryId, sourceKey: message.key, ingestedAt: new Date(clock.now()).toISOString() },
          );
          records++;
        } else {
          rejects.push(JSON.stringify({ offset: element.start, dataset, reason: valid.error.message.slice(0, 2_000), record }));
          rejected++;
        }
        offset = element.end;
        sinceCheckpoint++;
        if (batch.length >= 25) {
          await writer.write(batch);
          batch = [];
        }
        if (sinceCheckpoint >= every) {
          const saved = await checkpoint();
          if ((options.remainingMs?.() ?? Number.POSITIVE_INFINITY) < 30_000) {
            body.destroy();
            return { outcome: 'continue', checkpoint: saved };
          }
        }
      }
    }
    splitter.end();
  } catch (error) {
    if (!(error instanceof MalformedJsonError)) throw error;
    // Keep what was loaded, report the file: its raw copy stays in S3.
    await flush();
    await raw.putRejects(`rejected/${message.customerId}/${message.queryId}/${message.n}-malformed.jsonl`, [JSON.stringify({ key: message.key, dataset, reason: error.message })]);
    if (await store.finish(message.queryId, message.n, { dataset, records, rejected, malformed: error.message }, clock.now())) await deps.onFileLoaded?.(message);
    logger.warn('raw file is not valid JSON; kept in S3 and reported', { queryId: message.queryId, n: message.n, reason: error.message });
    return { outcome: 'malformed', reason: error.message };
  }
  await flush();
  if (await store.finish(message.queryId, message.n, { dataset, records, rejected }, clock.now())) await deps.onFileLoaded?.(message);
  logger.info('file loaded', { queryId: message.queryId, n: message.n, dataset, records, rejected });
  return { outcome: 'loaded', records, rejected };
}
