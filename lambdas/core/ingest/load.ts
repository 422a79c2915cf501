import type { Readable } from 'node:stream';
import type { Clock, ConnectionRepository, Logger } from '../ports';
import { DATASET_SCHEMAS, detectDataset, type DatasetName } from './datasets';
import type { LoadMessage } from './fetch';
import { JsonElementSplitter, MalformedJsonError, type JsonFormat } from './json-elements';
import { recordDigest, recordPartition, recordSortKey } from './record-key';
import { bothAccept, compileRingSchema, MAX_SCHEMA_BYTES, type RingSchema } from './ring-schema';

/** Where a load stands: resume from `offset` (after the last written element), with the counts up to it. */
export interface LoadCheckpoint extends RecordCounts {
  readonly offset: number;
  readonly format: JsonFormat;
}

/**
 * What a file's valid records turned out to be: `records` = `recordsNew` + `recordsUnchanged` +
 * `duplicates`. New: not in the records table before this query (written by it). Unchanged:
 * already there, written by an earlier query (not written again). Duplicate: a repeat of a
 * record this query has already seen, in this file or another of its files.
 */
export interface RecordCounts {
  readonly records: number;
  readonly recordsNew: number;
  readonly recordsUnchanged: number;
  readonly duplicates: number;
  readonly rejected: number;
}

export interface LoadStore {
  /** The saved checkpoint, or `done` when the file is loaded (or reported malformed). */
  progress(queryId: string, n: number): Promise<{ readonly done: boolean; readonly checkpoint?: LoadCheckpoint }>;
  /** Saves a checkpoint ahead of the saved one; false if the file is finished or another copy is further on. */
  saveCheckpoint(queryId: string, n: number, checkpoint: LoadCheckpoint): Promise<boolean>;
  /** Marks the file loaded (or malformed); true for the call that did it, false if it was already. */
  finish(queryId: string, n: number, result: LoadResult, now: number): Promise<boolean>;
}

/** What a finished file records on its task (and the manifest shows). */
export interface LoadResult extends RecordCounts {
  readonly dataset: string;
  /** Why the file is not valid JSON (its raw copy stays in S3). */
  readonly malformed?: string;
  /** Why Ring's schema file could not be used: its records were checked by zod alone. */
  readonly schemaProblem?: string;
}

export interface RecordItem {
  readonly pk: string;
  readonly sk: string;
  readonly [attribute: string]: unknown;
}

/** Where a stored record item came from: the query, raw file and byte offset that wrote it. */
export interface StoredRecord {
  readonly pk: string;
  readonly sk: string;
  readonly queryId?: string;
  readonly sourceKey?: string;
  readonly sourceOffset?: number;
  readonly ingestedAt?: string;
  /** Set when the record is stored as a pointer to its bytes in a raw file (MAX_INLINE_RECORD_BYTES, or refused inline by DynamoDB). */
  readonly pointer?: unknown;
}

export interface RecordWriter {
  /**
   * Writes up to 25 items, retrying what DynamoDB leaves unprocessed. Same key = same item.
   * Resolves with the items DynamoDB refuses for their content (a number beyond its range or
   * precision, nesting deeper than its 32 levels), having written all the others.
   */
  write(items: RecordItem[]): Promise<RecordItem[]>;
  /** Which of up to 100 keys are already stored (retrying what DynamoDB leaves unprocessed), with their provenance. */
  existing(keys: readonly { readonly pk: string; readonly sk: string }[]): Promise<StoredRecord[]>;
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
  /** Read once per message: a customer whose purge was requested is not loaded. */
  readonly connections: Pick<ConnectionRepository, 'get'>;
  /**
   * Called after a file is loaded, and again for each redelivery of its message (the load that
   * finished it may have died before this call): completes the query after its last file.
   * Must be idempotent.
   */
  readonly onFileLoaded?: (query: { queryId: string; customerId: string; n: number }) => Promise<unknown>;
  readonly writer: RecordWriter;
  readonly raw: RawReader;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Checkpoint every this many records. @default 1000 */
  readonly checkpointEvery?: number;
  /** Batches (one existence read, then the writes of the absent records) in flight at once. @default 4 */
  readonly writeConcurrency?: number;
}

