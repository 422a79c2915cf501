import { randomUUID } from 'node:crypto';
import type { WorkQueue } from '../../lambdas/core/ports';

/** SQS refuses a delay longer than 15 minutes and a body over 256 KiB. */
const MAX_DELAY_SECONDS = 900;
const MAX_BODY_BYTES = 256 * 1024;

export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  /** How often it was received (ApproximateReceiveCount). */
  receiveCount: number;
  /** When it can next be received: after its delay, or once its visibility timeout ends. */
  visibleAt: number;
  /** The handle of its latest receive; a stale one cannot change or delete it. */
  receiptHandle?: string;
}

export interface MemoryQueueOptions {
  readonly name: string;
  /** Where time comes from: the simulation's clock. */
  readonly now: () => number;
  readonly visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the dead-letter queue (the redrive policy). */
  readonly maxReceiveCount: number;
  /** Told when a message becomes visible at `at` (sent with a delay, or made visible again). */
  readonly onVisibleAt?: (at: number) => void;
}

/**
 * An SQS standard queue in memory, as lambdas/adapters/aws-admin.ts `SqsWorkQueue` uses it and a
 * Lambda event source mapping consumes it: a delay per message (at most 15 minutes), a
 * visibility timeout once received, `retryAfter` as ChangeMessageVisibility on the latest
 * receipt handle, deletion by receipt handle, and a redrive policy: a message received more
 * than `maxReceiveCount` times goes to the dead-letter queue instead of being delivered.
 * Delivery is at least once, as SQS's; unlike SQS, it never delivers a message twice unasked.
 */
export class MemoryQueue implements WorkQueue {
  private readonly messages = new Map<string, QueueMessage>();
  private readonly handles = new Map<string, string>();
  readonly deadLetters: QueueMessage[] = [];
  sent = 0;

  constructor(private readonly options: MemoryQueueOptions) {}

  get name(): string {
    return this.options.name;
  }

  send(body: object, options: { delaySeconds?: number } = {}): Promise<void> {
    const delaySeconds = options.delaySeconds ?? 0;
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > MAX_DELAY_SECONDS) {
      return Promise.reject(new Error(`InvalidParameterValue: DelaySeconds must be an integer from 0 to ${MAX_DELAY_SECONDS}, got ${delaySeconds}`));
    }
    const text = JSON.stringify(body);
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) return Promise.reject(new Error('InvalidParameterValue: the message is over 256 KiB'));
    const now = this.options.now();
    const message: QueueMessage = { messageId: randomUUID(), body: text, sentAt: now, receiveCount: 0, visibleAt: now + delaySeconds * 1000 };
    this.messages.set(message.messageId, message);
    this.sent++;
    this.options.onVisibleAt?.(message.visibleAt);
    return Promise.resolve();
  }

  /** Receives up to `max` visible messages, oldest first: each becomes invisible for the visibility timeout. */
  receive(max: number): QueueMessage[] {
    const now = this.options.now();
    const visible = [...this.messages.values()].filter((message) => message.visibleAt <= now).sort((a, b) => a.visibleAt - b.visibleAt || a.sentAt - b.sentAt);
    const received: QueueMessage[] = [];
    for (const message of visible) {
      if (received.length >= max) break;
      if (message.receiveCount >= this.options.maxReceiveCount) {
        this.forget(message);
        this.deadLetters.push(message);
        continue;
      }
      if (message.receiptHandle) this.handles.delete(message.receiptHandle);
      message.receiveCount++;
      message.receiptHandle = randomUUID();
      this.handles.set(message.receiptHandle, message.messageId);
      message.visibleAt = now + this.options.visibilityTimeoutSeconds * 1000;
      this.options.onVisibleAt?.(message.visibleAt);
      received.push({ ...message });
    }
    return received;
  }

  delete(receiptHandle: string): void {
    const message = this.byHandle(receiptHandle);
    if (message) this.forget(message);
  }

  /** ChangeMessageVisibility: visible again `seconds` from now. */
  retryAfter(receiptHandle: string, seconds: number): Promise<void> {
    const message = this.byHandle(receiptHandle);
    if (!message || message.visibleAt <= this.options.now()) return Promise.reject(new Error('MessageNotInflight: the receipt handle is not that of a message in flight'));
    message.visibleAt = this.options.now() + seconds * 1000;
    this.options.onVisibleAt?.(message.visibleAt);
    return Promise.resolve();
  }

  /** Messages waiting or in flight (ApproximateNumberOfMessages + …NotVisible). */
  get size(): number {
    return this.messages.size;
  }

  /** When the next message becomes visible (now, if one is), or undefined when the queue is empty. */
  nextVisibleAt(): number | undefined {
    let earliest: number | undefined;
    for (const message of this.messages.values()) if (earliest === undefined || message.visibleAt < earliest) earliest = message.visibleAt;
    return earliest;
  }

  private byHandle(receiptHandle: string): QueueMessage | undefined {
    const messageId = this.handles.get(receiptHandle);
    return messageId === undefined ? undefined : this.messages.get(messageId);
  }

  private forget(message: QueueMessage): void {
    this.messages.delete(message.messageId);
    if (message.receiptHandle) this.handles.delete(message.receiptHandle);
  }
}
