import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { eventually } from '../support/eventually';
import { processTree, running } from '../support/process-tree';

/**
 * `npm start` as a newcomer runs it, stopped the three ways a person or a supervisor stops it:
 * SIGTERM or SIGINT to npm's PID, and Ctrl-C (SIGINT to the whole foreground process group).
 * Each time every process of the tree must end and every address it printed must refuse
 * connections. Stopped mid-import, right after the demo customer connected: the hardest moment.
 */
const ROOT = path.join(__dirname, '../..');

interface Started {
  readonly npm: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

const started: Started[] = [];
const dataDirs: string[] = [];
afterEach(() => {
  // A failed test must not leave its tree serving: the process group npm leads, by its id.
  for (const { npm } of started.splice(0)) {
    try {
      process.kill(-npm.pid!, 'SIGKILL');
    } catch {
      // Nothing of the group is left.
    }
  }
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function npmStart(args: string[]): Started {
  // A data dir of its own: not the project's .local-data/, whatever a developer left there.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ring-portability-start-'));
  dataDirs.push(dataDir);
  // Its own process group, as a shell gives a foreground job: Ctrl-C is SIGINT to that group.
  const npm = spawn('npm', ['start', '--', ...args, '--data-dir', dataDir], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const run = { npm, output: () => output, exited: new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code))) };
  started.push(run);
  return run;
}



function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

/** Starts `npm start`, waits until the import is under way, stops it with `stop`, and checks that nothing is left. */
async function startThenStop(args: string[], stop: (npmPid: number) => void, expected: { exitCode: number; line: string }): Promise<string> {
  const run = npmStart(args);
  await eventually(() => (run.output().includes('connected 1 customer(s)') ? true : undefined), `npm start to connect its demo customer; output so far:\n${run.output()}`, 180_000);
  const pids = processTree(run.npm.pid!);
  const ports = [...new Set([...run.output().matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)].map((match) => Number(match[1])))];
  // npm, node (no shell between them), fauxqs at least; the API, the sandbox, the emulators.
  expect(pids.length).toBeGreaterThanOrEqual(3);
  expect(ports.length).toBeGreaterThanOrEqual(4);

  stop(run.npm.pid!);
  const exitCode = await eventually(() => Promise.race([run.exited, Promise.resolve(undefined)]), `npm start to exit; output:\n${run.output()}`, 60_000);
  await eventually(() => (pids.some(running) ? undefined : true), `every process of the tree to end: ${pids.filter(running).join(', ')}`, 30_000);
  for (const port of ports) expect(await refuses(port)).toBe(true);
  expect(exitCode).toBe(expected.exitCode);
  expect(run.output()).toContain(expected.line);
  return run.output();
}

describe('npm start stops its whole tree', () => {
  it('on SIGTERM to npm’s PID, and --log-level DEBUG prints DEBUG lines', async () => {
    const output = await startThenStop(['--size', '1MB', '--log-level', 'DEBUG'], (pid) => process.kill(pid, 'SIGTERM'), { exitCode: 143, line: 'stopped on SIGTERM' });
    // The SNS subscription confirmation the runtime receives while it starts, as the local API's DEBUG line.
    expect(output).toMatch(/"level": "DEBUG",\s+"message": "local API request"/);
  });

  it('on SIGINT to npm’s PID', async () => {
    await startThenStop(['--size', '1MB'], (pid) => process.kill(pid, 'SIGINT'), { exitCode: 130, line: 'stopped on SIGINT' });
  });

  it('on Ctrl-C: SIGINT to the whole process group', async () => {
    const output = await startThenStop(['--size', '1MB'], (pid) => process.kill(-pid, 'SIGINT'), { exitCode: 130, line: 'stopped on SIGINT' });
    expect(output).not.toContain('"level": "DEBUG"');
  });
});