/**
 * DynamoDB items stay under 400 KB: a record this large is stored as a pointer to its bytes in
 * S3, and so is one DynamoDB refuses inline (a number it cannot hold, nesting too deep).
 */
export const MAX_INLINE_RECORD_BYTES = 350_000;

/** Records per existence read (BatchGetItem's limit). */
const READ_BATCH = 100;
/** A batch is sent early once its records' JSON reaches this, so a batch holds at most this plus one record. */
const READ_BATCH_BYTES = 1024 * 1024;
/** Rejected records' JSON is written out once it reaches this (and at every checkpoint). */
const REJECTS_BYTES = 4 * 1024 * 1024;
/** Items per BatchWriteItem (its limit). */
const WRITE_BATCH = 25;

/** What this invocation did (a continuation counts only its own part of the file): see RecordCounts. */
export interface LoadStats extends RecordCounts {
  readonly dataset: string;
  readonly bytes: number;
  /** Why Ring's schema file could not be used, if it could not. */
  readonly schemaProblem?: string;
}

export type LoadOutcome =
  | { readonly outcome: 'loaded'; readonly records: number; readonly rejected: number; readonly stats: LoadStats }
  | { readonly outcome: 'already'; readonly records: number; readonly rejected: number; readonly stats?: undefined }
  | { readonly outcome: 'skipped'; readonly reason: string; readonly stats?: undefined }
  | { readonly outcome: 'malformed'; readonly reason: string; readonly stats: LoadStats }
  | { readonly outcome: 'continue'; readonly checkpoint: LoadCheckpoint; readonly stats: LoadStats };

/**
 * The load stage: streams a raw object from S3 (from its checkpoint), cuts it into records,
 * validates each against its dataset's schema, and writes the valid ones with deterministic
 * keys (so a replay writes the same items), the invalid ones to `rejected/…jsonl` with the
 * reason. Keys are content-addressed, so a key already stored is an identical record: each
 * batch's keys are read first and only the absent ones are written (README: Incremental
 * imports). Every `checkpointEvery` records, and when the invocation's time runs low, it saves
 * the byte offset after the last written record and asks to continue from there.
 */
