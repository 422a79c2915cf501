/**
 * Streams a large file from the sandbox and reports the sandbox process's memory, to show it
 * never holds a file in memory. Runs the sandbox in a child process (so its RSS is its own),
 * samples VmRSS while downloading, and reads VmHWM (the kernel's peak RSS) at the end.
 *
 *   npm run bench -- --size 1GB
 *
 * Prints the baseline (idle sandbox) and the peak during the stream, and their ratio.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const MiB = 1024 * 1024;
/** Ring.EventManager.Events records average about 570 bytes in this generator. */
const BYTES_PER_EVENT = 570;

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(text.trim());
  if (!match) throw new Error(`--size must look like 500MB or 1GB, got ${text}`);
  const unit = (match[2] ?? 'B').toUpperCase();
  return Math.round(Number(match[1]) * { B: 1, KB: 1024, MB: MiB, GB: 1024 * MiB }[unit]!);
}

function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { size: { type: 'string', default: '1GB' } } });
  const target = parseSize(values.size);

  // The bundle `npm run sandbox` runs (built by `npm run bench` first), not tsx: its own memory.
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean), path.join(__dirname, '..', '.build', 'sandbox.js'), '--port', '0', '--query-delay-ms', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  try {
    const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(url.startsWith('http') ? url : `${baseUrl}${url}`, {
        method,
        redirect: 'manual',
        headers: { ...(body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json' }), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      return response;
    };
    const redirectUri = 'http://127.0.0.1:9/cb';
    const app = (await (await call('POST', '/__sandbox/apps', { redirectUris: [redirectUri] })).json()) as { clientId: string; clientSecret: string };
    const records = Math.max(1, Math.round(target / BYTES_PER_EVENT));
    const customer = (await (await call('POST', '/__sandbox/customers', {
      consent: { history: '1y', duration: '1y' },
      datasets: { 'Ring.EventManager.Events': records },
      recordsPerFile: records,
    })).json()) as { sessionCookie: string };
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = await call('GET', `/ring/oauth/v2/authorize?${new URLSearchParams({ client_id: app.clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'data-portability', code_challenge: challenge, code_challenge_method: 'S256', state: 's' }).toString()}`, undefined, { cookie: customer.sessionCookie });
    const code = new URL(authorize.headers.get('location')!).searchParams.get('code')!;
    const tokens = (await (await call('POST', '/ring/oauth/oauth/token', new URLSearchParams({ grant_type: 'authorization_code', client_id: app.clientId, client_secret: app.clientSecret, code, redirect_uri: redirectUri, code_verifier: verifier }).toString())).json()) as { access_token: string };
    const auth = { authorization: `Bearer ${tokens.access_token}` };
    const query = (await (await call('POST', '/ring/intake/eu-west-1/data-portability/data-queries', undefined, auth)).json()) as { id: string };
    await call('POST', '/__sandbox/clock/advance', { ms: 1 });
    const listing = (await (await call('GET', `/ring/intake/eu-west-1/data-portability/data-queries/${query.id}/records`, undefined, auth)).json()) as { records: { file: string }[] };

    const baseline = memory(child.pid!);
    let peakSampled = baseline.rss;
    const sampler = setInterval(() => {
      peakSampled = Math.max(peakSampled, memory(child.pid!).rss);
    }, 100);
    const started = Date.now();
    // The first request measures the file (one generation pass) before it streams it.
    const { bytes, sha256 } = await new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
      get(listing.records[0].file, (response) => {
        const hash = createHash('sha256');
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          hash.update(chunk);
        });
        response.on('end', () => resolve({ bytes: received, sha256: hash.digest('hex') }));
        response.on('error', reject);
      }).on('error', reject);
    });
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    const after = memory(child.pid!);
    const peak = Math.max(after.hwm, peakSampled);

    console.log(`sandbox stream benchmark (${values.size} requested, Ring.EventManager.Events in one file)`);
    console.log(`  streamed          ${(bytes / MiB).toFixed(1)} MiB, sha256 ${sha256.slice(0, 16)}…`);
    console.log(`  time              ${seconds.toFixed(1)} s for measure + stream (${((2 * bytes) / MiB / seconds).toFixed(1)} MiB/s generated)`);
    console.log(`  baseline RSS      ${(baseline.rss / MiB).toFixed(1)} MiB (idle sandbox, same process)`);
    console.log(`  peak RSS          ${(peak / MiB).toFixed(1)} MiB (VmHWM)`);
    console.log(`  peak / baseline   ${(peak / baseline.rss).toFixed(2)}×; peak / file size ${(peak / bytes).toFixed(3)}`);
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
