import type { RefreshRefusal, RefusalOrigin } from './observer';

/**
 * Every error of the reference's "Error Responses and Schemas" table, with its exact HTTP
 * status, category, type and message. Keys are unique names; they equal the type except for
 * the two 429 TOO_MANY_REQUESTS rows, told apart by category (`THROTTLED`).
 */
export const INTAKE_ERRORS = {
  INVALID_PARAMETERS: [400, 'BAD_REQUEST', 'INVALID_PARAMETERS', 'Parameters provided for this request are invalid'],
  INVALID_MAX_RESULTS: [400, 'BAD_REQUEST', 'INVALID_MAX_RESULTS', 'Max results value is outside limits'],
  INVALID_NEXT_PAGE: [400, 'BAD_REQUEST', 'INVALID_NEXT_PAGE', 'Invalid next page token'],
  ACCESS_DENIED: [403, 'FORBIDDEN', 'ACCESS_DENIED', 'App is not authorized to do this operation'],
  MISSING_ACCESS_TOKEN: [403, 'FORBIDDEN', 'MISSING_ACCESS_TOKEN', 'Access token not provided in request'],
  APP_NOT_ALLOWLISTED: [403, 'FORBIDDEN', 'APP_NOT_ALLOWLISTED', 'App is not allowlisted'],
  SCOPE_NOT_ENABLED: [403, 'FORBIDDEN', 'SCOPE_NOT_ENABLED', 'Scope not enabled for app'],
  QUERY_NOT_COMPLETED: [403, 'FORBIDDEN', 'QUERY_NOT_COMPLETED', 'Query is not completed'],
  ACCESS_TIME_ELAPSED: [403, 'FORBIDDEN', 'ACCESS_TIME_ELAPSED', 'Access time for this query has elapsed'],
  APP_IDENTIFICATION_FAILURE: [403, 'FORBIDDEN', 'APP_IDENTIFICATION_FAILURE', 'Failed to identify the app'],
  MISSING_AUTHORIZATION_HEADER: [403, 'FORBIDDEN', 'MISSING_AUTHORIZATION_HEADER', 'Authorization header is missing or empty'],
  BLOCKED_REQUEST: [403, 'FORBIDDEN', 'BLOCKED_REQUEST', 'Request blocked for security reasons'],
  SECURITY_PROFILE_NOT_FOUND: [404, 'RESOURCE_NOT_FOUND', 'SECURITY_PROFILE_NOT_FOUND', 'Security profile id does not exist'],
  QUERY_ID_NOT_FOUND: [404, 'RESOURCE_NOT_FOUND', 'QUERY_ID_NOT_FOUND', 'Query id does not exist'],
  SCOPE_ID_NOT_FOUND: [404, 'RESOURCE_NOT_FOUND', 'SCOPE_ID_NOT_FOUND', 'Scope id does not exist'],
  RESOURCE_NOT_FOUND: [404, 'RESOURCE_NOT_FOUND', 'RESOURCE_NOT_FOUND', 'Invalid URI or unsupported method'],
  REQUEST_CONFLICT: [409, 'CONFLICT', 'REQUEST_CONFLICT', 'There is a conflicting request in progress'],
  REQUEST_TOO_LARGE: [413, 'CONTENT_TOO_LARGE', 'REQUEST_TOO_LARGE', 'Payload size limit exceeded'],
  TOO_MANY_REQUESTS: [429, 'TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS', 'Requests rate limit exceeded'],
  QUOTA_EXCEEDED: [429, 'TOO_MANY_REQUESTS', 'QUOTA_EXCEEDED', 'Daily quota exceeded'],
  THROTTLED: [429, 'THROTTLED', 'TOO_MANY_REQUESTS', 'Requests rate limit exceeded'],
  MISSING_PARAMETER: [500, 'INTERNAL_SERVER_ERROR', 'MISSING_PARAMETER', 'Required parameter not provided in request'],
  INTERNAL_SERVER_ERROR: [500, 'INTERNAL_SERVER_ERROR', 'INTERNAL_SERVER_ERROR', 'Unexpected internal server exception'],
  BLANK_SECURITY_PROFILE_ID: [500, 'INTERNAL_SERVER_ERROR', 'BLANK_SECURITY_PROFILE_ID', 'Security profile id is missing, empty or contains only whitespaces'],
  INVALID_API_PATH: [500, 'INTERNAL_SERVER_ERROR', 'INVALID_API_PATH', 'Invalid API path'],
  BLANK_SCOPE_ID: [500, 'INTERNAL_SERVER_ERROR', 'BLANK_SCOPE_ID', 'Scope id is missing, empty or contains only whitespaces'],
  BLANK_CUSTOMER_ID: [500, 'INTERNAL_SERVER_ERROR', 'BLANK_CUSTOMER_ID', 'Customer id missing, empty or contains only whitespaces'],
  BLANK_QUERY_ID: [500, 'INTERNAL_SERVER_ERROR', 'BLANK_QUERY_ID', 'Query id is missing, empty or contains only whitespaces'],
  API_CONFIGURATION_ERROR: [500, 'INTERNAL_SERVER_ERROR', 'API_CONFIGURATION_ERROR', 'Failed to connect to server'],
  AUTHORIZATION_CONFIGURATION_ERROR: [500, 'INTERNAL_SERVER_ERROR', 'AUTHORIZATION_CONFIGURATION_ERROR', 'Failed to authenticate the app'],
  AUTHORIZATION_FAILURE: [500, 'INTERNAL_SERVER_ERROR', 'AUTHORIZATION_FAILURE', 'Failed to authenticate the app'],
  INTEGRATION_FAILURE: [500, 'INTERNAL_SERVER_ERROR', 'INTEGRATION_FAILURE', 'Failed to connect to server'],
  INTEGRATION_TIMEOUT: [504, 'GATEWAY_TIMEOUT', 'INTEGRATION_TIMEOUT', 'Request timed out'],
} as const satisfies Record<string, readonly [number, string, string, string]>;

