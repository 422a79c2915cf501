/**
 * One measurement of the ingestion benchmark, in a process of its own so that its peak RSS is
 * its own: `node .build/bench-worker.js '<json task>'` prints one JSON line with the elapsed
 * time, the bytes and records it handled, and the process's peak RSS (getrusage maxRSS).
 * Built with esbuild, like a Lambda bundle, so no TypeScript loader adds to its memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { Readable } from 'node:stream';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbRecordWriter, HttpFileDownloader, S3RawObjectStore, S3RawReader } from '../lambdas/adapters/raw-files';
import { copyToS3 } from '../lambdas/core/ingest/fetch';
import { JsonElementSplitter } from '../lambdas/core/ingest/json-elements';
import { loadFile, recordValidator, type LoadDeps, type RawReader, type RecordItem } from '../lambdas/core/ingest/load';
import { recordKey } from '../lambdas/core/ingest/record-key';
import { compileRingSchema } from '../lambdas/core/ingest/ring-schema';
import { localAwsClients, type LocalEndpoints } from '../local/clients';
import { parseParallel } from './parallel';
import { cpuSecondsOf } from './proc-cpu';

export type WorkerTask =
  | { readonly kind: 'hash'; readonly path: string }
  | { readonly kind: 'hash-memory'; readonly bytes: number }
  | { readonly kind: 'download'; readonly url: string }
  | { readonly kind: 'fetch'; readonly url: string; readonly aws: AwsTarget; readonly key: string }
  | { readonly kind: 'upload'; readonly path: string; readonly aws: AwsTarget; readonly key: string }
  | { readonly kind: 'upload-memory'; readonly bytes: number; readonly aws: AwsTarget; readonly key: string }
  | { readonly kind: 'parse'; readonly path: string; readonly schemaPath: string }
  | { readonly kind: 'parse-parallel'; readonly path: string; readonly schemaPath: string; readonly threads: number }
  | { readonly kind: 'split'; readonly path: string }
  | { readonly kind: 'load'; readonly aws: AwsTarget; readonly key: string; readonly schemaKey: string; readonly customerId: string; readonly write: boolean }
  | { readonly kind: 'naive'; readonly path: string; readonly schemaPath: string }
  | { readonly kind: 'ceiling'; readonly aws: AwsTarget; readonly path: string; readonly customerId: string; readonly concurrency: number }
  | { readonly kind: 'reimport'; readonly aws: AwsTarget; readonly imports: readonly { readonly key: string; readonly queryId: string }[]; readonly schemaKey: string; readonly customerId: string };

export interface AwsTarget {
  readonly endpoints: LocalEndpoints;
  readonly region: string;
  readonly bucket: string;
  readonly recordsTable: string;
}

export interface WorkerResult {
  readonly ms: number;
  readonly bytes: number;
  readonly records?: number;
  readonly sha256?: string;
  readonly peakRssBytes: number;
  /**
   * CPU time (user + system, every thread) of the task, its process's start and module loading
   * left out: less skewed than `ms` when other work shares the cores.
   */
  readonly cpuMs: number;
  /** The main thread's share of `cpuMs` (Linux, 10 ms ticks; undefined elsewhere): what one thread did, without the collector's helpers. */
  readonly mainThreadCpuMs?: number;
  readonly error?: string;
  /** Per import of a `reimport` task: what DynamoDB billed for it, in capacity units. */
  readonly imports?: readonly ImportUse[];
}

export interface ImportUse {
  readonly queryId: string;
  readonly records: number;
  readonly recordsNew: number;
  readonly recordsUnchanged: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly ms: number;
}

const DATASET = 'Ring.EventManager.Events';
/** A records table that holds nothing and keeps nothing: parsing and validation alone. */
const DISCARD: LoadDeps['writer'] = { write: () => Promise.resolve([]), existing: () => Promise.resolve([]) };
const quiet = () => undefined;
const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
const clock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };

