// Durable SQS for fauxqs: its in-memory SqsStore (node_modules/fauxqs/dist/sqs/sqsStore.js),
// with every change that matters after a crash appended to a journal before fauxqs answers.
// fauxqs calls the store synchronously inside the request, so a synchronous append there lands
// in the file (the kernel's page cache) before the 200 is sent: a message whose SendMessage was
// answered survives `kill -9` of the whole tree. At-least-once, as SQS is: a deletion lost to a
// kill brings its message back, and a message received but not deleted is visible again after
// a restart (its visibility timeout is not kept, like a consumer's lease). Receive counts are
// kept, so redrive to a dead-letter queue happens after the same number of receives.
//
// Journal records, one JSON object a line:
//   {t:'Q', name, arn, attributes, tags, created}   a queue was created
//   {t:'A', q, attributes}                         attributes set
//   {t:'X', q}                                     queue deleted
//   {t:'S', q, m}                                  message m is in queue q (sent, or moved there by redrive)
//   {t:'R', q, id}                                 message id was received once more
//   {t:'D', q, id}                                 message id left queue q (deleted, or moved by redrive)
//   {t:'P', q}                                     queue purged
// On start the journal is replayed and rewritten as a snapshot (temporary file + rename); it is
// compacted the same way whenever it holds many more records than live messages.
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { URL } from 'node:url';

