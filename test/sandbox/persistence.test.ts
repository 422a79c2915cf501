import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Sandbox } from '../../sandbox/sandbox';
import { connect, control, intake, startSandbox, tokenRequest } from './support';

/**
 * A sandbox with a data dir, "killed" (its directory copied as it is while it runs: what
 * `kill -9` leaves, nothing written at stop) and started again on the copy: the same tokens,
 * queries, listings and files, and the downloads counted across the restart.
 */
const dirs: string[] = [];
const sandboxes: Sandbox[] = [];
afterEach(async () => {
  for (const sandbox of sandboxes.splice(0)) await sandbox.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-state-'));
  dirs.push(dir);
  return dir;
}

async function sandboxOn(dataDir: string): Promise<Sandbox> {
  const sandbox = await startSandbox({ queryDelayMs: 100, dataDir });
  sandboxes.push(sandbox);
  return sandbox;
}

/** What `kill -9` would leave of `dataDir` now: a copy, taken while the sandbox still runs. */
function killedCopy(dataDir: string): string {
  const copy = tempDir();
  cpSync(dataDir, copy, { recursive: true });
  return copy;
}

/** A URL the first sandbox handed out, sent to the second (its port differs; the signature covers path and query only). */
const onto = (url: string, sandbox: Sandbox) => `${sandbox.baseUrl}${new URL(url).pathname}${new URL(url).search}`;

async function download(url: string): Promise<{ status: number; bytes: number; sha256: string }> {
  const response = await fetch(url);
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}

describe('the sandbox with a data dir', () => {
  it('answers after a kill as before it: the same tokens, listings, URLs and files; downloads counted across both', async () => {
    const dataDir = tempDir();
    const first = await sandboxOn(dataDir);
    const { app, tokens } = await connect(first, { customer: { datasets: { 'Ring.EventManager.Events': 30, 'Ring.Alarm.HubData': 4 }, recordsPerFile: 10 } });
    const created = await intake(first, 'POST', '/data-portability/data-queries', { token: tokens.access_token });
    const queryId = String(created.body.id);
    await control(first, 'POST', '/clock/advance', { ms: 100 });
    const page = await intake(first, 'GET', `/data-portability/data-queries/${queryId}/records?maxResults=2`, { token: tokens.access_token });
    expect(page.status).toBe(200);
    const records = page.body.records as { file: string; schema: string }[];
    const fetched = await download(records[0].file);
    expect(fetched.status).toBe(200);
    // A second query, still in progress at the kill, for another customer.
    const other = await connect(first, { app, customer: { datasets: { 'Ring.Alarm.HubData': 3 } } });
    const pending = String((await intake(first, 'POST', '/data-portability/data-queries', { token: other.tokens.access_token })).body.id);
    const clockAtKill = first.clock.now();

    const second = await sandboxOn(killedCopy(dataDir));
    expect(second.clock.now()).toBeGreaterThanOrEqual(clockAtKill - 5_000);
    // The access token and the page token it was given still work, and list the same files.
    const next = await intake(second, 'GET', `/data-portability/data-queries/${queryId}/records?maxResults=2&nextPageToken=${encodeURIComponent(String(page.body.nextPageToken))}`, { token: tokens.access_token });
    expect(next.status).toBe(200);
    const truth = await control<{ files: { bytes: number; sha256: string }[] }>(second, 'GET', `/queries/${queryId}/ground-truth`);
    expect(truth.files).toHaveLength(4);
    // A URL handed out before the kill serves the same bytes after it: files come from seeds.
    expect(await download(onto(records[0].file, second))).toEqual({ status: 200, bytes: truth.files[0].bytes, sha256: truth.files[0].sha256 });
    expect(fetched).toEqual({ status: 200, bytes: truth.files[0].bytes, sha256: truth.files[0].sha256 });
    // Each download is counted, the one before the kill too.
    const downloads = await control<{ queryId: string; file: string; n: number; complete: boolean }[]>(second, 'GET', `/downloads?queryId=${queryId}`);
    expect(downloads.map(({ file, n, complete }) => ({ file, n, complete }))).toEqual([
      { file: 'Ring.EventManager.Events/0', n: 0, complete: true },
      { file: 'Ring.EventManager.Events/0', n: 0, complete: true },
    ]);
    // The refresh token rotates as before the kill: the saved one is the current one.
    const refreshed = await tokenRequest(second, 'ring', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: app.clientId, client_secret: app.clientSecret });
    expect(refreshed.status).toBe(200);
    // The query in progress at the kill completes when it would have.
    await control(second, 'POST', '/clock/advance', { ms: 100 });
    expect(await control(second, 'GET', `/queries/${pending}`)).toMatchObject({ status: 'COMPLETED' });
    expect((await control<unknown[]>(second, 'GET', '/calls')).length).toBeGreaterThanOrEqual(6);
  });

  it('keeps nothing without a data dir, and refuses a state file it did not write', async () => {
    const dataDir = tempDir();
    writeFileSync(path.join(dataDir, 'state.json'), 'not json');
    await expect(startSandbox({ dataDir })).rejects.toThrow(/state\.json is not the sandbox's state .*start with --reset/);
    const plain = await startSandbox();
    sandboxes.push(plain);
    expect(plain.options.dataDir).toBeUndefined();
  });
});
