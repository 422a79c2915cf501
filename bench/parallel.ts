/**
 * The `parse-parallel` measurement: load's per-record work (JSON.parse, Ring's schema + ours,
 * the key) on `threads` worker threads, while the main thread does what load's main thread
 * would still do: read, split, batch, and take every result back in file order to build the
 * items it would write (the writes are discarded, as in `parse`). `threads: 0` runs the same
 * batches on the main thread: the single-core rate of this very code, for the scaling.
 */
import { createReadStream, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { JsonElementSplitter, MalformedJsonError, type JsonElement } from '../lambdas/core/ingest/json-elements';
import type { RecordItem } from '../lambdas/core/ingest/load';
import { batchChecker, RecordThreads, toBatch, type CheckContext, type CheckedBatch } from './record-threads';

/** The bundle of record-thread.ts, beside the bench worker's (`npm run bench:build`). */
const THREAD_SCRIPT = path.join(__dirname, 'bench-record-thread.js');
/** Elements per message: enough to make a message's cost small per record, few enough to keep threads busy. */
const BATCH_ELEMENTS = 500;
/** Batches in flight per thread: one being checked, one waiting, so a thread never idles on main. */
const IN_FLIGHT_PER_THREAD = 2;
const DATASET = 'Ring.EventManager.Events';

export async function parseParallel(task: { readonly path: string; readonly schemaPath: string; readonly threads: number }): Promise<{ bytes: number; records: number }> {
  const context: CheckContext = { customerId: 'bench', dataset: DATASET, schemaText: readFileSync(task.schemaPath, 'utf8') };
  const threads = task.threads > 0 ? new RecordThreads(THREAD_SCRIPT, task.threads, context) : undefined;
  const inline = threads ? undefined : batchChecker(context);
  const check = (elements: JsonElement[]) => threads?.check(toBatch(elements)) ?? Promise.resolve(inline!(toBatch(elements)));
  const window: { elements: JsonElement[]; result: Promise<CheckedBatch> }[] = [];
  const limit = Math.max(1, task.threads) * IN_FLIGHT_PER_THREAD;
  const written = new ItemsWritten();
  const splitter = new JsonElementSplitter({ maxElementBytes: 8 * 1024 * 1024 });
  let elements: JsonElement[] = [];
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(task.path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (const element of splitter.push(chunk)) {
        elements.push(element);
        if (elements.length < BATCH_ELEMENTS) continue;
        window.push({ elements, result: check(elements) });
        elements = [];
        if (window.length >= limit) await written.takeFirst(window);
      }
    }
    splitter.end();
    if (elements.length > 0) window.push({ elements, result: check(elements) });
    while (window.length > 0) await written.takeFirst(window);
  } finally {
    await threads?.close();
  }
  return { bytes, records: written.records };
}

/**
 * What load's main thread does with a checked batch, in file order: the items of its valid
 * records (then discarded, 100 at a time, as a batch would be sent), the rejects, the offset
 * after the last element (where a checkpoint could be saved).
 */
class ItemsWritten {
  records = 0;
  rejected = 0;
  offset = 0;
  private batch: RecordItem[] = [];
  private readonly ingestedAt = new Date().toISOString();

  /** Takes the oldest batch in flight, once it is checked. */
  async takeFirst(window: { elements: JsonElement[]; result: Promise<CheckedBatch> }[]): Promise<void> {
    const { elements, result } = window.shift()!;
    this.take(elements, await result);
  }

  private take(elements: readonly JsonElement[], checked: CheckedBatch): void {
    let valid = 0;
    for (let i = 0; i < checked.sortKeys.length; i++) {
      const sk = checked.sortKeys[i];
      if (sk === null) this.rejected++;
      else {
        this.batch.push({ pk: checked.partitionKey, sk, record: checked.records[valid++], queryId: 'bench', sourceKey: 'bench', sourceOffset: elements[i].start, ingestedAt: this.ingestedAt });
        this.records++;
        if (this.batch.length >= 100) this.batch = [];
      }
      this.offset = elements[i].end;
    }
    if (checked.malformedAt !== undefined) throw new MalformedJsonError(elements[checked.malformedAt].start, 'an element is not valid JSON');
  }
}
