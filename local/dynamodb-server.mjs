// dynalite in a process of its own (local/dynamodb-process.ts starts it), bound to 127.0.0.1 on
// a free port, with the options of local/emulators/dynamodb.ts plus those given as JSON in
// argv[2] (e.g. {"path": …} for its on-disk LevelDB mode). Prints {"endpoint": …} once
// listening; stops on SIGTERM or when stdin closes (the parent died), so it never outlives
// whoever started it. It ignores SIGINT: Ctrl-C reaches the whole process group, and the runtime
// still writes to DynamoDB while it winds down before it stops this process.
import dynalite from 'dynalite';

const options = JSON.parse(process.argv[2] ?? '{}');
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...options });
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${server.address().port}` })}\n`);

let closing = false;
const shutdown = () => {
  if (closing) return;
  closing = true;
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', () => undefined);
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();
