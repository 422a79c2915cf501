/**
 * The sandbox for benchmarks: its bundle (`npm run sandbox:build`) in a child process of its
 * own on 127.0.0.1, and the few calls that turn a generated customer into a listed file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

export const MiB = 1024 * 1024;
/** Ring.EventManager.Events records average about 570 bytes in the sandbox's generator. */
export const BYTES_PER_EVENT = 570;

export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(text.trim());
  if (!match) throw new Error(`--size must look like 500MB or 2GB, got ${text}`);
  const unit = (match[2] ?? 'B').toUpperCase();
  return Math.round(Number(match[1]) * { B: 1, KB: 1024, MB: MiB, GB: 1024 * MiB }[unit]!);
}

export interface SandboxProcess {
  readonly baseUrl: string;
  readonly child: ChildProcess;
  stop(): void;
}

export async function startSandboxProcess(nodeFlags: string[] = []): Promise<SandboxProcess> {
  const child = spawn(process.execPath, [...nodeFlags, path.join(__dirname, '..', '.build', 'sandbox.js'), '--port', '0', '--query-delay-ms', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  return { baseUrl, child, stop: () => void child.kill('SIGTERM') };
}

/**
 * A new customer with `records` Ring.EventManager.Events in one file, connected and queried:
 * the file's and schema's download URLs (each valid 5 minutes of sandbox time).
 */
export async function listedEventsFile(baseUrl: string, records: number): Promise<{ file: string; schema: string }> {
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(url.startsWith('http') ? url : `${baseUrl}${url}`, {
      method,
      redirect: 'manual',
      headers: { ...(body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  const redirectUri = 'http://127.0.0.1:9/cb';
  const app = (await (await call('POST', '/__sandbox/apps', { redirectUris: [redirectUri] })).json()) as { clientId: string; clientSecret: string };
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
  const listing = (await (await call('GET', `/ring/intake/eu-west-1/data-portability/data-queries/${query.id}/records`, undefined, auth)).json()) as { records: { file: string; schema: string }[] };
  return listing.records[0];
}
