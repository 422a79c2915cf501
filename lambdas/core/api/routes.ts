import type { z } from 'zod';
import { SnsMessage } from '../notifications/sns-verifier';
import {
  ApiError,
  CallbackQuery,
  ConnectBody,
  ConnectionPage,
  ConnectionView,
  ConnectLink,
  CustomerPath,
  Disconnected,
  DisconnectQuery,
  GatewayError,
  ImportPage,
  ImportRequested,
  ListConnectionsQuery,
  ListImportsQuery,
  NotificationAccepted,
} from './schemas';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** The Lambda function behind a route (lambdas/<handler>/handler.ts). */
export type RouteHandler = 'connect' | 'connections' | 'callback' | 'notifications';

export interface RouteResponse {
  readonly description: string;
  /** The body's schema; none for a redirect. */
  readonly schema?: z.ZodType;
  /** @default application/json */
  readonly contentType?: string;
  /** Headers that come with it, by name: what they say. */
  readonly headers?: Readonly<Record<string, string>>;
}

interface RouteBase {
  readonly method: HttpMethod;
  /** API Gateway's path, `{name}` for a path parameter. */
  readonly path: string;
  readonly handler: RouteHandler;
  readonly summary: string;
  readonly description?: string;
  readonly request: {
    readonly path?: z.ZodObject;
    readonly query?: z.ZodObject;
    readonly body?: { readonly schema: z.ZodType; readonly contentType: string };
  };
  /** Every answer by status, errors included: what the handler answers and what API Gateway answers for it. */
  readonly responses: Readonly<Record<number, RouteResponse>>;
}

/**
 * iam: SigV4-signed by the integrator's backend. public: Ring or the customer's browser calls
 * it (no AWS credentials), with the reason (cdk-nag's AwsSolutions-APIG4 acknowledgement).
 */
export type ApiRoute = RouteBase & ({ readonly auth: 'iam' } | { readonly auth: 'public'; readonly whyPublic: string });

const error = (description: string): RouteResponse => ({ description, schema: ApiError });
const gateway = (description: string): RouteResponse => ({ description, schema: GatewayError });

/** What API Gateway answers for any IAM route before the handler runs. */
const IAM_ERRORS = {
  403: gateway('API Gateway: the request is not SigV4-signed, the signature is wrong, or the caller may not invoke the API (execute-api:Invoke).'),
  429: gateway('API Gateway: throttled (the stage’s rate or burst limit).'),
  500: error('`internal` or `configuration`: the service failed; its logs say why (the answer never does).'),
} as const;

const BAD_REQUEST = { 400: error('`bad_request`: the message names each field that is wrong.') } as const;
const NOT_FOUND = { 404: error('`not_found`: there is no connection for this customer.') } as const;

/**
 * Every route of the HTTP API, in one table: the CDK construct (lib/stateless/connect-api.ts,
 * query-lifecycle.ts) adds these routes, the local runtime serves them (local/runtime.ts), the
 * handlers parse with these schemas and answer what they describe, and docs/openapi.json is
 * generated from it (`npm run docs:api`). Tests hold all four to it.
 */
