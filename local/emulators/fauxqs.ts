import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { RunningService } from './running-service';

const SERVER_SCRIPT = path.join(__dirname, 'fauxqs-server.mjs');
const START_TIMEOUT_MS = 15_000;

/**
 * SQS and S3 via fauxqs 1.9 (2.x needs Node 22), in a child process bound to 127.0.0.1; one
 * endpoint serves both. Its S3 keeps objects in memory (or on disk, with `dataDir`) and implements what the product uses
 * (multipart upload and abort, ranged GET, DeleteObjects), which s3rver does not; it has no
 * bucket versioning, which `versioned-s3.ts` adds in front of it.
 */
export interface FauxqsOptions {
  readonly port?: number;
  readonly region?: string;
  /** Lets the test move fauxqs's clock forward (`advanceClock`). @default false */
  readonly clockControl?: boolean;
  /**
   * Keeps S3 objects as files under `<dataDir>/s3` and journals SQS under `<dataDir>/sqs`
   * (fauxqs-server.mjs): a restart on the same directory sees them again. @default in memory
   */
  readonly dataDir?: string;
}

export interface RunningFauxqs extends RunningService {
  /** Moves fauxqs's clock forward: visibility timeouts and delays end as if that time had passed. */
  advanceClock(ms: number): Promise<void>;
  /** The child process's id (for the whole tree's memory, and for tests that kill it). */
  readonly pid: number;
  /** Kills the child with SIGKILL, as a crash would, and resolves once it is gone. */
  crash(): Promise<void>;
}

export async function startFauxqs(options: FauxqsOptions = {}): Promise<RunningFauxqs> {
  const child = spawn(process.execPath, [SERVER_SCRIPT], {
    env: {
      ...process.env,
      FAUXQS_PORT: String(options.port ?? 0),
      FAUXQS_DEFAULT_REGION: options.region ?? 'us-east-1',
      FAUXQS_CLOCK_CONTROL: options.clockControl ? '1' : '0',
      FAUXQS_DATA_DIR: options.dataDir ?? '',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fauxqs did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { endpoint: string }).endpoint);
      } catch {
        reject(new Error(`fauxqs printed ${JSON.stringify(line)} instead of its endpoint`));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`fauxqs exited with code ${code} before listening: ${stderr}`));
    });
  });

  return {
    endpoint,
    pid: child.pid!,
    crash: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    advanceClock: async (ms: number) => {
      if (!options.clockControl) throw new Error('This fauxqs was started without clockControl');
      const response = await fetch(`${endpoint}/__fauxqs/clock?advanceMs=${ms}`, { method: 'POST' });
      if (!response.ok) throw new Error(`fauxqs clock: ${response.status} ${await response.text()}`);
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
