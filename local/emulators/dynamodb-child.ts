/**
 * dynalite in a process of its own: `local/dynamodb-process.ts` runs this file under tsx, so
 * the child starts DynamoDB exactly as `startDynamoDb` does in-process (its LevelDB bounds, the
 * nesting limit), with the options given as JSON in argv[2] (e.g. {"path": …} for its on-disk
 * mode). Prints {"endpoint": …} once listening; stops on SIGTERM or when stdin closes (the
 * parent died), so it never outlives whoever started it. It ignores SIGINT: Ctrl-C reaches the
 * whole process group, and the runtime still writes to DynamoDB while it winds down before it
 * stops this process.
 */
import { startDynamoDb } from './dynamodb';

async function main(): Promise<void> {
  const service = await startDynamoDb(JSON.parse(process.argv[2] ?? '{}') as { path?: string });
  process.stdout.write(`${JSON.stringify({ endpoint: service.endpoint })}\n`);
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    service.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', () => undefined);
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

main().catch((error: unknown) => {
  process.stderr.write(`dynalite did not start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
