/**
 * dynalite's write and read rate in memory against on disk (its LevelDB mode, `dynalite({ path })`),
 * measured in the same run with records shaped like load's items (a ~570-byte Ring event under
 * the records table's keys), written as load writes them: BatchWriteItem of 25, a few batches in
 * flight, after a BatchGetItem of the same keys (the incremental import's existence read).
 *
 *   npx tsx bench/dynalite-storage.ts                      # 20,000 records, 4 batches in flight
 *   npx tsx bench/dynalite-storage.ts --records 50000 --in-flight 8
 *
 * Each mode runs in this one process, one after the other, twice (in memory, on disk, in memory,
 * on disk) so that a machine that grew busier in the middle shows as a difference between the
 * two rounds of one mode rather than between modes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { recordItem, recordsTableAt } from './records-table';

const { values } = parseArgs({ options: { records: { type: 'string', default: '20000' }, 'in-flight': { type: 'string', default: '4' } } });
const RECORDS = Number(values.records);
const IN_FLIGHT = Number(values['in-flight']);
if (!(Number.isInteger(RECORDS) && RECORDS >= 25) || !(Number.isInteger(IN_FLIGHT) && IN_FLIGHT >= 1)) throw new Error('--records must be 25 or more and --in-flight 1 or more');

async function inBatches(count: number, size: number, send: (from: number, to: number) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  for (let from = 0; from < count; from += size) {
    while (running.size >= IN_FLIGHT) await Promise.race(running);
    const batch = send(from, Math.min(count, from + size)).then(() => void running.delete(batch));
    running.add(batch);
  }
  await Promise.all(running);
}

async function measure(mode: 'memory' | 'disk'): Promise<{ writesPerSecond: number; readsPerSecond: number }> {
  const directory = mode === 'disk' ? mkdtempSync(path.join(tmpdir(), 'dynalite-bench-')) : undefined;
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(directory ? { path: directory } : {}) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let client: DynamoDBClient | undefined;
  try {
    const table = await recordsTableAt(endpoint);
    client = table.client;
    const { documents } = table;
    const readStarted = performance.now();
    await inBatches(RECORDS, 100, async (from, to) => {
      const Keys = Array.from({ length: to - from }, (_, i) => {
        const { pk, sk } = recordItem(from + i, 300);
        return { pk, sk };
      });
      await documents.send(new BatchGetCommand({ RequestItems: { records: { Keys } } }));
    });
    const readSeconds = (performance.now() - readStarted) / 1000;
    const writeStarted = performance.now();
    await inBatches(RECORDS, 25, async (from, to) => {
      let pending = Array.from({ length: to - from }, (_, i) => ({ PutRequest: { Item: recordItem(from + i, 300) } }));
      while (pending.length > 0) {
        const result = await documents.send(new BatchWriteCommand({ RequestItems: { records: pending } }));
        pending = (result.UnprocessedItems?.records ?? []) as typeof pending;
      }
    });
    const writeSeconds = (performance.now() - writeStarted) / 1000;
    return { writesPerSecond: RECORDS / writeSeconds, readsPerSecond: RECORDS / readSeconds };
  } finally {
    client?.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (directory) rmSync(directory, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`dynalite: ${RECORDS} records of ~570 bytes, BatchGetItem of 100 then BatchWriteItem of 25, ${IN_FLIGHT} in flight`);
  for (const round of [1, 2]) {
    for (const mode of ['memory', 'disk'] as const) {
      const result = await measure(mode);
      console.log(`  round ${round}  ${mode.padEnd(6)}  writes ${result.writesPerSecond.toFixed(0).padStart(6)} records/s   existence reads ${result.readsPerSecond.toFixed(0).padStart(6)} keys/s`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
