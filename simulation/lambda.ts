import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { MemoryQueue } from '../local/memory/queue';
import type { Engine } from './engine';

/** A Lambda context on virtual time: the invocation's remaining time counts down with the simulation's clock. */
export function lambdaContext(engine: Engine, functionName: string, timeoutSeconds: number): Context {
  const deadline = engine.now() + timeoutSeconds * 1000;
  return {
    functionName,
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, deadline - engine.now()),
  } as unknown as Context;
}

/** An API Gateway HTTP API (payload 2.0) event for a request the simulation makes itself. */
export function httpEvent(input: { method: string; path: string; headers?: Record<string, string>; query?: Record<string, string>; body?: string; now: number }): APIGatewayProxyEventV2 {
  const routeKey = `${input.method} ${input.path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: input.path,
    rawQueryString: new URLSearchParams(input.query ?? {}).toString(),
    headers: { host: 'simulation.local', ...input.headers },
    queryStringParameters: input.query,
    body: input.body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'simulation',
      domainName: 'simulation.local',
      domainPrefix: 'simulation',
      http: { method: input.method, path: input.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'simulation' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date(input.now).toISOString(),
      timeEpoch: input.now,
    },
  };
}

export interface ConsumerOptions {
  readonly name: string;
  readonly batchSize: number;
  /** Invocations at once (the function's reserved concurrency / the mapping's maximum concurrency). */
  readonly concurrency: number;
  readonly timeoutSeconds: number;
}

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * A Lambda event source mapping on a MemoryQueue: whenever messages are visible, up to
 * `concurrency` invocations of up to `batchSize` messages each; the messages of a successful
 * invocation are deleted, the failed ones (ReportBatchItemFailures) stay in flight until the
 * handler's `retryAfter` or the visibility timeout makes them visible again, and an invocation
 * that throws leaves its whole batch in flight.
 */
export class QueueConsumer {
  private inFlight = 0;
  private readonly polls = new Set<number>();

  constructor(
    private readonly engine: Engine,
    private readonly queue: MemoryQueue,
    private readonly handler: SqsHandler,
    private readonly options: ConsumerOptions,
  ) {}

  /** Polls at `at` (once per moment, however many messages become visible then). */
  wake(at: number): void {
    const when = Math.max(at, this.engine.now());
    if (this.polls.has(when)) return;
    this.polls.add(when);
    this.engine.at(when, `simulation:poll ${this.options.name}`, () => {
      this.polls.delete(when);
      this.poll();
      return Promise.resolve();
    });
  }

  private poll(): void {
    while (this.inFlight < this.options.concurrency) {
      const batch = this.queue.receive(this.options.batchSize);
      if (batch.length === 0) return;
      this.inFlight++;
      void this.engine.spawn(this.options.name, async () => {
        try {
          const event: SQSEvent = {
            Records: batch.map((message) => ({
              messageId: message.messageId,
              receiptHandle: message.receiptHandle!,
              body: message.body,
              attributes: {
                ApproximateReceiveCount: String(message.receiveCount),
                SentTimestamp: String(message.sentAt),
                SenderId: 'simulation',
                ApproximateFirstReceiveTimestamp: String(this.engine.now()),
              },
              messageAttributes: {},
              md5OfBody: '',
              eventSource: 'aws:sqs',
              eventSourceARN: `arn:aws:sqs:eu-west-1:123456789012:${this.queue.name}`,
              awsRegion: 'eu-west-1',
            })),
          };
          const { batchItemFailures } = await this.handler(event, lambdaContext(this.engine, this.options.name, this.options.timeoutSeconds));
          const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
          for (const message of batch) if (!failed.has(message.messageId)) this.queue.delete(message.receiptHandle!);
        } finally {
          this.inFlight--;
          this.poll();
        }
      });
    }
  }
}

/**
 * Counts the calls made to a store (and the items a listing yields) against the invocation
 * making them: the work each invocation does, whatever store it is.
 */
export function metered<T extends object>(engine: Engine, store: T): T {
  const wrapped = new Map<PropertyKey, unknown>();
  const count = (n = 1) => {
    const invocation = engine.current();
    if (invocation) invocation.operations += n;
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      let wrapper = wrapped.get(property);
      if (!wrapper) {
        wrapper = (...args: unknown[]) => {
          count();
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          return isAsyncIterable(result) ? countItems(result, count) : result;
        };
        wrapped.set(property, wrapper);
      }
      return wrapper;
    },
  });
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && !(value instanceof Promise) && Symbol.asyncIterator in value;
}

async function* countItems<T>(items: AsyncIterable<T>, count: () => void): AsyncGenerator<T> {
  for await (const item of items) {
    count();
    yield item;
  }
}
