/**
 * The body of one record thread (RecordThreads in record-threads.ts): checks each batch it is sent
 * against the file's context, given once as `workerData`, and posts the result back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { batchChecker, type CheckContext, type ElementBatch } from './record-threads';

const check = batchChecker(workerData as CheckContext);

parentPort?.on('message', ({ id, batch }: { id: number; batch: ElementBatch }) => {
  parentPort?.postMessage({ id, result: check(batch) });
});
