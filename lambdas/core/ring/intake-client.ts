import { z } from 'zod';
import type { Clock, Connection, Logger } from '../ports';
import type { Secret } from '../secret';
import { RetryLaterError, RingApiError } from './errors';
import type { RateLimiter, RingOperation } from './rate-limiter';
import { withRetries, type RetryOptions } from './retry';
import type { TokenService } from './token-service';

const CreateDataQueryOutput = z.object({ id: z.string().min(1) });
const DataQueryRecord = z.object({ schema: z.string().min(1), file: z.string().min(1) }).passthrough();
const ListDataQueryRecordsOutput = z.object({
  records: z.array(DataQueryRecord),
  nextPageToken: z.string().min(1).optional(),
});
export type DataQueryRecord = z.infer<typeof DataQueryRecord>;

export interface RecordsPage {
  readonly records: DataQueryRecord[];
  /** The token that fetched this page (undefined for the first page). */
  readonly pageToken?: string;
  readonly nextPageToken?: string;
}

export interface IntakeClientDeps {
  readonly tokens: TokenService;
  readonly limiter: RateLimiter;
  /** `<intake base for the region>/<scopeId>` for a connection. */
  readonly intakeUrl: (connection: Connection) => string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
  readonly retry?: Omit<RetryOptions, 'clock' | 'remainingMs'>;
}

export interface CallOptions {
  /** The invocation's remaining time (Lambda context.getRemainingTimeInMillis). */
  readonly remainingMs?: () => number;
  /** False: one attempt only (a refused token's refresh-then-retry aside); the caller retries in its own time. @default true */
  readonly retries?: boolean;
}

/** Longest wait for rate-limit budget inside one call before re-queueing instead. */
const MAX_BUDGET_WAIT_MS = 10_000;

/**
 * The Data Portability intake API for one connection: createDataQuery and
 * listDataQueryRecords, behind the shared rate limiter, with the connection's access token,
 * Ring's retry schedule, one refresh-then-retry when a token is refused, and every failure a
 * typed RingApiError with a decision.
 */
export class IntakeClient {
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly deps: IntakeClientDeps) {
    this.fetch = deps.fetch ?? fetch;
    this.timeoutMs = deps.timeoutMs ?? 15_000;
  }

  async createDataQuery(connection: Connection, options: CallOptions = {}): Promise<{ queryId: string }> {
    const body = await this.call(connection, 'createDataQuery', 'POST', `${this.deps.intakeUrl(connection)}/data-queries`, options);
    const parsed = CreateDataQueryOutput.safeParse(body);
    if (!parsed.success) throw new RingApiError(201, undefined, undefined, 'createDataQuery answered without an id', 'retry');
    return { queryId: parsed.data.id };
  }

  /** One page of a completed query's records. */
  async listPage(connection: Connection, queryId: string, page: { pageToken?: string; maxResults?: number } = {}, options: CallOptions = {}): Promise<RecordsPage> {
    const params = new URLSearchParams({ maxResults: String(page.maxResults ?? 250) });
    if (page.pageToken) params.set('nextPageToken', page.pageToken);
    const url = `${this.deps.intakeUrl(connection)}/data-queries/${encodeURIComponent(queryId)}/records?${params.toString()}`;
    const body = await this.call(connection, 'listDataQueryRecords', 'GET', url, options);
    const parsed = ListDataQueryRecordsOutput.safeParse(body);
    if (!parsed.success) throw new RingApiError(200, undefined, undefined, 'listDataQueryRecords answered an unexpected shape', 'retry');
    return { records: parsed.data.records, pageToken: page.pageToken, nextPageToken: parsed.data.nextPageToken };
  }

  /** Every page of a completed query, following nextPageToken to the end. */
  async *listDataQueryRecords(connection: Connection, queryId: string, page: { maxResults?: number; pageToken?: string } = {}, options: CallOptions = {}): AsyncGenerator<RecordsPage> {
    let pageToken = page.pageToken;
    do {
      const result = await this.listPage(connection, queryId, { pageToken, maxResults: page.maxResults }, options);
      yield result;
      pageToken = result.nextPageToken;
    } while (pageToken);
  }

  private async call(connection: Connection, operation: RingOperation, method: 'GET' | 'POST', url: string, options: CallOptions): Promise<unknown> {
    const { clock } = this.deps;
    return withRetries(
      async () => {
        const { token, refreshed } = await this.deps.tokens.getAccessToken(connection);
        // Budget last, right before the request, so the recorded time is when Ring sees the call.
        await this.takeBudget(connection, operation, options);
        try {
          return await this.send(method, url, token);
        } catch (error) {
          if (!(error instanceof RingApiError) || error.decision !== 'refresh-then-retry') throw error;
          // Refused token: refresh once (unless it was just refreshed) and try again. A fresh
          // token that is refused too means Ring refuses the data though it renews the
          // authorization (on hold); a revoked or expired one fails the refresh instead.
          if (refreshed) throw denied(error);
          this.deps.logger.info('access token refused; refreshing once', { customerId: connection.customerId, operation });
          const again = await this.deps.tokens.getAccessToken(connection, { rejected: token });
          await this.takeBudget(connection, operation, options);
          try {
            return await this.send(method, url, again.token);
          } catch (retryError) {
            if (retryError instanceof RingApiError && retryError.decision === 'refresh-then-retry') throw denied(retryError);
            throw retryError;
          }
        }
      },
      (error) => ({
        retry: error instanceof RingApiError && error.decision === 'retry',
        retryAfterSeconds: error instanceof RingApiError ? error.retryAfterSeconds : undefined,
      }),
      { ...this.deps.retry, ...(options.retries === false ? { scheduleSeconds: [] } : {}), clock, remainingMs: options.remainingMs },
    );
  }

  /** Waits for rate-limit budget, or re-queues the work when the wait is long. */
  private async takeBudget(connection: Connection, operation: RingOperation, options: CallOptions): Promise<void> {
    const { limiter, clock } = this.deps;
    let waited = 0;
    for (;;) {
      const permit = await limiter.acquire(operation, connection.brand, connection.customerId);
      if (permit.go) return;
      const remaining = options.remainingMs?.() ?? Number.POSITIVE_INFINITY;
      if (waited + permit.waitMs > MAX_BUDGET_WAIT_MS || permit.waitMs > remaining - 5_000) {
        throw new RetryLaterError(Math.ceil(permit.waitMs / 1000), `${operation} is over its rate limit`);
      }
      await clock.sleep(permit.waitMs);
      waited += permit.waitMs;
    }
  }

  private async send(method: 'GET' | 'POST', url: string, token: Secret): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetch(url, {
        method,
        headers: { authorization: `Bearer ${token.reveal()}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      // No answer at all: as a 504 (retry).
      throw new RingApiError(504, undefined, undefined, `no response (${(error as Error).name})`, 'retry');
    }
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.ok) return body;
    throw RingApiError.fromResponse(response.status, body, response.headers.get('retry-after'), this.deps.clock.now());
  }
}

/** ACCESS_DENIED with a fresh token: the authorization refreshes but its data is refused (on hold). */
function denied(error: RingApiError): RingApiError {
  return new RingApiError(error.status, error.category, error.type, error.ringMessage, 'stop-connection', error.retryAfterSeconds);
}
