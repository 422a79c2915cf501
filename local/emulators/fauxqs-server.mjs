// Runs fauxqs's SQS and S3 emulator bound to 127.0.0.1 (its own startFauxqs binds 0.0.0.0) in a
// child process: fauxqs is ESM-only, and a process of its own keeps it out of jest's module
// system. Prints {"endpoint": …} once listening; exits on SIGTERM or when stdin closes (the
// parent died), so it never outlives whoever started it. With FAUXQS_DATA_DIR, S3 keeps its
// objects as files under <dir>/s3 and SQS journals its messages under <dir>/sqs, so a restart on
// the same directory (even after kill -9) sees them again.
import * as path from 'node:path';
import { buildApp } from 'fauxqs';

const dataDir = process.env.FAUXQS_DATA_DIR || undefined;
let sqsStore;
let s3Store;
if (dataDir) {
  const [{ DiskS3Store }, { DurableSqsStore }] = await Promise.all([import('./disk-s3-store.mjs'), import('./durable-sqs-store.mjs')]);
  s3Store = new DiskS3Store(path.join(dataDir, 's3'));
  sqsStore = new DurableSqsStore(path.join(dataDir, 'sqs'));
}

const app = buildApp({ logger: false, defaultRegion: process.env.FAUXQS_DEFAULT_REGION, ...(dataDir ? { stores: { sqsStore, s3Store } } : {}) });

// fauxqs 1.9 delays a message by any DelaySeconds; SQS refuses more than 900. The product caps
// its delays there, and a test must fail if it ever stops: the same answer as fauxqs's own
// range checks (e.g. VisibilityTimeout's), before the message is taken.
const MAX_DELAY_SECONDS = 900;
app.addHook('preHandler', async (request, reply) => {
  if (request.headers['x-amz-target'] !== 'AmazonSQS.SendMessage') return;
  const delay = request.body?.DelaySeconds;
  if (delay === undefined || (Number.isInteger(delay) && delay >= 0 && delay <= MAX_DELAY_SECONDS)) return;
  // Returning the sent reply ends the request here: the handler never sees it.
  return reply
    .status(400)
    .header('content-type', 'application/x-amz-json-1.0')
    .header('x-amzn-query-error', 'AWS.SimpleQueueService.InvalidParameterValue;Sender')
    .send({ __type: 'com.amazonaws.sqs#InvalidParameterValue', message: `Value ${delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= ${MAX_DELAY_SECONDS}.` });
});

// A test's own clock: with FAUXQS_CLOCK_CONTROL=1, fauxqs's time (visibility timeouts, delays,
// retention) can be moved forward by POST /__fauxqs/clock?advanceMs=<n>, so a test can see
// what happens 10 minutes after a consumer died without waiting 10 minutes. Off by default.
if (process.env.FAUXQS_CLOCK_CONTROL === '1') {
  const realNow = Date.now.bind(Date);
  let offsetMs = 0;
  Date.now = () => realNow() + offsetMs;
  app.post('/__fauxqs/clock', async (request) => {
    const advanceMs = Number(request.query?.advanceMs);
    if (!Number.isInteger(advanceMs) || advanceMs < 0) throw Object.assign(new Error('advanceMs must be a whole number of milliseconds, 0 or more'), { statusCode: 400 });
    offsetMs += advanceMs;
    return { now: Date.now() };
  });
}

const port = Number(process.env.FAUXQS_PORT ?? '0');
const address = await app.listen({ port, host: '127.0.0.1' });
// The journal's queues get URLs with this run's port before the first request can name one.
sqsStore?.restore(app.server.address().port);
process.stdout.write(`${JSON.stringify({ endpoint: address.replace('localhost', '127.0.0.1') })}\n`);

let closing = false;
const shutdown = () => {
  if (closing) return;
  closing = true;
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();
