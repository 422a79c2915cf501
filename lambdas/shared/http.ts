import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import { InvalidStateError, ConflictError, NotFoundError, ValidationError } from '../core/connections/model';
import { ConfigurationError, PortabilityError } from '../core/errors';
import type { Logger } from '../core/ports';
import { ClientCredentialsError, RetryLaterError } from '../core/ring/errors';
import { describeIssues } from '../core/validation';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** The largest request body any route accepts. */
export const MAX_BODY_BYTES = 16 * 1024;

export class PayloadTooLargeError extends PortabilityError {
  readonly name = 'PayloadTooLargeError';
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }, body: JSON.stringify(body) };
}

/** The request body as JSON, size-capped, validated with `schema`; errors name the field. */
export function parseJsonBody<Schema extends z.ZodType>(event: HttpEvent, schema: Schema): z.output<Schema> {
  const raw = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) throw new PayloadTooLargeError(`the request body is over ${MAX_BODY_BYTES} bytes`);
  let value: unknown;
  try {
    value = raw === '' ? {} : JSON.parse(raw);
  } catch {
    throw new ValidationError('the request body is not valid JSON');
  }
  return parse(schema, value, 'body');
}

export function parse<Schema extends z.ZodType>(schema: Schema, value: unknown, where: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(describeIssues(result.error, { prefix: where }).join('; '));
}

const STATUS: [new (...args: never[]) => Error, number, string][] = [
  [ValidationError, 400, 'bad_request'],
  [InvalidStateError, 400, 'invalid_state'],
  [NotFoundError, 404, 'not_found'],
  [ConflictError, 409, 'conflict'],
  [PayloadTooLargeError, 413, 'payload_too_large'],
  [RetryLaterError, 503, 'unavailable'],
  [ClientCredentialsError, 500, 'configuration'],
  [ConfigurationError, 500, 'configuration'],
];

/**
 * Every HTTP handler's errors, in one place: typed errors become `{error, message}` with
 * their status; anything else is a 500 with a generic message, logged, never a stack trace.
 */
export function httpErrors(logger: Logger): middy.MiddlewareObj<HttpEvent, HttpResult> {
  return {
    onError: (request) => {
      const error = request.error;
      const match = STATUS.find(([type]) => error instanceof type);
      if (match && !(error instanceof ClientCredentialsError || error instanceof ConfigurationError)) {
        request.response = json(match[1], { error: match[2], message: error!.message }, error instanceof RetryLaterError ? { 'retry-after': String(error.retryAfterSeconds) } : {});
        return;
      }
      logger.error('request failed', { errorName: error?.name ?? 'unknown', errorMessage: error?.message });
      request.response = json(match ? match[1] : 500, { error: match ? match[2] : 'internal', message: match ? 'the service is not configured correctly; see its logs' : 'internal error' });
    },
  };
}