export async function loadFile(deps: LoadDeps, message: LoadMessage, options: { remainingMs?: () => number } = {}): Promise<LoadOutcome> {
  const { store, raw, clock, logger } = deps;
  const state = await store.progress(message.queryId, message.n);
  if (state.done) {
    // Redelivered: the load that finished the file may have died before counting it.
    await deps.onFileLoaded?.(message);
    return { outcome: 'already', records: state.checkpoint?.records ?? 0, rejected: state.checkpoint?.rejected ?? 0 };
  }
  const connection = await deps.connections.get(message.customerId);
  if (!connection || connection.purgeRequestedAt) {
    logger.info('load skipped: the customer’s data is being purged', { queryId: message.queryId, n: message.n });
    return { outcome: 'skipped', reason: connection ? 'purge requested' : 'connection gone' };
  }

  const schemaText = await raw.text(message.schemaKey, MAX_SCHEMA_BYTES + 1).catch(() => undefined);
  const ringSchema = compileRingSchema(schemaText);
  const dataset = detectDataset({ schemaTitle: titleOf(schemaText), urlPath: message.key }) ?? 'Unknown';
  const validate = recordValidator(dataset, ringSchema);
  const schemaProblem = ringSchema.problem;
  if (schemaProblem && !state.checkpoint) logger.warn("Ring's schema file is not usable; records are checked by our schema alone", { queryId: message.queryId, n: message.n, dataset, problem: schemaProblem });

  const start = state.checkpoint;
  const startOffset = start?.offset ?? 0;
  const ingestedAt = new Date(clock.now()).toISOString();
  const pk = recordPartition(message.customerId, dataset);
  const before = countsAt(start);
  const counts = { ...before };
  let offset = startOffset;
  const splitter = new JsonElementSplitter({ maxElementBytes: 8 * 1024 * 1024, resumeAt: start && start.offset > 0 ? { offset: start.offset, format: start.format } : undefined });
  const every = deps.checkpointEvery ?? 1_000;
  const writes = new BoundedWrites(deps.writer, deps.writeConcurrency ?? 4, message, counts, logger);
  const seen = new RecentKeys(50_000);
  let batch: RecordItem[] = [];
  /** Each batch item's element end: a record DynamoDB refuses inline becomes a pointer to its bytes. */
  let batchEnds: number[] = [];
  let batchBytes = 0;
  let rejects: string[] = [];
  let rejectBytes = 0;
  let sinceCheckpoint = 0;
  const stats = (): LoadStats => ({ dataset, bytes: offset - startOffset, ...difference(counts, before), schemaProblem });
  const sendBatch = async () => {
    if (batch.length > 0) await writes.add(batch, batchEnds);
    batch = [];
    batchEnds = [];
    batchBytes = 0;
  };

  /** Writes the rejects so far as one object named by the offset after them (a replay from a checkpoint writes the same objects). */
  const flushRejects = async () => {
    if (rejects.length > 0) await raw.putRejects(`rejected/${message.customerId}/${message.queryId}/${message.n}-${offset}.jsonl`, rejects);
    rejects = [];
    rejectBytes = 0;
  };
  const flush = async () => {
    await sendBatch();
    await writes.drain();
    await flushRejects();
  };
  /** Saves the checkpoint; undefined when another copy of this message has finished the file. */
  const checkpoint = async (): Promise<LoadCheckpoint | undefined> => {
    await flush();
    const saved: LoadCheckpoint = { offset, format: splitter.detectedFormat, ...counts };
    sinceCheckpoint = 0;
    if (!(await store.saveCheckpoint(message.queryId, message.n, saved)) && (await store.progress(message.queryId, message.n)).done) return undefined;
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
        const reasons = validate(record);
        if (!reasons) {
          const digest = recordDigest(record as Record<string, unknown>, element.bytes);
          counts.records++;
          // A recent repeat is neither read nor written: its first copy is in this batch or an earlier one.
          if (!seen.addIfNew(digest)) counts.duplicates++;
          else {
            const sk = recordSortKey(record as Record<string, unknown>, digest);
            // One object literal per item (no spreads): load's cost is per record.
            const inline = element.text.length <= MAX_INLINE_RECORD_BYTES;
            batch.push(
              inline
                ? { pk, sk, record, queryId: message.queryId, sourceKey: message.key, sourceOffset: element.start, ingestedAt }
                : { pk, sk, pointer: { key: message.key, start: element.start, end: element.end }, queryId: message.queryId, sourceKey: message.key, sourceOffset: element.start, ingestedAt },
            );
            batchEnds.push(element.end);
            if (inline) batchBytes += element.text.length;
          }
        } else {
          const line = JSON.stringify({ offset: element.start, dataset, reasons, record });
          rejects.push(line);
          rejectBytes += line.length;
          counts.rejected++;
        }
        offset = element.end;
        sinceCheckpoint++;
        // Rejected records are kept whole: bounded by bytes too, or a file of large refused records would not fit the heap.
        if (rejectBytes >= REJECTS_BYTES) await flushRejects();
        if (batch.length >= READ_BATCH || batchBytes >= READ_BATCH_BYTES) await sendBatch();
        if (sinceCheckpoint >= every) {
          const saved = await checkpoint();
          if (!saved) {
            body.destroy();
            return { outcome: 'already', records: counts.records, rejected: counts.rejected };
          }
          if ((options.remainingMs?.() ?? Number.POSITIVE_INFINITY) < 30_000) {
            body.destroy();
            return { outcome: 'continue', checkpoint: saved, stats: stats() };
          }
        }
      }
    }
    splitter.end();
  } catch (error) {
    if (!(error instanceof MalformedJsonError)) {
      await writes.drain().catch(() => undefined);
      throw error;
    }
    // Keep what was loaded, report the file: its raw copy stays in S3.
    await flush();
    await raw.putRejects(`rejected/${message.customerId}/${message.queryId}/${message.n}-malformed.jsonl`, [JSON.stringify({ key: message.key, dataset, reason: error.message })]);
    if (await store.finish(message.queryId, message.n, { dataset, ...counts, malformed: error.message, schemaProblem }, clock.now())) await deps.onFileLoaded?.(message);
    logger.warn('raw file is not valid JSON; kept in S3 and reported', { queryId: message.queryId, n: message.n, reason: error.message });
    return { outcome: 'malformed', reason: error.message, stats: stats() };
  }
  await flush();
  if (await store.finish(message.queryId, message.n, { dataset, ...counts, schemaProblem }, clock.now())) await deps.onFileLoaded?.(message);
  logger.info('file loaded', { queryId: message.queryId, n: message.n, dataset, ...counts });
  return { outcome: 'loaded', records: counts.records, rejected: counts.rejected, stats: stats() };
}

