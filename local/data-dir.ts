/**
 * `npm start --data-dir`: the directory the local system keeps its state in (the emulators',
 * the sandbox's, the runtime's ports and app, the demo run), and `--reset`, which empties it.
 * A directory is ours only if it holds our marker file (or is empty): `--reset` never deletes
 * what someone else put in a directory named by mistake, and nothing is written into one either.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';

/** The file that says a directory is a ring-portability data dir. */
export const DATA_DIR_MARKER = '.ring-portability-data';
/** The file that says which process uses the data dir now (its pid). */
const LOCK_FILE = '.lock';

export interface DataDir {
  readonly dir: string;
  /** Nothing was kept in it before this run (new, empty, or just reset). */
  readonly fresh: boolean;
  /** Lets another process use the directory. */
  release(): void;
}

/**
 * Makes `dir` ready for this process: created if missing, marked as ours, locked, and with
 * `reset` emptied. Refuses, with the reason and before changing anything, a path that is not a
 * directory, a non-empty directory without our marker, and one a running `npm start` uses.
 */
export function prepareDataDir(dir: string, options: { reset: boolean }): DataDir {
  const absolute = path.resolve(dir);
  const marker = path.join(absolute, DATA_DIR_MARKER);
  let entries: string[] = [];
  if (!existsSync(absolute) && isSymlink(absolute)) throw new Error(`--data-dir ${dir} is a symbolic link to nothing: name a directory`);
  if (existsSync(absolute)) {
    if (!statSync(absolute).isDirectory()) throw new Error(`--data-dir ${dir} is not a directory`);
    entries = readdirSync(absolute);
    if (entries.length > 0 && !entries.includes(DATA_DIR_MARKER)) {
      throw new Error(`--data-dir ${dir} is not empty and is not a ring-portability data dir (no ${DATA_DIR_MARKER} in it): name an empty or new directory; nothing was changed`);
    }
  }
  const fresh = options.reset || !entries.some((entry) => entry !== DATA_DIR_MARKER && entry !== LOCK_FILE);
  mkdirSync(absolute, { recursive: true, mode: 0o700 });
  // It holds tokens, client secrets and OAuth states: an empty directory given by its owner gets the mode a new one has.
  chmodSync(absolute, 0o700);
  if (!existsSync(marker)) writeFileAtomic.sync(marker, 'ring-portability local data: `npm start -- --reset` empties this directory\n');
  const release = lock(absolute, dir);
  if (options.reset) for (const entry of entries) if (entry !== DATA_DIR_MARKER && entry !== LOCK_FILE) rmSync(path.join(absolute, entry), { recursive: true, force: true });
  return { dir: absolute, fresh, release };
}

/**
 * Takes the data dir for this process: two runtimes on one directory would corrupt each other's
 * state. A lock left by a process that is gone (killed with `kill -9`) is taken over: the pid in
 * it says so, where a lock library's age-based staleness would make a restart wait.
 */
function lock(absolute: string, dir: string): () => void {
  const file = path.join(absolute, LOCK_FILE);
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(readFileSync(file, 'utf8'));
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && running(holder)) {
      throw new Error(`--data-dir ${dir} is in use by another npm start (process ${holder}): stop it, or name another --data-dir`);
    }
    rmSync(file, { force: true });
  }
}

/** Whether a process runs: signal 0 reaches it, and it is not a zombie (a killed process not yet reaped). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    // No /proc (not Linux): signal 0 answered, so it runs.
    return existsSync('/proc/self') ? false : true;
  }
}

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A JSON file of the data dir, or undefined when there is none yet. */
export function readJsonFile<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new Error(`${file} is not what npm start wrote (${(error as Error).message}): start with --reset`, { cause: error });
  }
}

/** Replaces a JSON file of the data dir atomically: a kill leaves the old one or the new one, never half. */
export function writeJsonFile(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic.sync(file, `${JSON.stringify(value, null, 2)}\n`, { fsync: false, mode: 0o600 });
}
