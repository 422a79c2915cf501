import { PortabilityError } from '../errors';

/**
 * What the caller should do about a failed Ring call.
 * - `retry`: transient; back off (1, 2, 4, 10, 30 s with jitter) and call again.
 * - `wait`: Ring is busy with this customer (a query in progress) or out of quota: try later.
 * - `relist`: list the query's records again (expired download URL, stale page token).
 * - `recreate`: the query can no longer be listed: create a new one.
 * - `refresh-then-retry`: the access token was refused; refresh it and retry once.
 * - `stop-connection`: access refused to a token Ring has just issued: the authorization still
 *   refreshes, so the account is on hold (the connection goes ON_HOLD; a refused refresh, which
 *   a revoked or expired consent gets, is `RelinkRequiredError` instead).
 * - `fail`: a configuration problem or a bug an operator must fix; retrying cannot help.
 */
export type Decision = 'retry' | 'wait' | 'relist' | 'recreate' | 'refresh-then-retry' | 'stop-connection' | 'fail';

/** The reference's error table, by type (and category, for the two 429 TOO_MANY_REQUESTS rows). */
export const DECISIONS: Record<string, Decision> = {
  INVALID_PARAMETERS: 'fail',
  INVALID_MAX_RESULTS: 'fail',
  INVALID_NEXT_PAGE: 'relist',
  ACCESS_DENIED: 'refresh-then-retry',
  MISSING_ACCESS_TOKEN: 'fail',
  APP_NOT_ALLOWLISTED: 'fail',
  SCOPE_NOT_ENABLED: 'fail',
  QUERY_NOT_COMPLETED: 'wait',
  ACCESS_TIME_ELAPSED: 'recreate',
  APP_IDENTIFICATION_FAILURE: 'fail',
  MISSING_AUTHORIZATION_HEADER: 'fail',
  BLOCKED_REQUEST: 'retry',
  SECURITY_PROFILE_NOT_FOUND: 'fail',
  QUERY_ID_NOT_FOUND: 'recreate',
  SCOPE_ID_NOT_FOUND: 'fail',
  RESOURCE_NOT_FOUND: 'fail',
  REQUEST_CONFLICT: 'wait',
  REQUEST_TOO_LARGE: 'fail',
  TOO_MANY_REQUESTS: 'retry',
  QUOTA_EXCEEDED: 'wait',
  MISSING_PARAMETER: 'retry',
  INTERNAL_SERVER_ERROR: 'retry',
  BLANK_SECURITY_PROFILE_ID: 'retry',
  INVALID_API_PATH: 'retry',
  BLANK_SCOPE_ID: 'retry',
  BLANK_CUSTOMER_ID: 'retry',
  BLANK_QUERY_ID: 'retry',
  API_CONFIGURATION_ERROR: 'retry',
  AUTHORIZATION_CONFIGURATION_ERROR: 'retry',
  AUTHORIZATION_FAILURE: 'retry',
  INTEGRATION_FAILURE: 'retry',
  INTEGRATION_TIMEOUT: 'retry',
};

/** The reference: "If you received a response with 429, 500, or 504 HTTP status code, make a retry request." */
function decisionForStatus(status: number): Decision {
  if (status === 429 || status >= 500) return 'retry';
  if (status === 409) return 'wait';
  return 'fail';
}

/** A Ring API call that failed, with Ring's error fields and what to do about it. */
export class RingApiError extends PortabilityError {
  readonly name = 'RingApiError';

  constructor(
    readonly status: number,
    readonly category: string | undefined,
    readonly type: string | undefined,
    readonly ringMessage: string | undefined,
    readonly decision: Decision,
    /** Seconds Ring (Retry-After) or the decision asks to wait, when known. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`Ring answered ${status}${type ? ` ${category ?? ''}/${type}` : ''}${ringMessage ? `: ${ringMessage}` : ''} (decision: ${decision})`);
  }

  /** Builds the typed error from a response: known types from the table, anything else by status. */
  static fromResponse(status: number, body: unknown, retryAfterHeader?: string | null, now = Date.now()): RingApiError {
    const fields = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const type = typeof fields.type === 'string' ? fields.type : undefined;
    const category = typeof fields.category === 'string' ? fields.category : undefined;
    const message = typeof fields.message === 'string' ? fields.message.slice(0, 300) : undefined;
    const decision = (type !== undefined && Object.hasOwn(DECISIONS, type) ? DECISIONS[type] : undefined) ?? decisionForStatus(status);
    let retryAfter = parseRetryAfter(retryAfterHeader, now);
    // A daily quota comes back at midnight UTC.
    if (type === 'QUOTA_EXCEEDED' && retryAfter === undefined) retryAfter = Math.ceil((86_400_000 - (now % 86_400_000)) / 1000);
    return new RingApiError(status, category, type, message, decision, retryAfter);
  }
}

/**
 * A failed download of a listed file (an S3 presigned URL): an expired or refused URL is
 * re-listed for fresh URLs, S3's 5xx and SlowDown are retried.
 */
export function downloadFailure(status: number, body: string, retryAfterHeader?: string | null): RingApiError {
  const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]+)<\/Message>/.exec(body)?.[1];
  const decision: Decision = status === 403 || status === 400 || status === 404 ? 'relist' : status === 429 || status >= 500 || code === 'SlowDown' ? 'retry' : 'fail';
  return new RingApiError(status, 'S3', code, message, decision, parseRetryAfter(retryAfterHeader));
}

/** Retry-After as delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined;
}

/** The customer's authorization is gone or unusable: the connection needs the customer to connect again. */
export class RelinkRequiredError extends PortabilityError {
  readonly name = 'RelinkRequiredError';

  constructor(
    readonly customerId: string,
    readonly reason: string,
  ) {
    super(`Connection ${customerId} must be linked again: ${reason}`);
  }
}

/** Work that cannot finish in this invocation: re-queue it with this delay (an SQS delayed message). */
export class RetryLaterError extends PortabilityError {
  readonly name = 'RetryLaterError';

  constructor(
    readonly retryAfterSeconds: number,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(`Retry in ${retryAfterSeconds} s: ${reason}`, { cause });
  }
}

/** The token endpoint refused the client: client_id/client_secret are wrong or missing. */
export class ClientCredentialsError extends PortabilityError {
  readonly name = 'ClientCredentialsError';
}
