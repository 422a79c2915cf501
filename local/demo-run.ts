/**
 * `npm start`'s demo run, kept in the data dir (`demo-run.json`), so that the same command after
 * a crash or a `kill -9` finishes the run it interrupted (the same customers, the same data and
 * ground truth, nothing connected twice) instead of starting another beside it.
 *
 * - No run, or the last one finished: a new run with new customers. Earlier runs' data stays
 *   in the data dir (`--reset` empties it).
 * - The last run did not finish, with the same `--customers` and `--size`: it is resumed.
 * - The last run did not finish, with other `--customers` or `--size`: refused, naming both ways
 *   out (the same options again, or `--reset`), rather than leave it importing unwatched.
 */
import * as path from 'node:path';
import { RingPortabilityError } from '../client/src';
import { createSandboxCustomer, linkCustomer, type DemoCustomer } from './demo';
import { readJsonFile, writeJsonFile } from './data-dir';
import type { Runtime } from './runtime';

export interface DemoRunOptions {
  readonly customers: number;
  readonly sizeBytes: number;
}

interface DemoRunRecord {
  readonly runId: string;
  readonly startedAt: string;
  readonly options: DemoRunOptions;
  /** In the order they were made; `connected` once the product's callback answered "Connected". */
  readonly customers: (DemoCustomer & { connected: boolean })[];
  finishedAt?: string;
}

const RUN_FILE = 'demo-run.json';
const REGIONS = ['eu-west-1', 'us-east-1'];

export class DemoRun {
  private constructor(
    private readonly file: string | undefined,
    private readonly record: DemoRunRecord,
    /** This process goes on with a run an earlier one started. */
    readonly resumed: boolean,
  ) {}

  /** The run to go on with in `dataDir` (see the module's comment), or a new one; without a data dir, always a new one. */
  static begin(dataDir: string | undefined, options: DemoRunOptions): DemoRun {
    const file = dataDir === undefined ? undefined : path.join(dataDir, RUN_FILE);
    const last = file === undefined ? undefined : readJsonFile<DemoRunRecord>(file);
    if (last && last.finishedAt === undefined) {
      if (last.options.customers === options.customers && last.options.sizeBytes === options.sizeBytes) return new DemoRun(file, last, true);
      throw new Error(
        `the data dir holds run ${last.runId}, unfinished, with --customers ${last.options.customers} --size ${last.options.sizeBytes}B: ` +
          'run with those options to finish it, or add --reset to start clean',
      );
    }
    const run = new DemoRun(file, { runId: Date.now().toString(36), startedAt: new Date().toISOString(), options, customers: [] }, false);
    run.save();
    return run;
  }

  get runId(): string {
    return this.record.runId;
  }

  /** Customers already connected when this process took the run over. */
  get connectedBefore(): number {
    return this.resumed ? this.record.customers.filter((customer) => customer.connected).length : 0;
  }

  /**
   * The run's customers, each connected once: made at the sandbox and saved before being
   * connected, so a kill between the two finds the same customer and connects it (or sees
   * the product already did) rather than making another.
   */
  async connectCustomers(runtime: Runtime): Promise<DemoCustomer[]> {
    const { customers, sizeBytes } = this.record.options;
    for (let i = 0; i < customers; i++) {
      let customer = this.record.customers[i];
      if (!customer) {
        const brand = i % 2 === 0 ? 'ring' : 'blink';
        const made = await createSandboxCustomer(runtime, {
          customerId: `demo-${i + 1}-${this.record.runId}`,
          brand,
          region: REGIONS[Math.floor(i / 2) % REGIONS.length],
          bytes: Math.ceil(sizeBytes / customers),
          recordsPerFile: 5_000,
        });
        customer = { ...made, connected: false };
        this.record.customers.push(customer);
        this.save();
      }
      if (!customer.connected) {
        if (!(await isConnected(runtime, customer.customerId))) await linkCustomer(runtime, customer);
        customer.connected = true;
        this.save();
      }
    }
    return this.record.customers.map(({ connected: _connected, ...customer }) => customer);
  }

  /** The run is over (matching or not): the same command next time starts a new one. */
  finish(): void {
    this.record.finishedAt = new Date().toISOString();
    this.save();
  }

  private save(): void {
    if (this.file !== undefined) writeJsonFile(this.file, this.record);
  }
}

/** Whether the product has the customer connected: the callback may have answered just before the kill. */
async function isConnected(runtime: Runtime, customerId: string): Promise<boolean> {
  try {
    return (await runtime.client.getConnection(customerId)).status === 'ACTIVE';
  } catch (error) {
    if (error instanceof RingPortabilityError && error.status === 404) return false;
    throw error;
  }
}
