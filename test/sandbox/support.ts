import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sandbox, type SandboxInit } from '../../sandbox/sandbox';
import { middayToday } from '../support/virtual-time';

export { eventually } from '../support/eventually';
import type { Brand, ConsentChoice, Region } from '../../sandbox/state';

export const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';

/**
 * A sandbox whose clock stands still unless a test advances it (`POST /__sandbox/clock/advance`):
 * queries complete and tokens expire when the test says, however slow the machine, and time
 * starts at noon UTC, however late in the day the test runs.
 */
export async function startSandbox(options: SandboxInit = {}): Promise<Sandbox> {
  const sandbox = new Sandbox({ ...options, clock: { mode: 'manual', startAt: middayToday(), ...options.clock } });
  await sandbox.start();
  return sandbox;
}

/** Calls the control API and returns the parsed JSON (throws on an unexpected status). */
export async function control<T = Record<string, unknown>>(sandbox: Sandbox, method: string, path: string, body?: unknown, expectStatus?: number): Promise<T> {
  const response = await fetch(`${sandbox.baseUrl}/__sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (expectStatus !== undefined ? response.status !== expectStatus : response.status >= 300) {
    throw new Error(`${method} ${path} → ${response.status}: ${text}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface TestApp {
  clientId: string;
  clientSecret: string;
}

export function createApp(sandbox: Sandbox, extra: Record<string, unknown> = {}): Promise<TestApp> {
  return control<TestApp>(sandbox, 'POST', '/apps', { redirectUris: [REDIRECT_URI], ...extra });
}

export interface TestCustomer {
  id: string;
  email: string;
  password: string;
  sessionCookie: string;
}

export function createCustomer(sandbox: Sandbox, extra: Record<string, unknown> = {}): Promise<TestCustomer> {
  return control<TestCustomer>(sandbox, 'POST', '/customers', extra);
}

export function pkce(method: 'S256' | 'plain' = 'S256'): { verifier: string; challenge: string; method: 'S256' | 'plain' } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier, method };
}

export function authorizeUrl(sandbox: Sandbox, brand: Brand, app: TestApp, challenge: { challenge: string; method: string }, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({
    redirect_uri: REDIRECT_URI,
    client_id: app.clientId,
    response_type: 'code',
    scope: 'data-portability',
    code_challenge: challenge.challenge,
    code_challenge_method: challenge.method,
    state: 'state-123',
    ...extra,
  });
  return `${sandbox.baseUrl}/${brand}/oauth/v2/authorize?${params.toString()}`;
}

export async function tokenRequest(sandbox: Sandbox, brand: Brand, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${sandbox.baseUrl}/${brand}/oauth/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

/** A customer with preset consent, connected to an app through authorize + token: its tokens. */
export async function connect(
  sandbox: Sandbox,
  options: { brand?: Brand; region?: Region; consent?: Partial<ConsentChoice>; app?: TestApp; customer?: Record<string, unknown> } = {},
): Promise<{ app: TestApp; customer: TestCustomer; tokens: Tokens }> {
  const brand = options.brand ?? 'ring';
  const app = options.app ?? (await createApp(sandbox));
  const customer = await createCustomer(sandbox, { brand, region: options.region ?? 'eu-west-1', consent: { history: '30d', duration: '90d', ...options.consent }, ...options.customer });
  const challenge = pkce();
  const response = await fetch(authorizeUrl(sandbox, brand, app, challenge), { redirect: 'manual', headers: { cookie: customer.sessionCookie } });
  const location = new URL(response.headers.get('location') ?? 'http://invalid/');
  const code = location.searchParams.get('code');
  if (response.status !== 302 || !code) throw new Error(`authorize did not redirect with a code: ${response.status} ${location.toString()}`);
  const { status, body } = await tokenRequest(sandbox, brand, {
    grant_type: 'authorization_code',
    client_id: app.clientId,
    client_secret: app.clientSecret,
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: challenge.verifier,
    scope: 'data-portability',
  });
  if (status !== 200) throw new Error(`token exchange failed: ${status} ${JSON.stringify(body)}`);
  return { app, customer, tokens: body as unknown as Tokens };
}

export async function intake(
  sandbox: Sandbox,
  method: 'GET' | 'POST',
  path: string,
  options: { brand?: Brand; region?: Region; token?: string | null; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== null && options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${sandbox.baseUrl}/${options.brand ?? 'ring'}/intake/${options.region ?? 'eu-west-1'}${path}`, { method, headers, body: options.body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A local HTTP endpoint that records what the sandbox POSTs to it. */
export class Receiver {
  readonly received: { headers: IncomingHttpHeaders; body: string }[] = [];
  /** Status codes to answer with, in order; then 200. */
  failWith: number[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.statusCode = this.failWith.shift() ?? 200;
        response.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/notifications/v1`;
    return this;
  }

  messages(): Record<string, string>[] {
    return this.received.map((entry) => JSON.parse(entry.body) as Record<string, string>);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
  }
}
