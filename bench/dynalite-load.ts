/**
 * The local DynamoDB's CPU per record under load's pattern: dynalite in its own process, on
 * disk, as `npm start` runs it (local/dynamodb-process.ts), sent what load sends for a new
 * file — a BatchGetItem of 100 keys (the existence read, with load's projection), then the
 * absent records as BatchWriteItem of 25 — with 4 such batches in flight. Prints the CPU time
 * of dynalite's process and of this one (the SDK clients) per record: CPU time, unlike
 * records per second, says the same on a busy machine as on an idle one. Each round writes new
 * records into the same table, so a later round shows what a fuller LevelDB costs (compaction).
 *
 *   npx tsx bench/dynalite-load.ts                   # 40,000 records
 *   npx tsx bench/dynalite-load.ts --records 100000 --rounds 2
 *   npx tsx bench/dynalite-load.ts --profile DIR      # dynalite's process under node --cpu-prof, its profile in DIR
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbProcess } from '../local/dynamodb-process';
import { cpuSecondsOf } from './proc-cpu';
import { recordItem, recordsTableAt } from './records-table';

const { values } = parseArgs({ options: { records: { type: 'string', default: '40000' }, rounds: { type: 'string', default: '1' }, profile: { type: 'string' } } });
const RECORDS = Number(values.records);
const ROUNDS = Number(values.rounds);
if (!(Number.isInteger(RECORDS) && RECORDS >= 100)) throw new Error('--records must be an integer of 100 or more');
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1)) throw new Error('--rounds must be an integer of 1 or more');
const IN_FLIGHT = 4;


/** CPU seconds by thread name (the main thread is `node`, libuv's pool `libuv-worker`, V8's `V8Worker`…). */
function threadCpuOf(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    const name = thread === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${thread}/comm`, 'utf8').trim();
    byName.set(name, (byName.get(name) ?? 0) + cpuSecondsOf(pid, thread));
  }
  return byName;
}

async function main(): Promise<void> {
  const directory = mkdtempSync(path.join(tmpdir(), 'dynalite-load-'));
  const dynamodb = await startDynamoDbProcess({ path: directory }, values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : []);
  let client: DynamoDBClient | undefined;
  try {
    const table = await recordsTableAt(dynamodb.endpoint);
    client = table.client;
    const { documents } = table;
    for (let round = 0; round < ROUNDS; round++) {
      const base = round * RECORDS;
      const childBefore = cpuSecondsOf(dynamodb.pid);
      const threadsBefore = threadCpuOf(dynamodb.pid);
      const ownBefore = process.cpuUsage();
      const started = performance.now();
      const running = new Set<Promise<void>>();
      for (let from = base; from < base + RECORDS; from += 100) {
        while (running.size >= IN_FLIGHT) await Promise.race(running);
        const batch = readThenWrite(documents, from, Math.min(base + RECORDS, from + 100)).then(() => void running.delete(batch));
        running.add(batch);
      }
      await Promise.all(running);
      const seconds = (performance.now() - started) / 1000;
      const own = process.cpuUsage(ownBefore);
      const child = cpuSecondsOf(dynamodb.pid) - childBefore;
      const perRecord = (cpuSeconds: number) => `${((cpuSeconds * 1e6) / RECORDS).toFixed(0)} µs`;
      console.log(
        `${RECORDS} records: dynalite ${perRecord(child)} of CPU per record, client ${perRecord((own.user + own.system) / 1e6)}; ${(RECORDS / seconds).toFixed(0)} records/s (wall)`,
      );
      const threads = [...threadCpuOf(dynamodb.pid)].map(([name, cpu]) => [name, cpu - (threadsBefore.get(name) ?? 0)] as const).filter(([, cpu]) => cpu > 0);
      console.log(`  dynalite's threads: ${threads.map(([name, cpu]) => `${name} ${perRecord(cpu)}`).join(', ')}`);
    }
  } finally {
    client?.destroy();
    await dynamodb.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

async function readThenWrite(documents: DynamoDBDocumentClient, from: number, to: number): Promise<void> {
  const items = Array.from({ length: to - from }, (_, i) => recordItem(from + i));
  const Keys = items.map(({ pk, sk }) => ({ pk, sk }));
  const found = await documents.send(new BatchGetCommand({ RequestItems: { records: { Keys, ProjectionExpression: 'pk, sk, queryId, sourceKey, sourceOffset, ingestedAt, pointer' } } }));
  if ((found.Responses?.records ?? []).length > 0) throw new Error('the bench writes new keys only');
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const result = await documents.send(new BatchWriteCommand({ RequestItems: { records: pending } }));
      pending = (result.UnprocessedItems?.records ?? []) as typeof pending;
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