const { SqsStore } = await import(new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs')).href);

/** Compact once the journal has this many records more than a snapshot would… */
const COMPACT_MIN_RECORDS = 50_000;
/** …and at least this many times as many. */
const COMPACT_RATIO = 4;

export class DurableSqsStore extends SqsStore {
  /** Replaying: the changes are the journal's own, not new ones. */
  replaying = false;
  records = 0;
  /** Which queue holds each message object, to tell a redrive (a move) from a send. */
  homes = new WeakMap();

  constructor(dir) {
    super();
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, 'sqs-journal.ndjson');
  }

  /**
   * Replays the journal into queues whose URLs use `port` (the port changes between runs; a
   * queue's URL names it) and rewrites it as a snapshot. Call once the server listens, before
   * it takes requests.
   */
  restore(port) {
    const queues = new Map();
    if (existsSync(this.file)) {
      for (const line of readFileSync(this.file, 'utf8').split('\n')) {
        if (!line) continue;
        let record;
        try {
          record = JSON.parse(line);
        } catch {
          continue; // a line cut short by a kill: its request was never answered
        }
        apply(queues, record);
      }
    }
    this.replaying = true;
    try {
      for (const [name, saved] of queues) {
        const region = saved.arn.split(':')[3];
        const url = this.buildQueueUrl(name, String(port), `127.0.0.1:${port}`, region);
        const queue = this.createQueue(name, url, saved.arn, saved.attributes, saved.tags);
        queue.createdTimestamp = saved.created;
        for (const message of saved.messages.values()) {
          // Received but not deleted before the stop: visible again now.
          queue.enqueue(message);
        }
      }
    } finally {
      this.replaying = false;
    }
    this.compact();
  }

  append(record) {
    if (this.replaying) return;
    appendFileSync(this.file, `${JSON.stringify(record)}\n`);
    this.records++;
    // Counting the live messages walks every queue: done once every thousand records, not on each.
    if (this.records > COMPACT_MIN_RECORDS && this.records % 1000 === 0 && this.records > COMPACT_RATIO * this.liveRecords()) this.compact();
  }

  liveRecords() {
    let total = 0;
    for (const queue of this.queues.values()) {
      const { ready, delayed, inflight } = queue.inspectMessages();
      total += 1 + ready.length + delayed.length + inflight.length;
    }
    return total;
  }

  /** Rewrites the journal as the state now: a queue record and its messages, per queue. */
  compact() {
    const temporary = `${this.file}.tmp`;
    const fd = openSync(temporary, 'w');
    let records = 0;
    try {
      for (const queue of this.queues.values()) {
        writeSync(fd, `${JSON.stringify(queueRecord(queue))}\n`);
        records++;
        const { ready, delayed, inflight } = queue.inspectMessages();
        for (const m of [...inflight.map((entry) => entry.message), ...ready, ...delayed]) {
          writeSync(fd, `${JSON.stringify({ t: 'S', q: queue.name, m })}\n`);
          records++;
        }
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.file);
    this.records = records;
  }

  createQueue(name, url, arn, attributes, tags) {
    const queue = super.createQueue(name, url, arn, attributes, tags);
    instrument(this, queue);
    this.append(queueRecord(queue));
    return queue;
  }

  deleteQueue(url) {
    const queue = this.queues.get(url);
    const deleted = super.deleteQueue(url);
    if (deleted) this.append({ t: 'X', q: queue.name });
    return deleted;
  }
}

/** Journals a queue's changes to `store`'s journal as fauxqs makes them, around the queue's own methods. */
function instrument(store, queue) {
  const { enqueue, dequeue, dequeueFifo, deleteMessage, setAttributes, purge } = queue;
  // Each change is journaled after fauxqs made it, still before the request is answered: an
  // append may compact the journal from the queues in memory, which must then hold the change.
  queue.enqueue = function (message) {
    const from = store.homes.get(message);
    const result = enqueue.call(this, message);
    store.homes.set(message, queue.name);
    store.append({ t: 'S', q: queue.name, m: message });
    // A redrive moves the message: it is in the dead-letter queue before it leaves its source.
    if (from && from !== queue.name) store.append({ t: 'D', q: from, id: message.messageId });
    return result;
  };
  const journalReceives = (received) => {
    for (const message of received) store.append({ t: 'R', q: queue.name, id: message.MessageId });
    return received;
  };
  queue.dequeue = function (...args) {
    // FIFO queues dequeue through dequeueFifo, journaled below.
    return this.isFifo() ? dequeue.apply(this, args) : journalReceives(dequeue.apply(this, args));
  };
  queue.dequeueFifo = function (...args) {
    return journalReceives(dequeueFifo.apply(this, args));
  };
  queue.deleteMessage = function (receiptHandle) {
    const entry = this.inflightMessages.get(receiptHandle);
    const result = deleteMessage.call(this, receiptHandle);
    if (entry) store.append({ t: 'D', q: queue.name, id: entry.message.messageId });
    return result;
  };
  queue.setAttributes = function (attributes) {
    const result = setAttributes.call(this, attributes);
    store.append({ t: 'A', q: queue.name, attributes });
    return result;
  };
  queue.purge = function () {
    const result = purge.call(this);
    store.append({ t: 'P', q: queue.name });
    return result;
  };
}

function queueRecord(queue) {
  return { t: 'Q', name: queue.name, arn: queue.arn, attributes: queue.attributes, tags: Object.fromEntries(queue.tags), created: queue.createdTimestamp };
}

/** One journal record applied to the saved state: queue name → {arn, attributes, tags, created, messages: Map<id, message>}. */
function apply(queues, record) {
  const queue = record.q === undefined ? undefined : queues.get(record.q);
  switch (record.t) {
    case 'Q':
      queues.set(record.name, { arn: record.arn, attributes: record.attributes, tags: record.tags, created: record.created, messages: new Map() });
      return;
    case 'A':
      if (queue) Object.assign(queue.attributes, record.attributes);
      return;
    case 'X':
      queues.delete(record.q);
      return;
    case 'S':
      queue?.messages.set(record.m.messageId, record.m);
      return;
    case 'R': {
      const message = queue?.messages.get(record.id);
      if (message) {
        message.approximateReceiveCount++;
        message.approximateFirstReceiveTimestamp ??= Date.now();
      }
      return;
    }
    case 'D':
      queue?.messages.delete(record.id);
      return;
    case 'P':
      queue?.messages.clear();
      return;
  }
}
