import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ConnectLinkRequest, createConnectLink } from '../../lambdas/core/connections/connect';
import type { ConnectionView } from '../../lambdas/core/api/schemas';
import type { DisconnectResult, requestImport } from '../../lambdas/core/connections/manage';
import type { ConnectionsPage, ImportsPage, ListConnectionsQuery, ListImportsQuery } from './api-types';
import { errorFromAnswer } from './errors';

/** An IAM principal's keys; the SDK's credential providers return this shape. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface RingPortabilityClientOptions {
  /** The API's base URL: the stack's `ApiUrl` output, or `npm start`'s API. */
  readonly endpoint: string;
  /** The API's region: signatures are scoped to it. */
  readonly region: string;
  /** @default the standard chain (environment, SSO, shared files, container and instance roles) */
  readonly credentials?: Credentials | (() => Promise<Credentials>);
  /** How long one call may take. @default 30 s, API Gateway's own limit */
  readonly timeoutMs?: number;
}

export type ConnectLink = Awaited<ReturnType<typeof createConnectLink>>;
export type ImportRequested = Awaited<ReturnType<typeof requestImport>>;
/** DELETE's answer; `retryAfterSeconds` when the purge is not complete yet (202): DELETE again then. */
export type Disconnected = DisconnectResult & { readonly retryAfterSeconds?: number };

type Query = Readonly<Record<string, string | number | undefined>>;

/**
 * The integrator's backend's client for ring-portability's admin API (the IAM routes): each
 * call signed with SigV4 for `execute-api`, each answer typed, each refusal a
 * `RingPortabilityError`. Credentials are read when a call is signed, through the provider,
 * which renews expiring ones.
 */
export class RingPortabilityClient {
  private readonly base: URL;
  private readonly signer: SignatureV4;
  private readonly timeoutMs: number;

  constructor(options: RingPortabilityClientOptions) {
    this.base = baseUrl(options.endpoint);
    if (!options.region) throw new TypeError('region must name the API’s AWS region');
    this.signer = new SignatureV4({ credentials: options.credentials ?? fromNodeProviderChain(), region: options.region, service: 'execute-api', sha256: Sha256 });
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** POST /connections: a link for the customer's browser; it expires at `expiresAt`. */
  async createConnectLink(request: ConnectLinkRequest): Promise<ConnectLink> {
    return (await this.call<ConnectLink>('POST', '/connections', { body: request })).body;
  }

  /** GET /connections/{customerId}: the connection's status and its last import. */
  async getConnection(customerId: string): Promise<ConnectionView> {
    return (await this.call<ConnectionView>('GET', connectionPath(customerId))).body;
  }

  /** POST /connections/{customerId}/imports: an import now, or the one already waiting (202). */
  async requestImport(customerId: string): Promise<ImportRequested> {
    return (await this.call<ImportRequested>('POST', `${connectionPath(customerId)}/imports`)).body;
  }

  /**
   * DELETE /connections/{customerId}: forgets the tokens; with `purge`, deletes the customer's
   * data too. A purge the API could not finish in one call answers 202 with
   * `retryAfterSeconds`: call again then, until `purged.complete`.
   */
  async disconnect(customerId: string, options: { purge?: boolean } = {}): Promise<Disconnected> {
    const answer = await this.call<DisconnectResult>('DELETE', connectionPath(customerId), { query: { purge: options.purge ? 'true' : undefined } });
    const retryAfter = Number(answer.headers.get('retry-after') ?? Number.NaN);
    return answer.status === 202 && Number.isFinite(retryAfter) ? { ...answer.body, retryAfterSeconds: retryAfter } : answer.body;
  }

  /** GET /connections: one page of connections, filtered by status and brand. */
  async listConnections(query: ListConnectionsQuery = {}): Promise<ConnectionsPage> {
    return (await this.call<ConnectionsPage>('GET', '/connections', { query: { ...query } })).body;
  }

  /** Every connection the filter matches, page after page (one page in memory at a time). */
  async *allConnections(query: Omit<ListConnectionsQuery, 'cursor'> = {}): AsyncGenerator<ConnectionsPage['connections'][number]> {
    let cursor: string | undefined;
    do {
      const page = await this.listConnections({ ...query, cursor });
      yield* page.connections;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  /** GET /connections/{customerId}/imports: one page of the customer's imports, newest first. */
  async listImports(customerId: string, query: ListImportsQuery = {}): Promise<ImportsPage> {
    return (await this.call<ImportsPage>('GET', `${connectionPath(customerId)}/imports`, { query: { ...query } })).body;
  }

  private async call<T>(method: string, path: string, input: { query?: Query; body?: unknown } = {}): Promise<{ status: number; headers: Headers; body: T }> {
    const url = new URL(`${this.base.pathname.replace(/\/$/, '')}${path}`, this.base);
    for (const [name, value] of Object.entries(input.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const payload = input.body === undefined ? undefined : JSON.stringify(input.body);
    const signed = await this.signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.host, accept: 'application/json', ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      body: payload,
    });
    // fetch sets Host itself, from the URL: the same value as the one signed.
    const { host: _host, ...headers } = signed.headers;
    const response = await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(this.timeoutMs) });
    const text = await response.text();
    const body = parseJson(text);
    if (!response.ok) throw errorFromAnswer(response.status, body, response.headers);
    return { status: response.status, headers: response.headers, body: body as T };
  }
}

function baseUrl(endpoint: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash) throw new TypeError(`endpoint must be the API's http(s) base URL, without query or fragment (got ${JSON.stringify(endpoint)})`);
  return url;
}

function connectionPath(customerId: string): string {
  if (!customerId) throw new TypeError('customerId must not be empty');
  return `/connections/${encodeURIComponent(customerId)}`;
}

/** An answer's JSON; API Gateway's own errors are JSON too, but a proxy's may not be. */
function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { message: text.slice(0, 200) };
  }
}