type MutableCounts = { -readonly [K in keyof RecordCounts]: RecordCounts[K] };

/** The counts a checkpoint carries (zero for a file not started). */
function countsAt(checkpoint: LoadCheckpoint | undefined): MutableCounts {
  return {
    records: checkpoint?.records ?? 0,
    recordsNew: checkpoint?.recordsNew ?? 0,
    recordsUnchanged: checkpoint?.recordsUnchanged ?? 0,
    duplicates: checkpoint?.duplicates ?? 0,
    rejected: checkpoint?.rejected ?? 0,
  };
}

function difference(after: RecordCounts, before: RecordCounts): RecordCounts {
  return {
    records: after.records - before.records,
    recordsNew: after.recordsNew - before.recordsNew,
    recordsUnchanged: after.recordsUnchanged - before.recordsUnchanged,
    duplicates: after.duplicates - before.duplicates,
    rejected: after.rejected - before.rejected,
  };
}

/**
 * Splits a batch by what the table already holds. Absent: new, to write. Stored by another
 * query: unchanged (same key = same content), not written. Stored by this query from this very
 * element (same raw file, same byte offset): an earlier attempt of this load (a crash after the
 * write, a redelivered or concurrent copy of the message): new, already written. Stored by this
 * query from another element: a repeat beyond the recent-keys window, or in another file.
 *
 * An unchanged oversize record is written all the same: its item points at its bytes in a raw
 * file, which `retention.rawDataDays` may expire, so it is re-pointed at this query's copy,
 * keeping the first query's `queryId` and `ingestedAt` (so a replay still counts it unchanged).
 */
function classify(items: readonly RecordItem[], ends: readonly number[], stored: readonly StoredRecord[], queryId: string): { toWrite: readonly RecordItem[]; fresh: number; unchanged: number; duplicates: number } {
  // A first import finds nothing: no key strings to build for a map that stays empty.
  if (stored.length === 0) return { toWrite: items, fresh: items.length, unchanged: 0, duplicates: 0 };
  const found = new Map(stored.map((item) => [`${item.pk}\u0000${item.sk}`, item]));
  const toWrite: RecordItem[] = [];
  let fresh = 0;
  let unchanged = 0;
  let duplicates = 0;
  for (const [i, item] of items.entries()) {
    const existing = found.get(`${item.pk}\u0000${item.sk}`);
    if (!existing) {
      toWrite.push(item);
      fresh++;
    } else if (existing.queryId !== queryId) {
      unchanged++;
      if (item.pointer !== undefined || existing.pointer !== undefined) toWrite.push({ ...asPointer(item, ends[i]), queryId: existing.queryId, ingestedAt: existing.ingestedAt ?? item.ingestedAt });
    } else if (existing.sourceKey === item.sourceKey && existing.sourceOffset === item.sourceOffset) fresh++;
    else duplicates++;
  }
  return { toWrite, fresh, unchanged, duplicates };
}

