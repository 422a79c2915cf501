import { randomUUID } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface PollerOptions {
  readonly name: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  /** Messages per invocation, as the event source mapping's batchSize. */
  readonly batchSize: number;
  /** Invocations at once, as the event source mapping's maxConcurrency. */
  readonly concurrency: number;
  /** The function's timeout: what getRemainingTimeInMillis counts down from. */
  readonly timeoutSeconds: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * What Lambda's SQS event source mapping does, for one queue: receive up to `batchSize`
 * messages, invoke the handler with them as an SQS event, delete the ones it did not report
 * as failed (partial batch response). A failed message stays in the queue and comes back when
 * its visibility timeout ends; after maxReceiveCount receives the queue's redrive policy moves
 * it to the dead-letter queue.
 */
export class SqsPoller {
  private running = false;
  private readonly lanes: Promise<void>[] = [];
  /** Invocations under way right now. */
  busy = 0;

  constructor(
    private readonly sqs: SQSClient,
    private readonly handler: SqsHandler,
    private readonly options: PollerOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < this.options.concurrency; i++) this.lanes.push(this.lane());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.lanes.splice(0));
  }

  private async lane(): Promise<void> {
    while (this.running) {
      try {
        const { Messages } = await this.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: this.options.queueUrl, MaxNumberOfMessages: this.options.batchSize, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
        );
        if (!Messages || Messages.length === 0) continue;
        this.busy++;
        try {
          await this.invoke(Messages);
        } finally {
          this.busy--;
        }
      } catch (error) {
        if (!this.running) return;
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async invoke(messages: Message[]): Promise<void> {
    const deadline = Date.now() + this.options.timeoutSeconds * 1000;
    const context = { functionName: this.options.name, awsRequestId: randomUUID(), getRemainingTimeInMillis: () => deadline - Date.now() } as unknown as Context;
    let failed: Set<string>;
    try {
      const response = await this.handler(toEvent(messages, this.options), context);
      failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      // The whole invocation failed: every message comes back.
      this.options.onError?.(error);
      return;
    }
    const done = messages.filter((message) => !failed.has(message.MessageId!));
    if (done.length === 0) return;
    await this.sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: done.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle! })) }),
    );
  }
}

function toEvent(messages: Message[], options: PollerOptions): SQSEvent {
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId!,
      receiptHandle: message.ReceiptHandle!,
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: message.Attributes?.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: options.queueArn,
      awsRegion: options.region,
    })),
  };
}
