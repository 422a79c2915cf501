import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { RunningService } from './emulators/running-service';

const SERVER_SCRIPT = path.join(__dirname, 'emulators', 'dynamodb-child.ts');
const START_TIMEOUT_MS = 15_000;

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
 */
export async function startDynamoDbProcess(options: DynamoDbProcessOptions = {}): Promise<RunningService> {
  // Under tsx, so the child runs `startDynamoDb` itself (emulators/dynamodb.ts), whatever started the parent (tsx, jest).
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, SERVER_SCRIPT, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dynalite did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { endpoint: string }).endpoint);
      } catch {
        reject(new Error(`dynalite printed ${JSON.stringify(line)} instead of its endpoint`));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`dynalite exited with code ${code} before listening: ${stderr}`));
    });
  });
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
