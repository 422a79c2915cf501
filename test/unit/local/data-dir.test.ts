import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DATA_DIR_MARKER, prepareDataDir } from '../../../local/data-dir';
import { DemoRun } from '../../../local/demo-run';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'data-dir-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('npm start --data-dir and --reset', () => {
  it('makes a new directory ours: created, marked, fresh', () => {
    const dir = path.join(root, 'new', 'data');
    const prepared = prepareDataDir(dir, { reset: false });
    expect(prepared).toMatchObject({ dir, fresh: true });
    expect(existsSync(path.join(dir, DATA_DIR_MARKER))).toBe(true);
    prepared.release();
  });

  it('closes an empty directory it is given to others (0700: it will hold tokens and secrets), and names a dangling symbolic link', () => {
    const dir = path.join(root, 'given');
    mkdirSync(dir, { mode: 0o755 });
    prepareDataDir(dir, { reset: false }).release();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const dangling = path.join(root, 'dangling');
    symlinkSync(path.join(root, 'nowhere'), dangling);
    expect(() => prepareDataDir(dangling, { reset: false })).toThrow(`--data-dir ${dangling} is a symbolic link to nothing`);
  });

  it('refuses a non-empty directory that is not ours, with or without --reset, and changes nothing in it', () => {
    const dir = path.join(root, 'documents');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'thesis.txt'), 'years of work');
    for (const reset of [false, true]) {
      expect(() => prepareDataDir(dir, { reset })).toThrow(`--data-dir ${dir} is not empty and is not a ring-portability data dir (no ${DATA_DIR_MARKER} in it)`);
    }
    expect(readdirSync(dir)).toEqual(['thesis.txt']);
    writeFileSync(path.join(root, 'file'), '');
    expect(() => prepareDataDir(path.join(root, 'file'), { reset: false })).toThrow('is not a directory');
  });

  it('keeps what an earlier run left, and --reset empties it but for the marker', () => {
    const dir = path.join(root, 'data');
    prepareDataDir(dir, { reset: false }).release();
    mkdirSync(path.join(dir, 'sandbox'));
    writeFileSync(path.join(dir, 'sandbox', 'state.json'), '{}');
    const again = prepareDataDir(dir, { reset: false });
    expect(again.fresh).toBe(false);
    expect(existsSync(path.join(dir, 'sandbox', 'state.json'))).toBe(true);
    again.release();
    const reset = prepareDataDir(dir, { reset: true });
    expect(reset.fresh).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['.lock', DATA_DIR_MARKER]);
    reset.release();
  });

  it('refuses a directory a running npm start uses, and takes over the lock of one that was killed', () => {
    const dir = path.join(root, 'data');
    const held = prepareDataDir(dir, { reset: false });
    // This process holds it: another process would be refused; here, the same pid, a second holder is a bug, not a stale lock.
    writeFileSync(path.join(dir, '.lock'), String(process.ppid));
    expect(() => prepareDataDir(dir, { reset: true })).toThrow(`--data-dir ${dir} is in use by another npm start (process ${process.ppid})`);
    held.release();
    // A process that ended without removing its lock, as after kill -9.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(path.join(dir, '.lock'), gone);
    const taken = prepareDataDir(dir, { reset: false });
    expect(readFileSync(path.join(dir, '.lock'), 'utf8')).toBe(String(process.pid));
    taken.release();
    expect(existsSync(path.join(dir, '.lock'))).toBe(false);
  });
});

describe('the demo run in the data dir', () => {
  it('resumes an unfinished run with the same options, refuses other options, and starts a new run after a finished one', () => {
    const first = DemoRun.begin(root, { customers: 2, sizeBytes: 1_000 });
    expect(first.resumed).toBe(false);
    const again = DemoRun.begin(root, { customers: 2, sizeBytes: 1_000 });
    expect({ resumed: again.resumed, runId: again.runId }).toEqual({ resumed: true, runId: first.runId });
    expect(() => DemoRun.begin(root, { customers: 1, sizeBytes: 1_000 })).toThrow(`the data dir holds run ${first.runId}, unfinished, with --customers 2 --size 1000B`);
    again.finish();
    const next = DemoRun.begin(root, { customers: 1, sizeBytes: 1_000 });
    expect(next.resumed).toBe(false);
    expect(DemoRun.begin(undefined, { customers: 1, sizeBytes: 1 }).resumed).toBe(false);
  });
});