/** The item as a pointer to its record's bytes in the raw file it is loaded from (`end`: the element's end offset). */
function asPointer(item: RecordItem, end: number): RecordItem {
  if (item.pointer !== undefined) return item;
  const { record: _record, ...rest } = item;
  return { ...rest, pointer: { key: item.sourceKey, start: item.sourceOffset, end } };
}

/** Why a record is refused, by each check that refused it; undefined when both accept it. */
export interface RejectReasons {
  /** Ring's schema file (ajv). */
  readonly ringSchema?: string;
  /** Our schema of the dataset (zod). */
  readonly zod?: string;
}

/**
 * A valid record costs one call of the compiled check of both schemas; a refused one is checked
 * again by Ring's schema and by zod alone, for reasons as they would give them (and should the
 * two ever disagree with the one pass, by their verdict).
 */
export function recordValidator(dataset: string, ring: RingSchema): (record: unknown) => RejectReasons | undefined {
  const known = dataset === 'Unknown' ? undefined : (dataset as DatasetName);
  const accepts = bothAccept(ring, known);
  const schema = known && DATASET_SCHEMAS[known];
  return (record) => {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) return { zod: 'not a JSON object' };
    if (accepts(record)) return undefined;
    const ringSchema = ring.check?.(record);
    const result = schema?.safeParse(record);
    const zod = result && !result.success ? result.error.message.slice(0, 2_000) : undefined;
    return ringSchema || zod ? { ...(ringSchema ? { ringSchema } : {}), ...(zod ? { zod } : {}) } : undefined;
  };
}

function titleOf(schemaText: string | undefined): unknown {
  try {
    return schemaText === undefined ? undefined : (JSON.parse(schemaText) as { title?: unknown }).title;
  } catch {
    return undefined;
  }
}

/**
 * Up to `limit` batches in flight, each one existence read then the writes of its absent
 * records; their counts are added to `counts` as they finish (all of them by `drain`). The
 * first failure is raised on the next call.
 */
class BoundedWrites {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: Error | undefined;

  constructor(
    private readonly writer: RecordWriter,
    private readonly limit: number,
    private readonly message: { readonly queryId: string },
    private readonly counts: MutableCounts,
    private readonly logger: Logger,
  ) {}

  async add(items: RecordItem[], ends: number[]): Promise<void> {
    this.raiseFailure();
    while (this.inFlight.size >= this.limit) await Promise.race(this.inFlight);
    this.raiseFailure();
    const write: Promise<void> = this.readThenWrite(items, ends).then(
      () => void this.inFlight.delete(write),
      (error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
        this.inFlight.delete(write);
      },
    );
    this.inFlight.add(write);
  }

