import { Worker } from 'node:worker_threads';
import type { JsonElement } from '../lambdas/core/ingest/json-elements';
import { recordValidator } from '../lambdas/core/ingest/load';
import { recordKey } from '../lambdas/core/ingest/record-key';
import { compileRingSchema } from '../lambdas/core/ingest/ring-schema';

/**
 * Load's per-record work (JSON.parse, Ring's schema + ours, the key) on `worker_threads`, to
 * measure whether a second vCPU pays (issue 16, item 4). The main thread keeps what must stay
 * in order: it splits the file, sends batches of elements (three typed arrays per batch, moved
 * rather than copied, not one message per record), and takes the results back in the order it
 * sent them, so a checkpoint can still only pass records that are written.
 */

/** What every batch of one file is checked against. */
export interface CheckContext {
  readonly customerId: string;
  readonly dataset: string;
  /** Ring's schema file, as text (undefined: none). */
  readonly schemaText: string | undefined;
}

/**
 * Elements as they cross to a thread: their texts joined and encoded as UTF-8, each one's
 * length (in characters) and byte offset in the file. All three move rather than being copied:
 * a string would be copied by the structured clone, which costs about as much as parsing it.
 */
export interface ElementBatch {
  readonly utf8: Uint8Array<ArrayBuffer>;
  readonly lengths: Uint32Array<ArrayBuffer>;
  readonly starts: Float64Array<ArrayBuffer>;
}

/**
 * A checked batch, in element order. `sortKeys[i]` is element i's sort key, or null when it was
 * refused; `records` holds the valid elements' records in order, `rejects` the refused ones'
 * lines for `rejected/…jsonl`. `malformedAt` is the index of an element that is not JSON: the
 * batch stops there, as load does.
 */
export interface CheckedBatch {
  readonly partitionKey: string;
  readonly sortKeys: (string | null)[];
  readonly records: Record<string, unknown>[];
  readonly rejects: string[];
  readonly malformedAt?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One message's worth of elements. The text round-trips exactly: it was decoded from UTF-8. */
export function toBatch(elements: readonly JsonElement[]): ElementBatch {
  const lengths = new Uint32Array(elements.length);
  const starts = new Float64Array(elements.length);
  let text = '';
  for (let i = 0; i < elements.length; i++) {
    lengths[i] = elements[i].text.length;
    starts[i] = elements[i].start;
    text += elements[i].text;
  }
  return { utf8: encoder.encode(text), lengths, starts };
}

/** The checks of one file, compiled once: the function a thread (or the main thread) runs per batch. */
export function batchChecker(context: CheckContext): (batch: ElementBatch) => CheckedBatch {
  const validate = recordValidator(context.dataset, compileRingSchema(context.schemaText));
  // The partition key depends on the file alone: it crosses back once per batch.
  const partitionKey = recordKey(context.customerId, context.dataset, {}).pk;
  return (batch) => {
    const sortKeys: (string | null)[] = [];
    const records: Record<string, unknown>[] = [];
    const rejects: string[] = [];
    const text = decoder.decode(batch.utf8);
    let at = 0;
    for (let i = 0; i < batch.lengths.length; i++) {
      let record: unknown;
      try {
        record = JSON.parse(text.slice(at, (at += batch.lengths[i])));
      } catch {
        return { partitionKey, sortKeys, records, rejects, malformedAt: i };
      }
      const reasons = validate(record);
      if (reasons) {
        sortKeys.push(null);
        rejects.push(JSON.stringify({ offset: batch.starts[i], dataset: context.dataset, reasons, record }));
      } else {
        sortKeys.push(recordKey(context.customerId, context.dataset, record as Record<string, unknown>).sk);
        records.push(record as Record<string, unknown>);
      }
    }
    return { partitionKey, sortKeys, records, rejects };
  };
}

/**
 * `threads` worker threads running `script` (the bundle of record-thread.ts), each given the
 * next batch in turn. Results are taken back in the order the batches were sent.
 */
export class RecordThreads {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (result: CheckedBatch) => void; reject: (error: Error) => void }>();
  private sent = 0;
  private failure: Error | undefined;

  constructor(script: string, threads: number, context: CheckContext) {
    this.workers = Array.from({ length: threads }, () => {
      const worker = new Worker(script, { workerData: context });
      worker.on('message', ({ id, result }: { id: number; result: CheckedBatch }) => {
        this.waiting.get(id)?.resolve(result);
        this.waiting.delete(id);
      });
      // A thread that dies fails every batch still waiting, and every later one.
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => code !== 0 && this.fail(new Error(`a record thread exited with ${code}`)));
      return worker;
    });
  }

  check(batch: ElementBatch): Promise<CheckedBatch> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.sent++;
    const result = new Promise<CheckedBatch>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.workers[id % this.workers.length].postMessage({ id, batch }, [batch.utf8.buffer, batch.lengths.buffer, batch.starts.buffer]);
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const { reject } of this.waiting.values()) reject(error);
    this.waiting.clear();
  }
}
