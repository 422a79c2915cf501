import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { planFiles } from './data/files';
import { IntakeError, type IntakeErrorName } from './errors';
import { BodyTooLargeError, readBody, sendJson } from './http';
import type { IntakeAnswer } from './observer';
import type { Sandbox } from './sandbox';
import { isRegion, type App, type Brand, type Customer, type Grant, type Query, type Region } from './state';

const CACHE_TTL_MS = 5 * 60_000;
/** The response cache is swept of expired answers whenever it reaches this size. */
const CACHE_SWEEP_SIZE = 10_000;
const LIST_WINDOW_MS = 60 * 60_000;
const BODY_LIMIT = 8 * 1024;
const DEFAULT_MAX_RESULTS = 250;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What the sandbox's security scanner blocks: markup and path traversal in the request line. */
const SUSPICIOUS = /<|>|%3c|%3e|\.\.\/|%2e%2e/i;

/**
 * Whether a path has a `..` segment however it is written: URL parsers read `%2e` as a dot
 * and `\` as a slash, and a decoded `%2f` or `%5c` would split a segment, so any of them
 * could climb out of the region's intake.
 */
function climbs(path: string): boolean {
  return path
    .replace(/%2e/gi, '.')
    .split(/\/|\\|%2f|%5c/i)
    .includes('..');
}

interface Caller {
  readonly app: App;
  readonly grant: Grant;
  readonly customer: Customer;
}

interface CachedResponse {
  readonly status: number;
  readonly body: unknown;
  readonly expiresAt: number;
}

/** The Data Portability intake API: createDataQuery and listDataQueryRecords. */
export class IntakeService {
  private readonly cache = new Map<string, CachedResponse>();
  /**
   * The latest query of each app, customer and scope. At most one of theirs is ever in
   * progress, and a query is created only when none is: so if any is, it is the latest.
   */
  private readonly latest = new Map<string, Query>();

  constructor(private readonly sandbox: Sandbox) {}

  /** The cached answers still live, for the sandbox's saved state. */
  cacheEntries(): [string, CachedResponse][] {
    const now = this.sandbox.clock.now();
    return [...this.cache.entries()].filter(([, cached]) => cached.expiresAt > now);
  }

  /**
   * Takes back a saved state: the cached answers, and each app's, customer's and scope's latest
   * query from the restored queries (the one created last); a query that was in progress
   * completes when it would have, or at once if that moment passed while the sandbox was down.
   */
  restore(cache: [string, unknown][]): void {
    for (const [key, cached] of cache) this.cache.set(key, cached as CachedResponse);
    const { state, clock } = this.sandbox;
    for (const query of [...state.queries.values()].sort((a, b) => a.createdAt - b.createdAt)) {
      this.latest.set(`${query.clientId}|${query.customerId}|${query.scopeId}`, query);
      if (query.status === 'IN_PROGRESS') query.cancelCompletion = clock.schedule(query.createdAt + this.sandbox.options.queryDelayMs - clock.now(), () => this.sandbox.finishQuery(query));
    }
  }