  /** Waits for every write in flight; raises the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    this.raiseFailure();
  }

  private async readThenWrite(items: RecordItem[], ends: number[]): Promise<void> {
    const { toWrite, fresh, unchanged, duplicates } = classify(items, ends, await this.writer.existing(items), this.message.queryId);
    const refused: RecordItem[] = [];
    for (let i = 0; i < toWrite.length; i += WRITE_BATCH) refused.push(...(await this.writer.write(toWrite.slice(i, i + WRITE_BATCH))));
    if (refused.length > 0) {
      // Valid records DynamoDB cannot hold as a map are kept as pointers to their bytes, like oversize ones.
      const pointers = refused.map((item) => asPointer(item, ends[items.findIndex((candidate) => candidate.sk === item.sk)]));
      const again = await this.writer.write(pointers);
      if (again.length > 0) throw new Error(`DynamoDB refused ${again.length} pointer item(s), e.g. ${again[0].sk}`);
      this.logger.warn('records DynamoDB cannot hold as a map are stored as pointers to their bytes', { queryId: this.message.queryId, records: refused.length, reason: 'a number beyond its range or precision, or nesting deeper than 32 levels' });
    }
    this.counts.recordsNew += fresh;
    this.counts.recordsUnchanged += unchanged;
    this.counts.duplicates += duplicates;
  }

  private raiseFailure(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

/**
 * The last records' digests, to skip repeats within a file. A hit means the record is neither
 * read nor written, so a collision would lose a record: each entry is the whole sha256. Two
 * generations of `limit` entries (the older one is cleared and reused when the newer one
 * fills), each the digests as 8 words in the order they came and an open-addressing index of
 * (fingerprint, entry) pairs: a lookup probes the small index (1 MiB at 50,000, mostly in the
 * CPU's cache) and reads a stored digest only when its fingerprint, another word of it, is the
 * same. All off the JS heap, so the window costs the collector nothing: about 5 MB at 50,000.
 * A Set of the 64-character hex strings cost more per record than hashing it (each string kept
 * alive until its generation ended).
 */
export class RecentKeys {
  private current: WindowGeneration;
  private previous: WindowGeneration;
  private readonly mask: number;
  /** The digest being looked up, as 8 words (the hex string decoded once per call, natively, into their bytes). */
  private readonly words = new Uint32Array(8);
  private readonly bytes = Buffer.from(this.words.buffer);

  constructor(private readonly limit: number) {
    // At most half full: linear probing stays short.
    let slots = 1;
    while (slots < 2 * limit) slots *= 2;
    this.mask = slots - 1;
    this.current = windowGeneration(slots, limit);
    this.previous = windowGeneration(slots, limit);
  }

  /** False when `digest` (64 lowercase hex digits) is among the last ones; else remembers it. */
  addIfNew(digest: string): boolean {
    const words = this.words;
    if (this.bytes.write(digest, 'hex') !== 32) throw new Error('the recent-keys window takes a sha256 as 64 hex digits');
    // Never 0, which marks a free slot.
    const fingerprint = words[1] | 1;
    let free = this.find(this.current, fingerprint);
    if (free >= 0 || this.find(this.previous, fingerprint) >= 0) return false;
    let target = this.current;
    if (target.size >= this.limit) {
      const older = this.previous;
      older.index.fill(0);
      older.size = 0;
      this.previous = target;
      this.current = target = older;
      // An empty index: the digest's first probe is free.
      free = -((words[0] & this.mask) * 2) - 1;
    }
    const slot = -free - 1;
    const entry = target.size++;
    target.index[slot] = fingerprint;
    target.index[slot + 1] = entry;
    target.digests.set(words, entry * 8);
    return true;
  }

  /** The digest's slot in the generation's index, or -1 - the free slot where it would go. */
  private find(generation: WindowGeneration, fingerprint: number): number {
    const { index, digests } = generation;
    const words = this.words;
    let at = words[0] & this.mask;
    for (;;) {
      const slot = at * 2;
      const stored = index[slot];
      if (stored === 0) return -slot - 1;
      if (stored === fingerprint) {
        const base = index[slot + 1] * 8;
        let same = true;
        for (let w = 0; w < 8 && same; w++) same = digests[base + w] === words[w];
        if (same) return slot;
      }
      at = (at + 1) & this.mask;
    }
  }
}

/** One generation of the window: its index (fingerprint, entry) per slot, its digests by entry. */
interface WindowGeneration {
  readonly index: Int32Array;
  readonly digests: Uint32Array;
  size: number;
}

function windowGeneration(slots: number, limit: number): WindowGeneration {
  return { index: new Int32Array(slots * 2), digests: new Uint32Array(limit * 8), size: 0 };
}
