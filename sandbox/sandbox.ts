import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SandboxClock, type ClockInit } from './clock';
import { ControlApi } from './control';
import { DownloadService } from './downloads';
import { FaultInjector } from './faults';
import { errorPage } from './pages';
import { IntakeService } from './intake';
import { resolveLimits, type LimitsInit, type SandboxLimits } from './limits';
import { NotificationService, type NotificationTransport } from './notifications';
import { OAuthService } from './oauth';
import { Observers, type SandboxListener } from './observer';
import { restoreState, SandboxStore, snapshotOf, type DownloadRecord } from './persistence';
import { SlidingWindowLimiter } from './rate-limiter';
import { BRANDS, emptyState, type Brand, type Grant, type Query, type SandboxState } from './state';
import { sendJson } from './http';

export interface SandboxOptions {
  /** @default 0 (a free port) */
  readonly port: number;
  readonly scopeId: string;
  /** Scope ids the intake knows; others answer SCOPE_ID_NOT_FOUND. */
  readonly knownScopes: string[];
  /** Sandbox time from createDataQuery to COMPLETED/CANCELED. */
  readonly queryDelayMs: number;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenIdleMs: number;
  readonly codeTtlSeconds: number;
  readonly notificationRetries: number;
  readonly notificationRetryDelayMs: number;
  /** Per app and scope; see `sandbox/limits.ts` for the presets. */
  readonly limits: SandboxLimits;
  /** Seed of fault probabilities and of customers created without one. */
  readonly seed: string;
  /** Where sandbox time starts and whether it flows by itself (see `SandboxClock`). */
  readonly clock?: ClockInit;
  /** How notifications reach an app's endpoint. @default an HTTP POST to its notificationUrl */
  readonly notificationTransport?: NotificationTransport;
  /**
   * Where the sandbox keeps its state (`sandbox/persistence.ts`), to be found again by a sandbox
   * started later on the same directory, after a stop or a `kill -9`. @default in memory only
   */
  readonly dataDir?: string;
}

/** What a caller may set: any option, and a limits preset's name or any subset of the limits. */
export type SandboxInit = Partial<Omit<SandboxOptions, 'limits'>> & { readonly limits?: LimitsInit };

export const DEFAULT_OPTIONS: SandboxOptions = {
  port: 0,
  scopeId: 'data-portability',
  knownScopes: ['data-portability'],
  queryDelayMs: 2_000,
  accessTokenTtlSeconds: 4 * 3600,
  refreshTokenIdleMs: 30 * 86_400_000,
  codeTtlSeconds: 300,
  notificationRetries: 3,
  notificationRetryDelayMs: 20_000,
  limits: resolveLimits('reference'),
  seed: 'ring-sandbox',
};

export interface CallLogEntry {
  readonly at: string;
  readonly method: string;
  readonly path: string;
  status: number;
}

const SECRET_PARAMS = /([?&](?:code|state|client_secret|refresh_token|access_token|code_verifier|code_challenge|Token|X-Amz-Signature|X-Amz-Security-Token|nextPageToken)=)[^&]*/gi;
const MAX_CALL_LOG = 10_000;
/** An intake call: brand, region, and the path within the region's intake. */
const INTAKE_CALL = /^\/(ring|blink)\/intake\/([^/]*)(\/.*)?$/;

/**
 * The path as the request line carries it, before URL parsing resolves `..` segments (and
 * turns `\` into `/`): an intake call is routed by what it was sent to, so a dot-segment
 * cannot carry it out of its region's intake, and the intake sees the segment to refuse it.
 */
