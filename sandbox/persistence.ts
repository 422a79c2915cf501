import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { planFiles } from './data/files';
import type { AccessToken, App, AuthorizationCode, Customer, Grant, Query, RefreshToken, SandboxState } from './state';

/** What `state.json` holds: everything a restarted sandbox needs to answer as the one that was killed. */
export interface SandboxSnapshot {
  readonly version: 1;
  /** Signs presigned URLs and page tokens: a new one would void every URL and token handed out. */
  readonly secret: string;
  /** Sandbox time when it was written: a restarted clock never runs behind it. */
  readonly clockNow: number;
  readonly apps: App[];
  readonly customers: Customer[];
  readonly grants: Grant[];
  readonly codes: [string, AuthorizationCode][];
  readonly accessTokens: [string, AccessToken][];
  readonly refreshTokens: [string, RefreshToken][];
  /** Without their files: a query's files are planned from its spec again (`planFiles` is a pure function of it). */
  readonly queries: Omit<Query, 'files' | 'cancelCompletion'>[];
  readonly limiter: [string, number[]][];
  readonly intakeCache: [string, unknown][];
}

/** One download of a data file, as the sandbox served it (`downloads.jsonl`, one a line). */
export interface DownloadRecord {
  readonly at: string;
  readonly queryId: string;
  /** `<dataset>/<index>`, the file's id within its query. */
  readonly file: string;
  /** The file's position in the query's listing. */
  readonly n: number;
  readonly bytes: number;
  /** Every byte of the requested range went out (not cut by a fault, not abandoned by the client). */
  readonly complete: boolean;
}

const STATE_FILE = 'state.json';
const DOWNLOADS_FILE = 'downloads.jsonl';
const CALLS_FILE = 'calls.jsonl';
/** How far behind the sandbox's clock the saved one may be: a restarted clock starts from the later of it and the real time. */
const CLOCK_SAVE_MS = 5_000;

/**
 * The sandbox's state on disk, under one directory, so that `npm start --data-dir` killed with
 * `kill -9` and started again finds the same apps, customers, consents, tokens and queries,
 * and serves the same files (they are generated from seeds, so only the specs are kept).
 *
 * The state is one JSON file, replaced atomically (write-file-atomic: a temporary file, then a
 * rename) whenever it changed, *before* the answer that changed it is sent: a refresh token the
 * product received is always one a restarted sandbox knows. Without fsync: what must survive is
 * the process, not the machine, and the page cache outlives a killed process. The download and
 * call logs only grow, so they are appended to, a line per entry; a line cut by the kill is skipped.
 */
export class SandboxStore {
  /** The last state written, without its clock: the clock alone moving is no reason to write it on every answer. */
  private lastState = '';
  private lastClock = 0;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** The saved state, or undefined in a directory where nothing was saved yet. */
  read(): SandboxSnapshot | undefined {
    const file = path.join(this.dir, STATE_FILE);
    if (!existsSync(file)) return undefined;
    const text = readFileSync(file, 'utf8');
    let snapshot: SandboxSnapshot;
    try {
      snapshot = JSON.parse(text) as SandboxSnapshot;
    } catch (error) {
      throw new Error(`${file} is not the sandbox's state (${(error as Error).message}): start with --reset`, { cause: error });
    }
    if (snapshot.version !== 1) throw new Error(`${file}: unknown sandbox state version ${String(snapshot.version)} (start with --reset)`);
    return snapshot;
  }

  /** Writes the snapshot if anything but its clock changed, or the clock moved 5 s since the last write. */
  write(snapshot: SandboxSnapshot): void {
    const state = JSON.stringify({ ...snapshot, clockNow: 0 });
    if (state === this.lastState && snapshot.clockNow - this.lastClock < CLOCK_SAVE_MS) return;
    // Tokens and the signing secret are in it: readable by the user alone.
    writeFileAtomic.sync(path.join(this.dir, STATE_FILE), JSON.stringify(snapshot), { fsync: false, mode: 0o600 });
    this.lastState = state;
    this.lastClock = snapshot.clockNow;
  }

  appendDownload(record: DownloadRecord): void {
    appendFileSync(path.join(this.dir, DOWNLOADS_FILE), `${JSON.stringify(record)}\n`, { mode: 0o600 });
  }

  downloads(): DownloadRecord[] {
    return readLines<DownloadRecord>(path.join(this.dir, DOWNLOADS_FILE));
  }

  appendCall(entry: unknown): void {
    appendFileSync(path.join(this.dir, CALLS_FILE), `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }

  /** The last `limit` calls logged. */
  calls<T>(limit: number): T[] {
    return readLines<T>(path.join(this.dir, CALLS_FILE)).slice(-limit);
  }
}

function readLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  const entries: T[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      entries.push(JSON.parse(line) as T);
    } catch {
      // The last line, cut by a kill in the middle of its write: that entry was never complete.
    }
  }
  return entries;
}

/** The state as a snapshot: plain data, the queries without their (derived) files and timers. */
export function snapshotOf(state: SandboxState, extra: Pick<SandboxSnapshot, 'secret' | 'clockNow' | 'limiter' | 'intakeCache'>): SandboxSnapshot {
  return {
    version: 1,
    ...extra,
    apps: [...state.apps.values()],
    customers: [...state.customers.values()],
    grants: [...state.grants.values()],
    codes: [...state.codes.entries()],
    accessTokens: [...state.accessTokens.entries()],
    refreshTokens: [...state.refreshTokens.entries()],
    queries: [...state.queries.values()].map(({ files: _files, cancelCompletion: _cancel, ...query }) => query),
  };
}

/** Fills an empty state from a snapshot; each query's files planned again from its spec. */
export function restoreState(state: SandboxState, snapshot: SandboxSnapshot): void {
  for (const app of snapshot.apps) state.apps.set(app.clientId, app);
  for (const customer of snapshot.customers) state.customers.set(customer.id, customer);
  for (const grant of snapshot.grants) state.grants.set(grant.id, grant);
  for (const [code, value] of snapshot.codes) state.codes.set(code, value);
  for (const [token, value] of snapshot.accessTokens) state.accessTokens.set(token, value);
  for (const [token, value] of snapshot.refreshTokens) state.refreshTokens.set(token, value);
  for (const query of snapshot.queries) state.queries.set(query.id, { ...query, files: planFiles(query.spec) });
}