async function run(task: WorkerTask): Promise<Omit<WorkerResult, 'ms' | 'peakRssBytes' | 'cpuMs'>> {
  switch (task.kind) {
    case 'hash': {
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of createReadStream(task.path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      return { bytes, sha256: hash.digest('hex') };
    }
    case 'hash-memory': {
      // sha256 alone, no read: the same 1 MiB hashed until `bytes`.
      const hash = createHash('sha256');
      const block = memoryBlock();
      for (let done = 0; done < task.bytes; done += block.length) hash.update(done + block.length <= task.bytes ? block : block.subarray(0, task.bytes - done));
      hash.digest();
      return { bytes: task.bytes };
    }
    case 'download': {
      const bytes = await new Promise<number>((resolve, reject) => {
        get(task.url, (response) => {
          let received = 0;
          response.on('data', (chunk: Buffer) => (received += chunk.length));
          response.on('end', () => resolve(received));
          response.on('error', reject);
        }).on('error', reject);
      });
      return { bytes };
    }
    case 'fetch': {
      const clients = localAwsClients(task.aws.endpoints, task.aws.region);
      try {
        return await copyToS3({ downloader: new HttpFileDownloader(), objects: new S3RawObjectStore(clients.s3, task.aws.bucket) }, task.url, task.key, 'application/json');
      } finally {
        clients.destroy();
      }
    }
    case 'split': {
      // The floor under any streaming load: cut the elements and JSON.parse each, nothing else.
      const splitter = new JsonElementSplitter({ maxElementBytes: 8 * 1024 * 1024 });
      let bytes = 0;
      let records = 0;
      for await (const chunk of createReadStream(task.path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        for (const element of splitter.push(chunk)) if (JSON.parse(element.text) !== undefined) records++;
      }
      splitter.end();
      return { bytes, records };
    }
    case 'upload': {
      // The emulator's own intake: the same multipart upload from disk, no download, no hash.
      const clients = localAwsClients(task.aws.endpoints, task.aws.region);
      try {
        await new S3RawObjectStore(clients.s3, task.aws.bucket).upload(task.key, createReadStream(task.path, { highWaterMark: 1024 * 1024 }), 'application/json');
        return { bytes: statSync(task.path).size };
      } finally {
        clients.destroy();
      }
    }
    case 'upload-memory': {
      // The upload's own cost, no read: the same 1 MiB sent until `bytes`, as fetch sends a download.
      const clients = localAwsClients(task.aws.endpoints, task.aws.region);
      try {
        await new S3RawObjectStore(clients.s3, task.aws.bucket).upload(task.key, Readable.from(repeated(memoryBlock(), task.bytes)), 'application/json');
        return { bytes: task.bytes };
      } finally {
        clients.destroy();
      }
    }
    case 'parse': {
      // The load stage's own code on a file on disk, writes discarded: parse + validate + key.
      const raw: RawReader = {
        read: (_key, offset) => Promise.resolve(createReadStream(task.path, { start: offset, highWaterMark: 1024 * 1024 })),
        text: () => Promise.resolve(readFileSync(task.schemaPath, 'utf8')),
        putRejects: () => Promise.resolve(),
      };
      const outcome = await loadFile(loadDeps(raw, DISCARD), loadMessage('bench', 'file', 'schema'));
      return { bytes: outcome.stats?.bytes ?? 0, records: outcome.outcome === 'loaded' ? outcome.records : 0 };
    }
    case 'parse-parallel':
      // The same per-record work on `threads` worker threads (0: the main thread alone).
      return parseParallel(task);
    case 'load': {
      const clients = localAwsClients(task.aws.endpoints, task.aws.region);
      try {
        const raw = new S3RawReader(clients.s3, task.aws.bucket);
        const writer = task.write ? new DynamoDbRecordWriter(clients.documents, task.aws.recordsTable) : DISCARD;
        const outcome = await loadFile(loadDeps(raw, writer), loadMessage(task.customerId, task.key, task.schemaKey));
        return { bytes: outcome.stats?.bytes ?? 0, records: outcome.outcome === 'loaded' ? outcome.records : 0 };
      } finally {
        clients.destroy();
      }
    }
    case 'reimport': {
      // The same customer imported again and again: what each import costs in DynamoDB capacity.
      const clients = localAwsClients(task.aws.endpoints, task.aws.region);
      try {
        const used = meterCapacity(clients.dynamodb);
        const deps = loadDeps(new S3RawReader(clients.s3, task.aws.bucket), new DynamoDbRecordWriter(clients.documents, task.aws.recordsTable));
        const imports: ImportUse[] = [];
        for (const { key, queryId } of task.imports) {
          const before = { ...used };
          const started = performance.now();
          const outcome = await loadFile(deps, loadMessage(task.customerId, key, task.schemaKey, queryId));
          if (outcome.outcome !== 'loaded') throw new Error(`import ${queryId} ended ${outcome.outcome}`);
          const { records, recordsNew, recordsUnchanged } = outcome.stats;
          imports.push({ queryId, records, recordsNew, recordsUnchanged, writeUnits: used.writeUnits - before.writeUnits, readUnits: used.readUnits - before.readUnits, ms: performance.now() - started });
        }
        return { bytes: 0, records: imports.reduce((sum, entry) => sum + entry.records, 0), imports };
      } finally {
        clients.destroy();
      }
    }
    case 'naive': {
      // What an importer without streaming does: the whole file as one string, one JSON.parse.
      const buffer = readFileSync(task.path);
      const records = JSON.parse(buffer.toString('utf8')) as Record<string, unknown>[];
      // The same checks as load: its validator (one pass of Ring's schema and ours) and its key.
      const validate = recordValidator(DATASET, compileRingSchema(readFileSync(task.schemaPath, 'utf8')));
      let valid = 0;
      for (const record of records) {
        if (!validate(record)) valid++;
        recordKey('naive', DATASET, record);
      }
      return { bytes: buffer.length, records: valid };
    }
    case 'ceiling': {
      // The emulator's own BatchWriteItem rate for the same items, keyed as the load keys them.
      const items: RecordItem[] = [];
      const splitter = new JsonElementSplitter({ maxElementBytes: 8 * 1024 * 1024 });
      for await (const chunk of createReadStream(task.path) as AsyncIterable<Buffer>) {
        for (const element of splitter.push(chunk)) {
          const record = JSON.parse(element.text) as Record<string, unknown>;
          items.push({ ...recordKey(task.customerId, DATASET, record), record, queryId: 'bench', sourceKey: 'bench', ingestedAt: new Date().toISOString() });
        }
      }
      splitter.end();
      const clients = localAwsClients(task.aws.endpoints, task.aws.region);
      const started = performance.now();
      try {
        let next = 0;
        const lane = async () => {
          while (next < items.length) {
            const batch = items.slice(next, next + 25);
            next += 25;
            let pending = batch.map((Item) => ({ PutRequest: { Item } }));
            while (pending.length > 0) {
              const result = await clients.documents.send(new BatchWriteCommand({ RequestItems: { [task.aws.recordsTable]: pending } }));
              pending = (result.UnprocessedItems?.[task.aws.recordsTable] ?? []) as typeof pending;
            }
          }
        };
        await Promise.all(Array.from({ length: task.concurrency }, lane));
      } finally {
        clients.destroy();
      }
      // Only the writes are timed: report them as the whole measurement.
      return { bytes: 0, records: items.length, writeMs: performance.now() - started } as Omit<WorkerResult, 'ms' | 'peakRssBytes' | 'cpuMs'>;
    }
  }
}

/**
 * Asks DynamoDB (here the emulator, which applies the same rounding: 1 KB per write unit, 4 KB
 * per read unit, half for eventually consistent reads) for the capacity every batch call
 * consumed, and adds it up: the bill of an import, measured rather than estimated.
 */
function meterCapacity(client: DynamoDBClient): { writeUnits: number; readUnits: number } {
  const used = { writeUnits: 0, readUnits: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const kind = context.commandName === 'BatchWriteItemCommand' ? 'writeUnits' : context.commandName === 'BatchGetItemCommand' ? 'readUnits' : undefined;
      if (kind) (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      if (kind) used[kind] += ((result.output as { ConsumedCapacity?: { CapacityUnits?: number }[] }).ConsumedCapacity ?? []).reduce((sum, entry) => sum + (entry.CapacityUnits ?? 0), 0);
      return result;
    },
    { step: 'initialize', name: 'meterCapacity' },
  );
  return used;
}

function loadDeps(raw: RawReader, writer: LoadDeps['writer']): LoadDeps {
  return {
    store: { progress: () => Promise.resolve({ done: false }), saveCheckpoint: () => Promise.resolve(true), finish: () => Promise.resolve(true) },
    connections: { get: (customerId) => Promise.resolve({ customerId, brand: 'ring', region: 'eu-west-1', scopeId: 'data-portability', status: 'ACTIVE', secretId: 'bench', connectedAt: new Date().toISOString() }) },
    writer,
    raw,
    clock,
    logger,
  };
}

/** CPU of this process's main thread so far (Linux), else undefined. */
function mainThreadCpuMs(): number | undefined {
  try {
    return cpuSecondsOf(process.pid, String(process.pid)) * 1000;
  } catch {
    return undefined;
  }
}

/** 1 MiB of JSON-like bytes, for the measurements without a file. */
function memoryBlock(): Buffer {
  return Buffer.alloc(1024 * 1024, '{"eventType":"motion","duration":12},\n');
}

/** `block` again and again, `bytes` in all (the last one cut). */
function* repeated(block: Buffer, bytes: number): Generator<Buffer> {
  for (let done = 0; done < bytes; done += block.length) yield done + block.length <= bytes ? block : block.subarray(0, bytes - done);
}

function loadMessage(customerId: string, key: string, schemaKey: string, queryId = 'bench') {
  return { queryId, customerId, n: 0, dataset: DATASET, key, schemaKey, bytes: 0, sha256: '' };
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? '{}') as WorkerTask;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const mainBefore = mainThreadCpuMs();
  let result: Omit<WorkerResult, 'ms' | 'peakRssBytes' | 'cpuMs'> & { writeMs?: number };
  try {
    result = await run(task);
  } catch (error) {
    result = { bytes: 0, error: `${(error as Error).name}: ${(error as Error).message}`.slice(0, 300) };
  }
  const { writeMs, ...rest } = result;
  const cpu = process.cpuUsage(cpuBefore);
  const mainAfter = mainThreadCpuMs();
  const output: WorkerResult = {
    ...rest,
    ms: writeMs ?? performance.now() - started,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    cpuMs: (cpu.user + cpu.system) / 1000,
    mainThreadCpuMs: mainBefore === undefined || mainAfter === undefined ? undefined : mainAfter - mainBefore,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
