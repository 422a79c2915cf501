/**
 * What went wrong, as the admin API says it: the handlers' `{error, message}` codes, and
 * `forbidden` for API Gateway's 403 to a missing or bad signature (its body is only
 * `{message}`). An answer without a code of ours (API Gateway's own 404, 413, 429, 5xx) gets
 * the code its status means.
 */
export const ERROR_CODES = ['bad_request', 'invalid_state', 'forbidden', 'not_found', 'conflict', 'payload_too_large', 'unavailable', 'internal', 'configuration'] as const;
export type RingPortabilityErrorCode = (typeof ERROR_CODES)[number];

/**
 * Every error the client raises for an answer of the API. Narrow on `code`; `unavailable`
 * carries `retryAfterSeconds` when the API said when to try again. The message is the API's
 * own: it never holds the request's credentials or signature.
 */
export class RingPortabilityError extends Error {
  override readonly name = 'RingPortabilityError';
  readonly status: number;
  readonly code: RingPortabilityErrorCode;
  /** API Gateway's request id (`apigw-requestid`), to quote when asking about a request. */
  readonly requestId?: string;
  /** For `unavailable`: the answer's `retry-after`, in seconds. */
  readonly retryAfterSeconds?: number;

  constructor(init: { status: number; code: RingPortabilityErrorCode; message: string; requestId?: string; retryAfterSeconds?: number }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    if (init.requestId !== undefined) this.requestId = init.requestId;
    if (init.retryAfterSeconds !== undefined) this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** The error an answer that is not a success stands for. */
export function errorFromAnswer(status: number, body: unknown, headers: Headers): RingPortabilityError {
  const fields = typeof body === 'object' && body !== null ? (body as { error?: unknown; message?: unknown }) : {};
  const code = (ERROR_CODES as readonly unknown[]).includes(fields.error) ? (fields.error as RingPortabilityErrorCode) : codeOfStatus(status);
  const message = typeof fields.message === 'string' && fields.message !== '' ? fields.message : `the API answered ${status}`;
  const requestId = headers.get('apigw-requestid') ?? headers.get('x-amzn-requestid') ?? undefined;
  const retryAfter = Number(headers.get('retry-after') ?? Number.NaN);
  return new RingPortabilityError({ status, code, message, requestId, retryAfterSeconds: code === 'unavailable' && Number.isFinite(retryAfter) ? retryAfter : undefined });
}

function codeOfStatus(status: number): RingPortabilityErrorCode {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 429:
    case 503:
      return 'unavailable';
    default:
      return status >= 400 && status < 500 ? 'bad_request' : 'internal';
  }
}
