import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { controlTable } from '../../lambdas/core/definitions';
import { eventually } from '../support/eventually';
import { processTree, running } from '../support/process-tree';

/**
 * The local proof of the product's checkpoints: `npm start --once --data-dir DIR` killed with
 * `kill -9` (every process of its tree, at once) in the middle of the load stage, then the same
 * command again. The second run must finish the first one's import — the same customer, not a
 * new one — with exactly the ground truth (every file, byte and record, none twice), and must
 * not download again any file the first run had already fetched: the sandbox's download log,
 * kept in the data dir, says how often each file went out.
 */
const ROOT = path.join(__dirname, '../..');
const SIZE = '20MB';

interface Run {
  readonly npm: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

const runs: Run[] = [];
let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'ring-portability-resume-'));
});
afterAll(() => {
  // A failed test must not leave a tree serving: each run's process group, by its id.
  for (const { npm } of runs) kill(-npm.pid!);
  rmSync(dataDir, { recursive: true, force: true });
});

function npmStart(args: string[]): Run {
  const npm = spawn('npm', ['start', '--', ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const run = { npm, output: () => output, exited: new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code))) };
  runs.push(run);
  return run;
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}



interface FileTask {
  readonly queryId: string;
  readonly n: number;
  readonly status?: string;
  readonly sha256?: string;
}

/** The file tasks of the control table: listed, fetched (sha256 set) and loaded. */
async function fileTasks(documents: DynamoDBDocumentClient): Promise<FileTask[]> {
  const tasks: FileTask[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: controlTable.id, FilterExpression: 'begins_with(sk, :file)', ExpressionAttributeValues: { ':file': 'FILE#' }, ExclusiveStartKey: start }));
    for (const item of (page.Items ?? []) as { pk: string; sk: string; status?: string; sha256?: string }[]) {
      tasks.push({ queryId: item.pk.slice('QUERY#'.length), n: Number(item.sk.slice('FILE#'.length)), status: item.status, sha256: item.sha256 });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return tasks;
}

interface Report {
  readonly matches: boolean;
  readonly resumed: boolean;
  readonly runId: string;
  readonly total: { files: number; bytes: number; records: number; truth: { files: number; bytes: number; records: number } };
  readonly customers: { customerId: string; queryId: string; datasets: { dataset: string; files: number; bytes: number; records: number; truth: { files: number; bytes: number; records: number }; matches: boolean }[] }[];
}

interface Download {
  readonly queryId: string;
  readonly n: number;
  readonly complete: boolean;
}

describe('npm start after kill -9 in the middle of a load', () => {
  it('finishes the same import with exactly the ground truth and downloads no fetched file again', async () => {
    const args = ['--once', '--size', SIZE, '--data-dir', dataDir];
    const first = npmStart([...args, '--report', path.join(dataDir, '..', `${path.basename(dataDir)}-first.json`)]);
    const where = await eventually(() => /--endpoint-url (http:\/\/127\.0\.0\.1:\d+) dynamodb scan/.exec(first.output()) ?? undefined, `npm start to print its endpoints; output so far:\n${first.output()}`, 180_000);
    const customerId = await eventually(() => /connected 1 customer\(s\): (\S+)/.exec(first.output())?.[1], `npm start to connect its demo customer; output so far:\n${first.output()}`, 180_000);
    const sandboxUrl = /Ring sandbox\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(first.output())![1];
    const dynamodb = new DynamoDBClient({ endpoint: where[1], region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const documents = DynamoDBDocumentClient.from(dynamodb);

    // Mid-load: some files loaded, not all of the query's (the sandbox's ground truth says how many).
    let fetchedBeforeKill: FileTask[];
    try {
      const expected = await eventually(
        async () => {
          const queries = (await (await fetch(`${sandboxUrl}/__sandbox/queries`)).json()) as { id: string; status: string }[];
          const query = queries.find((candidate) => candidate.status === 'COMPLETED');
          return query ? ((await (await fetch(`${sandboxUrl}/__sandbox/queries/${query.id}/ground-truth`)).json()) as { files: unknown[] }).files.length : undefined;
        },
        'the demo query to complete at the sandbox',
        180_000,
      );
      fetchedBeforeKill = await eventually(
        async () => {
          const tasks = await fileTasks(documents);
          const loaded = tasks.filter((task) => task.status === 'LOADED').length;
          return loaded > 0 && loaded < expected ? tasks.filter((task) => task.sha256 !== undefined) : undefined;
        },
        `the load stage to be under way (some of ${expected} files loaded, not all); output so far:\n${first.output()}`,
        240_000,
      );
    } finally {
      dynamodb.destroy();
      // The whole tree at once, as a power cut or the OOM killer would: no handler, no flush, no stop.
      const pids = processTree(first.npm.pid!);
      for (const pid of pids) kill(pid);
      kill(-first.npm.pid!);
      await eventually(() => (pids.some(running) ? undefined : true), 'every process of the killed tree to end', 30_000);
    }
    expect(await first.exited).toBeNull();
    expect(fetchedBeforeKill.length).toBeGreaterThan(0);

    const reportFile = path.join(dataDir, '..', `${path.basename(dataDir)}-second.json`);
    const second = npmStart([...args, '--report', reportFile]);
    const exitCode = await eventually(() => Promise.race([second.exited, Promise.resolve(undefined)]), `the second run to exit; output:\n${second.output()}`, 360_000);
    expect({ exitCode, output: second.output() }).toMatchObject({ exitCode: 0 });
    expect(second.output()).toContain('resuming run');
    expect(second.output()).toContain(`connected 1 customer(s): ${customerId}`);

    // Exactly the ground truth: every file with its bytes and sha256, every distinct record once (the records table holds as many items as the truth has distinct records: none missing, none twice).
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
    rmSync(reportFile, { force: true });
    expect(report).toMatchObject({ matches: true, resumed: true });
    expect(report.customers.map((customer) => customer.customerId)).toEqual([customerId]);
    for (const row of report.customers[0].datasets) expect({ dataset: row.dataset, files: row.files, bytes: row.bytes, records: row.records }).toEqual({ dataset: row.dataset, ...row.truth });
    expect(report.total.records).toBe(report.total.truth.records);

    // No file fetched before the kill went out again: each was downloaded once, by the first run.
    const log = path.join(dataDir, 'sandbox', 'downloads.jsonl');
    expect(existsSync(log)).toBe(true);
    const downloads = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Download)
      .filter((download) => download.complete);
    const downloadedAgain = fetchedBeforeKill
      .map((task) => ({ queryId: task.queryId, n: task.n, downloads: downloads.filter((download) => download.queryId === task.queryId && download.n === task.n).length }))
      .filter((file) => file.downloads !== 1);
    expect(downloadedAgain).toEqual([]);
    // And every file of the import was downloaded in full, before or after the kill.
    const queryId = report.customers[0].queryId;
    expect(new Set(downloads.filter((download) => download.queryId === queryId).map((download) => download.n)).size).toBe(report.total.truth.files);
  });
});
