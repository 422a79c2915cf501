import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..', '..');
const STORE = pathToFileURL(path.join(ROOT, 'local', 'emulators', 'durable-sqs-store.mjs')).href;

/**
 * The journal is compacted from the queues in memory inside an append: a change journaled before
 * fauxqs made it was dropped by a compaction that ran in its own append, so a SendMessage already
 * answered was lost to a `kill -9` until the next compaction. The store is an ES module with
 * top-level await, which jest's CommonJS runtime cannot load, so the scenario runs in a node
 * process of its own (in the project, which resolves `fauxqs`); "killed" is a second store restoring from the same directory.
 */
const SCENARIO = `
const { DurableSqsStore } = await import(${JSON.stringify(STORE)});
const { SqsStore } = await import(new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs')).href);
const dir = process.argv[1];
const store = new DurableSqsStore(dir);
store.restore(1234);
const arn = 'arn:aws:sqs:eu-west-1:000000000000:q';
const queue = store.createQueue('q', store.buildQueueUrl('q', '1234', '127.0.0.1:1234', 'eu-west-1'), arn, { VisibilityTimeout: '30' }, {});
// Enough sent, received and deleted messages that the journal is due for compaction…
while (store.records <= 50_500) {
  queue.enqueue(SqsStore.createMessage('done'));
  queue.deleteMessage(queue.dequeue(1)[0].ReceiptHandle);
}
// …then sends alone, up to the one whose append compacts it.
const sent = [];
let before;
do {
  before = store.records;
  const message = SqsStore.createMessage('kept');
  queue.enqueue(message);
  sent.push(message.messageId);
} while (store.records > before);
const restored = new DurableSqsStore(dir);
restored.restore(1234);
const ids = new Set(restored.getQueueByName('q').inspectMessages().ready.map((message) => message.messageId));
console.log(JSON.stringify({ sent: sent.length, lost: sent.filter((id) => !ids.has(id)) }));
`;

describe('durable SQS journal', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'durable-sqs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a sent message whose own journal append compacted the journal', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SCENARIO, dir], { cwd: ROOT });
    const result = JSON.parse(stdout) as { sent: number; lost: string[] };
    expect(result.sent).toBeGreaterThan(1);
    expect(result.lost).toEqual([]);
  });
});
