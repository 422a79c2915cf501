import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startChildService, type ChildService } from './emulators/child-service';

const SERVER_SCRIPT = path.join(__dirname, 'emulators', 'dynamodb-child.ts');

/** dynalite's options that matter here: `path` keeps the tables on disk (LevelDB) instead of in memory. */
export interface DynamoDbProcessOptions {
  readonly path?: string;
}

/**
 * DynamoDB (dynalite) in a process of its own, on the machine's other core. Beside the
 * handlers, the SDK clients and the sandbox in the runtime's one thread, dynalite took 37 % of
 * that thread at 100 MB under `node --cpu-prof`, and most of its 16 % of garbage collection
 * (its tables lived in that heap): the whole system ran at the speed of one core. Started as
 * fauxqs is (`emulators/fauxqs.ts`); the child (`emulators/dynamodb-child.ts`) runs under tsx so
 * that it starts dynalite through `startDynamoDb`, with the same bounds and limits as in-process.
 * `nodeArgs` go to node itself, before the script: `bench/dynalite-load.ts --profile` passes
 * `--cpu-prof`, which NODE_OPTIONS does not allow.
 */
export async function startDynamoDbProcess(options: DynamoDbProcessOptions = {}, nodeArgs: readonly string[] = []): Promise<ChildService> {
  // Under tsx, so the child runs `startDynamoDb` itself (emulators/dynamodb.ts), whatever started the parent (tsx, jest).
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  return startChildService('dynalite', [...nodeArgs, '--import', tsx, SERVER_SCRIPT, JSON.stringify(options)]);
}
