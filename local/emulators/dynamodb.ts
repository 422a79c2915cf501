import dynalite from 'dynalite';
import { refuseDeepNesting } from './dynamodb-limits';
import { closeServer, listenOnLoopback, type RunningService } from './running-service';

/**
 * DynamoDB via dynalite, in memory. It has no transactions and no TTL API, so the product
 * relies on conditional writes and checks `expiresAt` in code. Writes nested deeper than
 * DynamoDB's 32 levels are refused, as DynamoDB does (dynamodb-limits.ts).
 */
export async function startDynamoDb(options: { port?: number } = {}): Promise<RunningService> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  refuseDeepNesting(server);
  const endpoint = await listenOnLoopback(server, options.port);
  return { endpoint, stop: () => closeServer(server) };
}