export type IntakeErrorName = keyof typeof INTAKE_ERRORS;

export const INTAKE_ERROR_NAMES = Object.keys(INTAKE_ERRORS) as IntakeErrorName[];

export function isIntakeErrorName(name: string): name is IntakeErrorName {
  return Object.hasOwn(INTAKE_ERRORS, name);
}

/** Thrown inside an intake handler; turned into the reference's ErrorResponse. */
export class IntakeError extends Error {
  constructor(
    readonly errorName: IntakeErrorName,
    readonly retryAfterSeconds?: number,
    /** What refused the call: an injected fault, a rate limit, or the request itself. */
    readonly origin: RefusalOrigin = 'request',
  ) {
    super(INTAKE_ERRORS[errorName][3]);
  }

  get status(): number {
    return INTAKE_ERRORS[this.errorName][0];
  }

  get body(): { category: string; type: string; message: string } {
    const [, category, type, message] = INTAKE_ERRORS[this.errorName];
    return { category, type, message };
  }
}

/** RFC 6749 §5.2 error codes for the token endpoint, and §4.1.2.1 for authorize redirects. */
export const OAUTH_ERRORS = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'unsupported_response_type',
  'server_error',
  'temporarily_unavailable',
] as const;
export type OAuthErrorCode = (typeof OAUTH_ERRORS)[number];

export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly status = code === 'invalid_client' ? 401 : code === 'server_error' ? 500 : code === 'temporarily_unavailable' ? 503 : 400,
  ) {
    super(description);
  }
}

/** A refresh token refused (invalid_grant), and why: what an observer is told, never the client. */
export class RefreshRefusedError extends OAuthError {
  constructor(
    readonly refusal: RefreshRefusal,
    description: string,
  ) {
    super('invalid_grant', description);
  }
}
