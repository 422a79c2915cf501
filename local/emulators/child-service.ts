import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { RunningService } from './running-service';

const START_TIMEOUT_MS = 15_000;

/** An emulator in a child process of its own. */
export interface ChildService extends RunningService {
  /** The child process's id (for the whole tree's memory, and for tests that kill it). */
  readonly pid: number;
  /** Kills the child with SIGKILL, as a crash would, and resolves once it is gone. */
  crash(): Promise<void>;
}

/**
 * Runs `node <args>`, which prints {"endpoint": …} as its first line once it listens on
 * 127.0.0.1 (fauxqs-server.mjs, dynamodb-child.ts), and stops when its stdin closes, so it
 * never outlives its parent. A child that does not start in time is killed; the error names
 * the last of its stderr. stop() sends SIGTERM, then SIGKILL after 5 s.
 */
export async function startChildService(name: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildService> {
  const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { endpoint: string }).endpoint);
      } catch {
        reject(new Error(`${name} printed ${JSON.stringify(line)} instead of its endpoint`));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before listening: ${stderr}`));
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    endpoint,
    pid: child.pid!,
    crash: async () => {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
