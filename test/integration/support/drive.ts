import type { SQSBatchResponse, SQSEvent, Context } from 'aws-lambda';
import { DynamoDbCollectStore, DynamoDbCompletionStore, DynamoDbFetchStore, DynamoDbLoadStore } from '../../../lambdas/adapters/ingest-store';
import { DynamoDbRecordWriter, HttpFileDownloader, S3RawObjectStore, S3RawReader } from '../../../lambdas/adapters/raw-files';
import { makeCollectHandler } from '../../../lambdas/collect/app';
import { completeIfLastFile } from '../../../lambdas/core/ingest/complete';
import type { LoadDeps } from '../../../lambdas/core/ingest/load';
import type { FetchDeps } from '../../../lambdas/core/ingest/fetch';
import type { CollectDeps } from '../../../lambdas/core/ingest/collect';
import type { WorkQueue } from '../../../lambdas/core/ports';
import { makeFetchHandler } from '../../../lambdas/fetch/app';
import { makeLoadHandler } from '../../../lambdas/load/app';
import type { ConnectWorld } from './connect-world';
import { LONG_CONTEXT } from './pipeline';
import { sqsEvent } from './sqs-event';

/** Wraps a function so that its calls numbered `nth` (from 1) throw, as a process dying there would. */
export function crashOn<A extends unknown[], R>(fn: (...args: A) => Promise<R>, nth: number[], where: string): (...args: A) => Promise<R> {
  let calls = 0;
  return (...args) => (nth.includes(++calls) ? Promise.reject(new Error(`crash ${where} (injected)`)) : fn(...args));
}

/** Where the stages may be made to die: each hook wraps one of their collaborators. */
export interface Crashes {
  readonly collect?: (deps: CollectDeps) => CollectDeps;
  readonly fetch?: (deps: FetchDeps) => FetchDeps;
  readonly load?: (deps: LoadDeps) => LoadDeps;
}

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

type Stage = 'completed' | 'files' | 'loads';

/**
 * The three ingestion stages wired to this world as Lambda would run them, with in-memory
 * queues between them that behave like SQS: every message is delivered `copies` times at once
 * (concurrent invocations), a message whose invocation fails is delivered again, and a message
 * sent back with a delay waits for the sandbox clock to reach its time.
 */
export function ingestion(world: ConnectWorld, options: { copies?: number; crashes?: Crashes } = {}) {
  const queues: Record<Stage, unknown[]> = { completed: [], files: [], loads: [] };
  const queue = (name: Stage): WorkQueue => ({ send: (body) => Promise.resolve(void queues[name].push(body)) });
  const { documents, s3 } = world.aws.clients;
  const crashes = options.crashes ?? {};
  const common = { connections: world.connections, intake: world.intake, imports: world.connectDeps.imports, clock: world.clock, logger: world.logger };

  const collectDeps: CollectDeps = { ...common, store: new DynamoDbCollectStore(documents, world.table), files: queue('files') };
  const fetchDeps: FetchDeps = {
    ...common,
    store: new DynamoDbFetchStore(documents, world.table),
    failQuery: (queryId, reason, now) => new DynamoDbCollectStore(documents, world.table).fail(queryId, reason, now),
    downloader: new HttpFileDownloader(),
    objects: new S3RawObjectStore(s3, world.aws.resources.rawDataBucket),
    loads: queue('loads'),
  };
  const raw = new S3RawReader(s3, world.aws.resources.rawDataBucket);
  const completion = { store: new DynamoDbCompletionStore(documents, world.table), manifests: raw, connections: world.connections, clock: world.clock, logger: world.logger };
  const loadDeps: LoadDeps = {
    store: new DynamoDbLoadStore(documents, world.table),
    connections: world.connections,
    writer: new DynamoDbRecordWriter(documents, world.aws.resources.recordsTable),
    raw,
    onFileLoaded: (query) => completeIfLastFile(completion, query),
    clock: world.clock,
    logger: world.logger,
    checkpointEvery: 40,
  };
  const handlers: Record<Stage, Handler> = {
    completed: makeCollectHandler({ ...(crashes.collect?.(collectDeps) ?? collectDeps), completedQueue: queue('completed') }),
    files: makeFetchHandler({ ...(crashes.fetch?.(fetchDeps) ?? fetchDeps), filesQueue: queue('files') }),
    loads: makeLoadHandler({ ...(crashes.load?.(loadDeps) ?? loadDeps), loadsQueue: queue('loads') }),
  };
  const delivered = { completed: 0, files: 0, loads: 0, failed: 0 };

  return {
    delivered,
    loadDeps,
    /** The messages waiting on a stage's queue (the array itself: splice to take some). */
    pending: (stage: Stage) => queues[stage],
    /** Puts completed-query messages on the collect stage's queue. */
    enqueue: (...bodies: unknown[]) => void queues.completed.push(...bodies),
    /** Delivers until every queue is empty, or until only `stopBefore`'s stage and later have messages. */
    async run(limits: { maxRounds?: number; stopBefore?: Stage } = {}) {
      const stages: Stage[] = ['completed', 'files', 'loads'];
      const allowed = limits.stopBefore ? stages.slice(0, stages.indexOf(limits.stopBefore)) : stages;
      for (let round = 0; ; round++) {
        const name = allowed.find((stage) => queues[stage].length > 0);
        if (!name) return delivered;
        if (round >= (limits.maxRounds ?? 60)) throw new Error(`the pipeline did not drain in ${round} rounds: ${JSON.stringify({ completed: queues.completed.length, files: queues.files.length, loads: queues.loads.length })}`);
        const bodies = queues[name].splice(0);
        // A message sent back for later: SQS would hold it until then.
        const due = Math.max(...bodies.map((body) => ((body as { notBefore?: number }).notBefore ?? 0) - world.clock.now()));
        if (due > 0) world.sandbox.clock.advance(due);
        // Concurrent invocations are actors in virtual time: it moves only when all of them wait.
        const results = await world.together(
          bodies.flatMap((body) =>
            Array.from({ length: options.copies ?? 1 }, () => async () => {
              delivered[name]++;
              const { batchItemFailures } = await handlers[name](sqsEvent([{ body }]), LONG_CONTEXT);
              return batchItemFailures.length > 0 ? body : undefined;
            }),
          ),
        );
        // Failed invocations: SQS delivers the message again (once, whatever the number of copies that failed).
        const failed = [...new Set(results.filter((body) => body !== undefined))];
        delivered.failed += failed.length;
        queues[name].push(...failed);
      }
    },
  };
}

/** Runs completed-query messages through the whole pipeline until every queue is empty. */
export async function drive(world: ConnectWorld, completed: unknown[], options: { copies?: number; crashes?: Crashes; maxRounds?: number } = {}) {
  const pipeline = ingestion(world, options);
  pipeline.enqueue(...completed);
  return pipeline.run({ maxRounds: options.maxRounds });
}