export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: 'POST',
    path: '/connections',
    handler: 'connect',
    auth: 'iam',
    summary: 'Create a connect link for a customer',
    description: 'Starts the OAuth 2.0 + PKCE flow: send the customer’s browser to `authorizeUrl` before `expiresAt` (10 minutes).',
    request: { body: { schema: ConnectBody, contentType: 'application/json' } },
    responses: {
      201: { description: 'The connect link.', schema: ConnectLink },
      ...BAD_REQUEST,
      413: error('`payload_too_large`: the body is over 16 KiB.'),
      ...IAM_ERRORS,
    },
  },
  {
    method: 'GET',
    path: '/connections',
    handler: 'connections',
    auth: 'iam',
    summary: 'List connections',
    description:
      'Paginated: pass `nextCursor` back as `cursor` with the same filters until it is absent. Without `status`, the statuses are walked in a fixed order. One request reads at most `limit` connections; with `brand`, those of other brands are left out after reading, so a page may hold fewer than `limit`.',
    request: { query: ListConnectionsQuery },
    responses: { 200: { description: 'One page of connections, in customer-id order within each status.', schema: ConnectionPage }, ...BAD_REQUEST, ...IAM_ERRORS },
  },
  {
    method: 'GET',
    path: '/connections/{customerId}',
    handler: 'connections',
    auth: 'iam',
    summary: 'Get a connection',
    description: 'Its status and why, and what became of the last import request (`lastImport`).',
    request: { path: CustomerPath },
    responses: { 200: { description: 'The connection.', schema: ConnectionView }, ...BAD_REQUEST, ...NOT_FOUND, ...IAM_ERRORS },
  },
  {
    method: 'POST',
    path: '/connections/{customerId}/imports',
    handler: 'connections',
    auth: 'iam',
    summary: 'Import now',
    description: 'Queues an import ahead of the recurring ones; a request while one is waiting or under way joins it (`merged`).',
    request: { path: CustomerPath },
    responses: {
      202: { description: 'Queued.', schema: ImportRequested },
      ...BAD_REQUEST,
      ...NOT_FOUND,
      409: error('`conflict`: the connection is REVOKED or RELINK_REQUIRED: the customer must connect again.'),
      ...IAM_ERRORS,
    },
  },
  {
    method: 'GET',
    path: '/connections/{customerId}/imports',
    handler: 'connections',
    auth: 'iam',
    summary: 'List a customer’s imports',
    description: 'The customer’s data queries, newest first, with their timings and counts. Paginated as GET /connections.',
    request: { path: CustomerPath, query: ListImportsQuery },
    responses: { 200: { description: 'One page of imports.', schema: ImportPage }, ...BAD_REQUEST, ...NOT_FOUND, ...IAM_ERRORS },
  },
  {
    method: 'DELETE',
    path: '/connections/{customerId}',
    handler: 'connections',
    auth: 'iam',
    summary: 'Disconnect, and optionally purge the customer’s data',
    request: { path: CustomerPath, query: DisconnectQuery },
    responses: {
      200: { description: 'Disconnected (and, with purge, everything deleted for good).', schema: Disconnected },
      202: {
        description: 'Disconnected; the purge stopped at its time budget or must wait for ingestion under way: call again after `retry-after`.',
        schema: Disconnected,
        headers: { 'retry-after': 'Seconds to wait before calling again.' },
      },
      ...BAD_REQUEST,
      ...NOT_FOUND,
      ...IAM_ERRORS,
    },
  },
  {
    method: 'GET',
    path: '/oauth/callback',
    handler: 'callback',
    auth: 'public',
    whyPublic:
      "The OAuth redirect URI is called by the customer's browser coming back from Ring: it cannot carry AWS credentials. It accepts only a single-use state created by an IAM-authorized call, and is throttled.",
    summary: 'OAuth redirect URI (the customer’s browser, back from Ring)',
    description: 'Accepts only a single-use state created by POST /connections. Answers with a redirect to the connect link’s `returnUrl` (with `status` and `customerId`), or a small HTML page.',
    request: { query: CallbackQuery },
    responses: {
      200: { description: 'Connected, or the customer declined: an HTML page.', contentType: 'text/html' },
      302: { description: 'Back to `returnUrl`, with `status` (connected | denied | error) and `customerId`.', headers: { location: 'The returnUrl with the outcome.' } },
      400: { description: 'The link is invalid, expired or was already used: an HTML page.', contentType: 'text/html' },
      429: gateway('API Gateway: throttled (this route’s tighter limit).'),
      500: { description: 'The connection could not be completed: an HTML page.', contentType: 'text/html' },
      502: { description: 'Ring refused the code exchange: an HTML page.', contentType: 'text/html' },
    },
  },
  {
    method: 'POST',
    path: '/notifications/v1',
    handler: 'notifications',
    auth: 'public',
    whyPublic:
      "Ring's notifications arrive as Amazon SNS HTTPS deliveries, which cannot sign with AWS credentials; every message's SNS signature, certificate (pinned origin, chain to Amazon's roots), topic and age are verified, and the route is throttled.",
    summary: 'Ring’s notifications (Amazon SNS HTTP delivery)',
    description: 'The body is an SNS message, signed; SNS posts it as text/plain. Unknown query ids are answered 200 (`accepted`).',
    request: { body: { schema: SnsMessage, contentType: 'text/plain' } },
    responses: {
      200: { description: 'Verified and recorded.', schema: NotificationAccepted },
      400: error('`rejected`: not a valid SNS message.'),
      403: error('`rejected`: the signature, certificate, topic or timestamp is not accepted.'),
      413: error('`payload_too_large`: over 16 KiB.'),
      429: gateway('API Gateway: throttled (this route’s tighter limit).'),
      500: error('`internal`: SNS retries.'),
      503: error('`unavailable`: the signing certificate could not be fetched; SNS retries.'),
    },
  },
];

/** `METHOD /path`, as API Gateway names a route (the event's routeKey). */
export const routeKey = (route: Pick<ApiRoute, 'method' | 'path'>): string => `${route.method} ${route.path}`;