  /** Answers a call to `/{brand}/intake/{region}{rest}`, `region` and `rest` as the request line has them. */
  async handle(brand: Brand, region: string, rest: string, url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
    let operation: IntakeAnswer['operation'];
    let caller: Caller | undefined;
    const answer = (status: number, refusal?: IntakeError) =>
      this.sandbox.observers.emit({
        kind: 'intake',
        at: this.sandbox.clock.now(),
        operation,
        customerId: caller?.customer.id ?? this.tokenOwner(request),
        status,
        error: refusal?.errorName,
        origin: refusal?.origin,
      });
    try {
      const route = this.route(region, rest, request.method ?? 'GET', url);
      operation = route.kind;
      const fault = this.sandbox.faults.next(operation);
      if (fault?.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
      if (fault?.error) throw new IntakeError(fault.error as IntakeErrorName, fault.retryAfterSeconds, 'fault');

      if (operation === 'createDataQuery') {
        try {
          await readBody(request, BODY_LIMIT);
        } catch (error) {
          if (error instanceof BodyTooLargeError) throw new IntakeError('REQUEST_TOO_LARGE');
          throw error;
        }
      }
      caller = this.authenticate(brand, request);
      this.checkScope(caller.app, route.scopeId);
      this.checkAuthorization(caller);

      const cacheKey = `${operation}|${caller.app.clientId}|${caller.customer.id}|${brand}|${route.region}|${route.scopeId}|${route.queryId ?? ''}|${url.search}`;
      this.checkRateLimits(operation, caller, route.scopeId);
      const cached = this.cache.get(cacheKey);
      if (cached && cached.expiresAt > this.sandbox.clock.now()) {
        sendJson(response, cached.status, cached.body);
        answer(cached.status);
        return;
      }
      const [status, body] =
        operation === 'createDataQuery'
          ? this.createDataQuery(caller, brand, route.region, route.scopeId)
          : this.listDataQueryRecords(caller, brand, route.scopeId, route.queryId!, url);
      if (this.cache.size >= CACHE_SWEEP_SIZE) this.sweepCache();
      this.cache.set(cacheKey, { status, body, expiresAt: this.sandbox.clock.now() + CACHE_TTL_MS });
      sendJson(response, status, body);
      answer(status);
    } catch (error) {
      if (error instanceof IntakeError) {
        sendJson(response, error.status, error.body, error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) });
        if (error.origin === 'fault' && operation) this.sandbox.faults.countApiError(operation, error.status);
        answer(error.status, error);
        return;
      }
      throw error;
    }
  }

  /** Whose access token a request carries, if the sandbox knows it (for observers: a fault answers before the token is checked). */
  private tokenOwner(request: IncomingMessage): string | undefined {
    const token = this.sandbox.state.accessTokens.get((request.headers.authorization ?? '').replace(/^Bearer\s*/i, '').trim());
    return token && this.sandbox.state.grants.get(token.grantId)?.customerId;
  }

  /** Forgets the answers whose 5 minutes are over, so a long run's cache holds only live ones. */
  private sweepCache(): void {
    const now = this.sandbox.clock.now();
    for (const [key, cached] of this.cache) if (cached.expiresAt <= now) this.cache.delete(key);
  }

  private route(
    region: string,
    rest: string,
    method: string,
    url: URL,
  ): { kind: 'createDataQuery' | 'listDataQueryRecords'; region: Region; scopeId: string; queryId?: string } {
    if (SUSPICIOUS.test(rest) || SUSPICIOUS.test(url.search) || climbs(`/${region}${rest}`)) throw new IntakeError('BLOCKED_REQUEST');
    // Each region is a host of its own: another name is no intake at all.
    if (!isRegion(region)) throw new IntakeError('RESOURCE_NOT_FOUND');
    let segments: string[];
    try {
      segments = rest.split('/').map((segment) => decodeURIComponent(segment));
    } catch {
      throw new IntakeError('INVALID_API_PATH');
    }
    // rest starts with '/', so segments[0] is ''.
    const [, scopeId, collection, queryId, records, ...extra] = segments;
    if (collection !== 'data-queries' || extra.length > 0) throw new IntakeError('RESOURCE_NOT_FOUND');
    if (scopeId === undefined || scopeId.trim() === '') throw new IntakeError('BLANK_SCOPE_ID');
    if (queryId === undefined && records === undefined) {
      if (method !== 'POST') throw new IntakeError('RESOURCE_NOT_FOUND');
      return { kind: 'createDataQuery', region, scopeId };
    }
    if (records !== 'records' || method !== 'GET') throw new IntakeError('RESOURCE_NOT_FOUND');
    if (queryId.trim() === '') throw new IntakeError('BLANK_QUERY_ID');
    return { kind: 'listDataQueryRecords', region, scopeId, queryId };
  }

  private authenticate(brand: Brand, request: IncomingMessage): Caller {
    const { state, clock } = this.sandbox;
    const header = request.headers.authorization;
    if (header === undefined || header.trim() === '') throw new IntakeError('MISSING_AUTHORIZATION_HEADER');
    const value = header.replace(/^Bearer\s*/i, '').trim();
    if (value === '' || value === 'null' || value === 'undefined') throw new IntakeError('MISSING_ACCESS_TOKEN');
    const token = state.accessTokens.get(value);
    if (!token || token.expiresAt <= clock.now()) throw new IntakeError('ACCESS_DENIED');
    const grant = state.grants.get(token.grantId)!;
    const app = state.apps.get(grant.clientId);
    if (!app || app.deleted) throw new IntakeError('SECURITY_PROFILE_NOT_FOUND');
    if (app.allowlist === 'unidentified') throw new IntakeError('APP_IDENTIFICATION_FAILURE');
    if (app.allowlist === 'not-allowlisted') throw new IntakeError('APP_NOT_ALLOWLISTED');
    // A Ring token does not open Blink's intake, and the other way round.
    if (grant.brand !== brand) throw new IntakeError('ACCESS_DENIED');
    return { app, grant, customer: state.customers.get(grant.customerId)! };
  }

  private checkScope(app: App, scopeId: string): void {
    if (!this.sandbox.options.knownScopes.includes(scopeId)) throw new IntakeError('SCOPE_ID_NOT_FOUND');
    if (!app.enabledScopes.includes(scopeId)) throw new IntakeError('SCOPE_NOT_ENABLED');
  }

  /** Expired or revoked authorization and accounts on hold get the reference's 403. */
  private checkAuthorization(caller: Caller): void {
    if (!this.sandbox.grantIsActive(caller.grant) || caller.customer.onHold) throw new IntakeError('ACCESS_DENIED');
  }

  private checkRateLimits(operation: 'createDataQuery' | 'listDataQueryRecords', caller: Caller, scopeId: string): void {
    const { limits } = this.sandbox.options;
    const { limiter } = this.sandbox;
    const key = `${operation}|${caller.app.clientId}|${scopeId}`;
    // Daily quotas reset at midnight UTC (sandbox time).
    const day = `${key}|d${Math.floor(this.sandbox.clock.now() / 86_400_000)}`;
    if (operation === 'createDataQuery') {
      const { createPerWindow: perWindow, createPerDay: perDay } = limits;
      if (!limiter.allows(`${key}|s`, limits.createPerSecond, 1000)) throw new IntakeError('TOO_MANY_REQUESTS', undefined, 'rate-limit');
      if (perWindow !== null && !limiter.allows(`${key}|w`, perWindow, limits.createWindowMs)) throw new IntakeError('THROTTLED', undefined, 'rate-limit');
      if (perDay !== undefined && !limiter.allows(day, perDay, 86_400_000)) throw new IntakeError('QUOTA_EXCEEDED', undefined, 'rate-limit');
      limiter.record(`${key}|s`);
      if (perWindow !== null) limiter.record(`${key}|w`);
      if (perDay !== undefined) limiter.record(day);
    } else {
      if (!limiter.allows(`${key}|s`, limits.listPerSecond, 1000)) throw new IntakeError('TOO_MANY_REQUESTS', undefined, 'rate-limit');
      if (!limiter.allows(day, limits.listPerDay, 86_400_000)) throw new IntakeError('QUOTA_EXCEEDED', undefined, 'rate-limit');
      limiter.record(`${key}|s`);
      limiter.record(day);
    }
  }

  private createDataQuery(caller: Caller, brand: Brand, region: Region, scopeId: string): [number, unknown] {
    const { state, clock } = this.sandbox;
    const latestKey = `${caller.app.clientId}|${caller.customer.id}|${scopeId}`;
    if (this.latest.get(latestKey)?.status === 'IN_PROGRESS') throw new IntakeError('REQUEST_CONFLICT');
    const { customer, grant } = caller;
    const spec = {
      seed: customer.seed,
      windowStart: grant.windowStart,
      windowEnd: grant.grantedAt,
      counts: customer.datasets,
      changes: [...customer.changes],
      recordsPerFile: customer.recordsPerFile,
      malformed: customer.malformed,
    };
    const query: Query = {
      id: randomUUID(),
      clientId: caller.app.clientId,
      customerId: customer.id,
      grantId: grant.id,
      brand,
      region,
      scopeId,
      status: 'IN_PROGRESS',
      createdAt: clock.now(),
      spec,
      files: planFiles(spec),
    };
    state.queries.set(query.id, query);
    this.latest.set(latestKey, query);
    query.cancelCompletion = clock.schedule(this.sandbox.options.queryDelayMs, () => this.sandbox.finishQuery(query));
    return [201, { id: query.id }];
  }

  private listDataQueryRecords(caller: Caller, brand: Brand, scopeId: string, queryId: string, url: URL): [number, unknown] {
    const { state, clock } = this.sandbox;
    const params = url.searchParams;
    for (const name of ['maxResults', 'nextPageToken']) {
      if (params.has(name) && params.get(name) === '' && !url.search.includes(`${name}=`)) throw new IntakeError('MISSING_PARAMETER');
    }
    const rawMax = params.get('maxResults');
    const maxResults = rawMax === null ? DEFAULT_MAX_RESULTS : Number(rawMax);
    if (!/^\d+$/.test(rawMax ?? '250') || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 250) throw new IntakeError('INVALID_MAX_RESULTS');

    const query = UUID.test(queryId) ? state.queries.get(queryId) : undefined;
    if (!query || query.brand !== brand) throw new IntakeError('QUERY_ID_NOT_FOUND');
    if (query.clientId !== caller.app.clientId || query.customerId !== caller.customer.id || query.scopeId !== scopeId) {
      throw new IntakeError('INVALID_PARAMETERS');
    }
    // Listing opens when the notification is sent, not when the query completes (a delayed
    // notification delays it), and closes an hour after that.
    if (query.status !== 'COMPLETED' || query.notifiedAt === undefined) throw new IntakeError('QUERY_NOT_COMPLETED');
    if (clock.now() > query.notifiedAt + LIST_WINDOW_MS) throw new IntakeError('ACCESS_TIME_ELAPSED');

    const token = params.get('nextPageToken');
    const offset = token === null ? 0 : this.readPageToken(token, query.id);
    const page = query.files.slice(offset, offset + maxResults);
    const records = page.map((file) => ({
      schema: this.sandbox.downloads.presign(query, file, 'schema'),
      file: this.sandbox.downloads.presign(query, file, 'data'),
    }));
    const next = offset + page.length;
    return [200, next < query.files.length ? { records, nextPageToken: this.pageToken(query.id, next) } : { records }];
  }

  private pageToken(queryId: string, offset: number): string {
    const payload = Buffer.from(JSON.stringify({ q: queryId, o: offset })).toString('base64url');
    return `${payload}.${this.tag(payload)}`;
  }

  private readPageToken(token: string, queryId: string): number {
    const [payload, tag] = token.split('.');
    if (!payload || !tag || tag.length !== this.tag(payload).length || !timingSafeEqual(Buffer.from(tag), Buffer.from(this.tag(payload)))) {
      throw new IntakeError('INVALID_NEXT_PAGE');
    }
    const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { q: string; o: number };
    if (parsed.q !== queryId) throw new IntakeError('INVALID_NEXT_PAGE');
    return parsed.o;
  }

  private tag(payload: string): string {
    return createHmac('sha256', this.sandbox.secret).update(`page|${payload}`).digest('base64url').slice(0, 22);
  }
}
