// Runs fauxqs's SQS and S3 emulator bound to 127.0.0.1 (its own startFauxqs binds 0.0.0.0) in a
// child process: fauxqs is ESM-only, and a process of its own keeps it out of jest's module
// system. Prints {"endpoint": …} once listening; exits on SIGTERM or when stdin closes (the
// parent died), so it never outlives whoever started it.
import { buildApp } from 'fauxqs';

const app = buildApp({ logger: false, defaultRegion: process.env.FAUXQS_DEFAULT_REGION });
const port = Number(process.env.FAUXQS_PORT ?? '0');
const address = await app.listen({ port, host: '127.0.0.1' });
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