function requestPath(request: IncomingMessage): string {
  return (request.url ?? '/')
    .replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '')
    .replace(/[?#].*$/s, '')
    .replaceAll('\\', '/');
}

/**
 * A local, faithful stand-in for Ring's and Blink's Data Portability service, in one process
 * bound to 127.0.0.1. See sandbox/README.md for the routes and the control API.
 */
export class Sandbox {
  readonly options: SandboxOptions;
  readonly clock: SandboxClock;
  readonly state: SandboxState = emptyState();
  readonly secret: Buffer;
  readonly faults: FaultInjector;
  readonly limiter: SlidingWindowLimiter;
  readonly oauth: OAuthService;
  readonly intake: IntakeService;
  readonly downloads: DownloadService;
  readonly notifications: NotificationService;
  readonly control: ControlApi;
  readonly calls: CallLogEntry[] = [];
  /** Every download of a data file served, complete or not: how often each file was fetched. */
  readonly downloadLog: DownloadRecord[] = [];
  private readonly store?: SandboxStore;
  private persistTimer?: NodeJS.Timeout;
  /** Told of every intake and token answer (`observe`). */
  readonly observers = new Observers();
  stopped = false;
  private server?: Server;
  private port = 0;

  constructor(options: SandboxInit = {}) {
    this.options = { ...DEFAULT_OPTIONS, ...options, limits: resolveLimits(options.limits) };
    this.store = this.options.dataDir === undefined ? undefined : new SandboxStore(this.options.dataDir);
    const saved = this.store?.read();
    // Sandbox time goes on from where it was, never back: expiries and rate windows stay true.
    this.clock = new SandboxClock(saved ? { ...this.options.clock, startAt: Math.max(saved.clockNow, this.options.clock?.startAt ?? Date.now()) } : this.options.clock);
    this.secret = saved ? Buffer.from(saved.secret, 'base64') : randomBytes(32);
    this.faults = new FaultInjector(this.options.seed);
    this.limiter = new SlidingWindowLimiter(this.clock);
    this.oauth = new OAuthService(this);
    this.intake = new IntakeService(this);
    this.downloads = new DownloadService(this);
    this.notifications = new NotificationService(this);
    this.control = new ControlApi(this);
    if (saved && this.store) {
      restoreState(this.state, saved);
      this.limiter.restore(saved.limiter);
      this.intake.restore(saved.intakeCache);
      this.calls.push(...this.store.calls<CallLogEntry>(MAX_CALL_LOG));
      this.downloadLog.push(...this.store.downloads());
      // A query that ended while its notification waited (a delay, a reorder): sent now. The
      // restarted sandbox has no confirmed subscription yet, so it is lost and the product polls.
      for (const query of this.state.queries.values()) {
        if (query.status !== 'IN_PROGRESS' && query.notifiedAt === undefined) this.clock.schedule(0, () => this.notifications.notifyQuery(query));
      }
    }
  }

  /**
   * Saves the state if it changed (a no-op without a data dir). Called before every answer is
   * sent, so nothing a caller was told is forgotten by a restarted sandbox, and every 250 ms for
   * what changes on the clock (a query completing, a notification sent).
   */
  persist(): void {
    this.store?.write(
      snapshotOf(this.state, { secret: this.secret.toString('base64'), clockNow: this.clock.now(), limiter: this.limiter.entries(), intakeCache: this.intake.cacheEntries() }),
    );
  }

  /** Counts one download of a data file (and keeps it in the data dir, if any). */
  recordDownload(record: DownloadRecord): void {
    this.downloadLog.push(record);
    this.store?.appendDownload(record);
  }

  /**
   * Calls `listener` with every intake and token answer as it is sent, and why a refused one
   * was refused (an injected fault, a rate limit, an expired refresh token…). Returns a
   * function that stops it.
   */
  observe(listener: SandboxListener): () => void {
    return this.observers.add(listener);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The endpoint templates the product is configured with to use this sandbox. */
  endpoints(): Record<Brand, { oauthBaseUrl: string; intakeBaseUrl: string }> {
    const of = (brand: Brand) => ({ oauthBaseUrl: `${this.baseUrl}/${brand}/oauth`, intakeBaseUrl: `${this.baseUrl}/${brand}/intake/{region}` });
    return { ring: of('ring'), blink: of('blink') };
  }

  /** Listens on `port` (@default the `port` option); a port in use rejects with EADDRINUSE. */
  async start(port = this.options.port): Promise<string> {
    const server = createServer((request, response) => {
      void this.dispatch(request, response);
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 60_000;
    // Idle connections outlive the clients' own idle timeout (undici's and the SDK agents' 4-5 s),
    // so it is always the client that closes one: with Node's default of 5 s, a busy machine's
    // event-loop stalls let the server close a connection just as a client reused it (ECONNRESET
    // on a control call, seen in the e2e test at a load average of 20). S3 and API Gateway keep
    // idle connections longer than that too. stop() closes them all at once.
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.clock.start();
    if (this.store) {
      this.persistTimer = setInterval(() => this.persist(), 250);
      this.persistTimer.unref();
    }
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.persistTimer);
    this.persist();
    this.clock.stop();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Whether a consent still authorizes imports at this moment. */
  grantIsActive(grant: Grant): boolean {
    return !grant.revoked && (grant.expiresAt === undefined || grant.expiresAt > this.clock.now());
  }

  /** Ends a query: COMPLETED, or CANCELED when the consent ended or the account is on hold. */
  finishQuery(query: Query, forced?: 'COMPLETED' | 'CANCELED'): void {
    if (query.status !== 'IN_PROGRESS') return;
    query.cancelCompletion?.();
    const grant = this.state.grants.get(query.grantId)!;
    const customer = this.state.customers.get(query.customerId)!;
    query.status = forced ?? (this.grantIsActive(grant) && !customer.onHold ? 'COMPLETED' : 'CANCELED');
    query.completedAt = this.clock.now();
    // A one-time transfer ends with its first completed query.
    if (query.status === 'COMPLETED' && grant.choice.duration === 'once' && grant.expiresAt === undefined) grant.expiresAt = this.clock.now();
    this.notifications.notifyQuery(query);
  }

  private async dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.baseUrl);
    const entry: CallLogEntry = {
      at: new Date(this.clock.now()).toISOString(),
      method: request.method ?? 'GET',
      path: (request.url ?? '/').replace(SECRET_PARAMS, '$1[redacted]'),
      status: 0,
    };
    const logged = !url.pathname.startsWith('/__sandbox');
    response.once('finish', () => {
      entry.status = response.statusCode;
      if (logged) this.store?.appendCall(entry);
    });
    if (this.store) {
      // Every answer goes out through writeHead (end() calls it too): the state it reflects is saved first.
      const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
      response.writeHead = ((...args: unknown[]) => {
        this.persist();
        return writeHead(...args);
      });
    }
    if (logged) {
      this.calls.push(entry);
      if (this.calls.length > MAX_CALL_LOG) this.calls.splice(0, this.calls.length - MAX_CALL_LOG);
    }
    try {
      await this.route(url, request, response);
    } catch (error) {
      if (!response.headersSent) sendJson(response, 500, { error: 'sandbox_error', message: (error as Error).message, requestId: randomUUID() });
      else response.destroy();
    }
  }

  private async route(url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = url.pathname;
    const method = request.method ?? 'GET';
    // First: whatever `..` it holds, a call sent to an intake is answered by that intake.
    const intake = INTAKE_CALL.exec(requestPath(request));
    if (intake) return this.intake.handle(intake[1] as Brand, intake[2], intake[3] ?? '/', url, request, response);
    if (path.startsWith('/__sandbox')) return this.control.handle(path.slice('/__sandbox'.length), url, request, response);
    if (path === '/' && url.searchParams.get('Action') === 'ConfirmSubscription') return this.notifications.confirm(url, response);
    if (path === this.notifications.signingCertPath && method === 'GET') return this.notifications.servePem(response);

    const match = /^\/(ring|blink)(\/.*)$/.exec(path);
    if (match) {
      const brand = match[1] as Brand;
      const rest = match[2];
      if (rest === '/oauth/v2/authorize' && method === 'GET') return this.oauth.authorize(brand, url, request, response);
      const step = /^\/oauth\/v2\/authorize\/(signin|consent|preferences)$/.exec(rest);
      if (step && method === 'POST') return this.oauth.step(brand, step[1], request, response);
      if (rest === '/oauth/oauth/token' && method === 'POST') return this.oauth.token(brand, request, response);
      if (rest.startsWith('/files/') && (method === 'GET' || method === 'HEAD')) return this.downloads.serve(rest.slice('/files'.length), url, request, response);
    }
    if ((BRANDS as readonly string[]).some((brand) => path.startsWith(`/${brand}/oauth`))) {
      response.statusCode = 404;
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end(errorPage(path.startsWith('/blink') ? 'blink' : 'ring', 'Not found', 'There is nothing here.'));
      return;
    }
    sendJson(response, 404, { message: 'Not found' });
  }
}
