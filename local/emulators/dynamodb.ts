// First: it bounds the LevelDB dynalite creates when it loads.
import './bounded-level';
import dynalite from 'dynalite';
import { refuseDeepNesting } from './dynamodb-limits';
import { closeServer, listenOnLoopback, type RunningService } from './running-service';

/**
 * DynamoDB via dynalite: in memory, or with `path` in its own on-disk LevelDB mode, so a table
 * of any size costs the heap nothing and a restart on the same directory sees the same tables
 * and items. It has no transactions and no TTL API, so the product relies on conditional
 * writes and checks `expiresAt` in code. Writes nested deeper than DynamoDB's 32 levels are
 * refused, as DynamoDB does (dynamodb-limits.ts).
 */
export async function startDynamoDb(options: { port?: number; path?: string } = {}): Promise<RunningService> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.path ? { path: options.path } : {}) });
  refuseDeepNesting(server);
  const endpoint = await listenOnLoopback(server, options.port);
  // dynalite's close also closes its LevelDB, releasing the directory's lock for a restart on the same path.
  return { endpoint, stop: () => closeServer(server) };
}
