import dynalite from 'dynalite';
import { closeServer, listenOnLoopback, type RunningService } from './running-service';

/**
 * DynamoDB via dynalite, in memory. It has no transactions and no TTL API, so the product
 * relies on conditional writes and checks `expiresAt` in code.
 */
export async function startDynamoDb(options: { port?: number } = {}): Promise<RunningService> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const endpoint = await listenOnLoopback(server, options.port);
  return { endpoint, stop: () => closeServer(server) };
}
