import * as path from 'node:path';
import { startChildService, type ChildService } from './child-service';

const SERVER_SCRIPT = path.join(__dirname, 'fauxqs-server.mjs');

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

export interface RunningFauxqs extends ChildService {
  /** Moves fauxqs's clock forward: visibility timeouts and delays end as if that time had passed. */
  advanceClock(ms: number): Promise<void>;
}

export async function startFauxqs(options: FauxqsOptions = {}): Promise<RunningFauxqs> {
  const service = await startChildService('fauxqs', [SERVER_SCRIPT], {
    ...process.env,
    FAUXQS_PORT: String(options.port ?? 0),
    FAUXQS_DEFAULT_REGION: options.region ?? 'us-east-1',
    FAUXQS_CLOCK_CONTROL: options.clockControl ? '1' : '0',
    FAUXQS_DATA_DIR: options.dataDir ?? '',
  });
  return {
    ...service,
    advanceClock: async (ms: number) => {
      if (!options.clockControl) throw new Error('This fauxqs was started without clockControl');
      const response = await fetch(`${service.endpoint}/__fauxqs/clock?advanceMs=${ms}`, { method: 'POST' });
      if (!response.ok) throw new Error(`fauxqs clock: ${response.status} ${await response.text()}`);
    },
  };
}
