import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { closeServer, listenOnLoopback } from './emulators/running-service';
import { verifySigV4, type SigV4Options } from './sigv4';

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface LocalRoute {
  readonly method: string;
  /** An API Gateway route path: `/connections/{customerId}`. */
  readonly path: string;
  readonly handler: HttpHandler;
  /** An IAM route: with `ServeOptions.iam`, only a request SigV4-signed with one of its key pairs reaches the handler. */
  readonly iam?: boolean;
}

export interface ServeOptions {
  readonly port?: number;
  /** What IAM routes check signatures against, as API Gateway does; without it, IAM routes are open (tests). */
  readonly iam?: SigV4Options;
  /** Anything else (a page of one's own), tried when no route matches. */
  readonly fallback?: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;
}

/** API Gateway's payload quota for an HTTP API (10 MB, not adjustable): a larger body never reaches the handler. */
const MAX_BODY = 10 * 1024 * 1024;

/**
 * Serves Lambda HTTP handlers on 127.0.0.1 the way API Gateway's HTTP API calls them:
 * payload 2.0 events with routeKey, path parameters, raw body (base64 when not text) and
 * query parameters. IAM routes check SigV4 signatures against fixed local key pairs, refusing
 * with API Gateway's 403s, and answers carry API Gateway's `apigw-requestid`.
 */
export async function serveHandlers(routes: readonly LocalRoute[] | (() => readonly LocalRoute[]), options: ServeOptions = {}): Promise<{ url: string; stop(): Promise<void> }> {
  const compile = (list: readonly LocalRoute[]) =>
    list.map((route) => ({
      ...route,
      routeKey: `${route.method} ${route.path}`,
      pattern: new RegExp(`^${route.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`),
    }));
  const fixed = typeof routes === 'function' ? undefined : compile(routes);
  // Invocations under way: stop() waits for them, so none is cut off from what it calls.
  const inFlight = new Set<Promise<void>>();
  const server: Server = createServer((request, response) => {
    const invocation = (async () => {
      const url = requestUrl(request.url);
      if (!url) {
        response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Bad Request' }));
        return;
      }
      const compiled = fixed ?? compile((routes as () => readonly LocalRoute[])());
      const route = compiled.find((candidate) => candidate.method === request.method && candidate.pattern.test(url.pathname));
      if (!route) {
        if (await options.fallback?.(request, response)) return;
        response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Not Found' }));
        return;
      }
      const body = await readBody(request);
      if (body === undefined) {
        // API Gateway's own answer, in the `{error, message}` shape the handlers' errors take.
        response.writeHead(413, { 'content-type': 'application/json', 'apigw-requestid': randomUUID() }).end(JSON.stringify({ error: 'payload_too_large', message: 'Request Entity Too Large' }));
        return;
      }
      const text = /^(text\/|application\/(json|x-www-form-urlencoded))/.test(request.headers['content-type'] ?? 'text/plain');
      const event = toEvent(request, url, route.routeKey, route.pattern.exec(url.pathname)?.groups ?? {}, body, text);
      const requestId = { 'apigw-requestid': event.requestContext.requestId };
      const refused = route.iam && options.iam ? await verifySigV4({ method: event.requestContext.http.method, path: url.pathname, query: url.searchParams, headers: event.headers as Record<string, string>, body }, options.iam) : undefined;
      if (refused) {
        response.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': refused.type, ...requestId }).end(JSON.stringify({ message: refused.message }));
        return;
      }
      const result = await route.handler(event, localContext());
      const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([key, value]) => [key, String(value)]));
      response.writeHead(result.statusCode ?? 200, { ...headers, ...requestId });
      response.end(result.body === undefined ? undefined : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'Internal Server Error' }));
    });
    inFlight.add(invocation);
    void invocation.finally(() => inFlight.delete(invocation));
  });
  const url = await listenOnLoopback(server, options.port);
  return {
    url,
    stop: async () => {
      await closeServer(server);
      await Promise.all([...inFlight]);
    },
  };
}

/**
 * The body, or undefined when it exceeds MAX_BODY. The rest of an oversize body is still read and
 * dropped: leaving the loop early would destroy the socket, and the client would see a reset
 * connection instead of the 413.
 */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  }
  return size > MAX_BODY ? undefined : Buffer.concat(chunks);
}

function toEvent(request: IncomingMessage, url: URL, routeKey: string, pathParameters: Record<string, string>, body: Buffer, text: boolean): APIGatewayProxyEventV2 {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([key, value]) => [key, Array.isArray(value) ? value.join(',') : (value ?? '')]));
  // API Gateway (payload 2.0) joins a repeated parameter's values with commas.
  const query = url.searchParams.size > 0 ? Object.fromEntries([...new Set(url.searchParams.keys())].map((name) => [name, url.searchParams.getAll(name).join(',')])) : undefined;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: query,
    pathParameters: Object.keys(pathParameters).length > 0 ? Object.fromEntries(Object.entries(pathParameters).map(([key, value]) => [key, decodeURIComponent(value)])) : undefined,
    body: body.length === 0 ? undefined : text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !text,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: { method: request.method ?? 'GET', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: request.socket.remoteAddress ?? '127.0.0.1', userAgent: request.headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  };
}

function localContext(): Context {
  const deadline = Date.now() + 30_000;
  return { getRemainingTimeInMillis: () => deadline - Date.now(), awsRequestId: randomUUID(), functionName: 'local' } as unknown as Context;
}

/**
 * The request's URL, its target read as a path (`//host:port/…` too, which `new URL(target,
 * base)` would read as another host, or throw on); undefined for a target that is not a path
 * (absolute-form, `*`), which API Gateway refuses as well.
 */
export function requestUrl(target: string | undefined): URL | undefined {
  if (!target?.startsWith('/')) return undefined;
  const url = `http://127.0.0.1${target}`;
  return URL.canParse(url) ? new URL(url) : undefined;
}
