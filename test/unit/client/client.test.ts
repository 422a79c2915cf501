import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RingPortabilityClient, RingPortabilityError } from '../../../client/src';

/**
 * The client's side alone, against a server on 127.0.0.1 answering canned responses: how
 * answers become typed errors, how pages are walked, what a request carries.
 */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}
type Answer = { status: number; body?: unknown; raw?: string; headers?: Record<string, string> };

let server: Server;
let endpoint: string;
let seen: Seen[] = [];
let answer: (request: Seen) => Answer = () => ({ status: 200, body: {} });

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const current = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body };
      seen.push(current);
      const { status, body: json, raw, headers } = answer(current);
      response.writeHead(status, { 'content-type': raw === undefined ? 'application/json' : 'text/html', ...headers });
      response.end(raw ?? (json === undefined ? undefined : JSON.stringify(json)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
});

const CREDENTIALS = { accessKeyId: 'AKIDCLIENTTEST', secretAccessKey: 'client-test-secret-value' };
const client = () => new RingPortabilityClient({ endpoint, region: 'eu-west-1', credentials: CREDENTIALS });

async function failure(call: Promise<unknown>): Promise<RingPortabilityError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(RingPortabilityError);
  return error as RingPortabilityError;
}

describe('RingPortabilityClient: errors', () => {
  it.each([
    [{ status: 400, body: { error: 'bad_request', message: 'body.brand: invalid option' } }, { status: 400, code: 'bad_request', message: 'body.brand: invalid option' }],
    [{ status: 400, body: { error: 'invalid_state', message: 'that link has expired' } }, { status: 400, code: 'invalid_state', message: 'that link has expired' }],
    [{ status: 404, body: { error: 'not_found', message: 'no connection for customer c1' } }, { status: 404, code: 'not_found' }],
    [{ status: 409, body: { error: 'conflict', message: 'connection c1 is REVOKED' } }, { status: 409, code: 'conflict' }],
    [{ status: 413, body: { error: 'payload_too_large', message: 'the request body is over 16384 bytes' } }, { status: 413, code: 'payload_too_large' }],
    [{ status: 503, body: { error: 'unavailable', message: 'Ring is busy' }, headers: { 'retry-after': '7' } }, { status: 503, code: 'unavailable', retryAfterSeconds: 7 }],
    [{ status: 500, body: { error: 'configuration', message: 'the service is not configured correctly; see its logs' } }, { status: 500, code: 'configuration' }],
    [{ status: 500, body: { error: 'internal', message: 'internal error' } }, { status: 500, code: 'internal' }],
    // API Gateway's own answers carry only {message}: the status says what it is.
    [{ status: 403, body: { message: 'Forbidden' } }, { status: 403, code: 'forbidden', message: 'Forbidden' }],
    [{ status: 404, body: { message: 'Not Found' } }, { status: 404, code: 'not_found' }],
    [{ status: 429, body: { message: 'Too Many Requests' } }, { status: 429, code: 'unavailable', message: 'Too Many Requests' }],
    [{ status: 413, body: { message: 'Request Entity Too Large' } }, { status: 413, code: 'payload_too_large' }],
    [{ status: 502, raw: '<html>Bad Gateway</html>' }, { status: 502, code: 'internal', message: '<html>Bad Gateway</html>' }],
    [{ status: 504, body: undefined }, { status: 504, code: 'internal', message: 'the API answered 504' }],
  ] satisfies [Answer, Partial<RingPortabilityError>][])('%j → %j', async (canned, expected) => {
    answer = () => canned;
    expect(await failure(client().getConnection('c1'))).toMatchObject({ name: 'RingPortabilityError', ...expected });
  });

  it('keeps API Gateway’s request id, and keeps retry-after only where it means “try again then”', async () => {
    answer = () => ({ status: 409, body: { error: 'conflict', message: 'no' }, headers: { 'apigw-requestid': 'Abc123=', 'retry-after': '5' } });
    const error = await failure(client().requestImport('c1'));
    expect(error.requestId).toBe('Abc123=');
    expect(error.retryAfterSeconds).toBeUndefined();
  });

  it('puts neither the secret nor the signature in an error', async () => {
    answer = (request) => ({ status: 403, body: { message: `echo ${String(request.headers.authorization)}` } });
    const error = await failure(client().getConnection('c1'));
    // A server that echoes the Authorization header is not ours to fix, but the secret never travels.
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain(CREDENTIALS.secretAccessKey);
    answer = () => ({ status: 403, body: { message: 'Forbidden' } });
    const plain = await failure(client().getConnection('c1'));
    expect(JSON.stringify({ ...plain, message: plain.message, stack: plain.stack })).not.toMatch(/AKIDCLIENTTEST|Signature=|AWS4-HMAC-SHA256/);
  });

  it('refuses an endpoint that is not an http(s) base URL, and an empty customer id, naming them', async () => {
    expect(() => new RingPortabilityClient({ endpoint: 'api.example.com', region: 'eu-west-1', credentials: CREDENTIALS })).toThrow(/^endpoint must be the API's http\(s\) base URL/);
    expect(() => new RingPortabilityClient({ endpoint: 'https://api.example.com/?stage=x', region: 'eu-west-1', credentials: CREDENTIALS })).toThrow(/endpoint/);
    expect(() => new RingPortabilityClient({ endpoint, region: '', credentials: CREDENTIALS })).toThrow(/region/);
    await expect(client().getConnection('')).rejects.toThrow('customerId must not be empty');
    expect(seen).toEqual([]);
  });
});

describe('RingPortabilityClient: requests', () => {
  it('signs each request with SigV4 for execute-api in its region, and sends JSON', async () => {
    answer = () => ({ status: 201, body: { authorizeUrl: 'https://ring.example/authorize', expiresAt: '2030-01-01T00:00:00.000Z' } });
    expect(await client().createConnectLink({ customerId: 'c1', brand: 'ring' })).toEqual({ authorizeUrl: 'https://ring.example/authorize', expiresAt: '2030-01-01T00:00:00.000Z' });
    const [request] = seen;
    expect(request).toMatchObject({ method: 'POST', url: '/connections', body: '{"customerId":"c1","brand":"ring"}' });
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDCLIENTTEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
    expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it('reads credentials from the standard chain when given none (here: the environment)', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, profile: process.env.AWS_PROFILE };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDFROMENVIRONMENT', AWS_SECRET_ACCESS_KEY: 'from-the-environment' });
    delete process.env.AWS_PROFILE;
    try {
      answer = () => ({ status: 200, body: { customerId: 'c1' } });
      await new RingPortabilityClient({ endpoint, region: 'eu-west-1' }).getConnection('c1');
      expect(seen[0].headers.authorization).toContain('Credential=AKIDFROMENVIRONMENT/');
    } finally {
      for (const [name, value] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret], ['AWS_PROFILE', saved.profile]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('encodes the customer id in the path, keeps the endpoint’s own base path, and answers a purge’s 202 with when to call again', async () => {
    answer = () => ({ status: 202, body: { customerId: 'a:b@c', status: 'REVOKED', purged: { objects: 3, records: 9, complete: false, remains: [] } }, headers: { 'retry-after': '42' } });
    const staged = new RingPortabilityClient({ endpoint: `${endpoint}/prod/`, region: 'eu-west-1', credentials: CREDENTIALS });
    expect(await staged.disconnect('a:b@c', { purge: true })).toEqual({ customerId: 'a:b@c', status: 'REVOKED', purged: { objects: 3, records: 9, complete: false, remains: [] }, retryAfterSeconds: 42 });
    expect(seen[0]).toMatchObject({ method: 'DELETE', url: '/prod/connections/a%3Ab%40c?purge=true' });

    answer = () => ({ status: 200, body: { customerId: 'c1', status: 'REVOKED' } });
    expect(await client().disconnect('c1')).toEqual({ customerId: 'c1', status: 'REVOKED' });
    expect(seen[1]).toMatchObject({ method: 'DELETE', url: '/connections/c1' });
  });
});

describe('RingPortabilityClient: pages', () => {
  const PAGES: Record<string, { connections: { customerId: string }[]; nextCursor?: string }> = {
    '': { connections: [{ customerId: 'c1' }, { customerId: 'c2' }], nextCursor: 'p2' },
    p2: { connections: [{ customerId: 'c3' }], nextCursor: 'p3' },
    p3: { connections: [] },
  };

  it('lists one page with the filter, and walks every page through the cursors', async () => {
    answer = (request) => ({ status: 200, body: PAGES[new URL(request.url, endpoint).searchParams.get('cursor') ?? ''] });
    expect(await client().listConnections({ status: 'ACTIVE', brand: 'ring', limit: 2 })).toEqual(PAGES['']);
    expect(seen[0].url).toBe('/connections?status=ACTIVE&brand=ring&limit=2');

    seen = [];
    const all: string[] = [];
    for await (const connection of client().allConnections({ status: 'RELINK_REQUIRED', limit: 2 })) all.push(connection.customerId);
    expect(all).toEqual(['c1', 'c2', 'c3']);
    expect(seen.map((request) => request.url)).toEqual([
      '/connections?status=RELINK_REQUIRED&limit=2',
      '/connections?status=RELINK_REQUIRED&limit=2&cursor=p2',
      '/connections?status=RELINK_REQUIRED&limit=2&cursor=p3',
    ]);
  });

  it('stops walking at the first error, raising it', async () => {
    answer = (request) => (request.url.includes('cursor=p2') ? { status: 400, body: { error: 'bad_request', message: 'query.cursor: not a cursor of this listing' } } : { status: 200, body: PAGES[''] });
    const all: string[] = [];
    const walk = (async () => {
      for await (const connection of client().allConnections()) all.push(connection.customerId);
    })();
    expect(await failure(walk)).toMatchObject({ code: 'bad_request', message: 'query.cursor: not a cursor of this listing' });
    expect(all).toEqual(['c1', 'c2']);
  });

  it('lists a customer’s imports, newest first as the API gives them, a page at a time', async () => {
    const page = { imports: [{ queryId: 'q2', status: 'DONE', requestedAt: '2030-01-02T00:00:00.000Z' }, { queryId: 'q1', status: 'FAILED', requestedAt: '2030-01-01T00:00:00.000Z' }], nextCursor: 'n' };
    answer = () => ({ status: 200, body: page });
    expect(await client().listImports('c 1', { limit: 2, cursor: 'x/y' })).toEqual(page);
    expect(seen[0].url).toBe('/connections/c%201/imports?limit=2&cursor=x%2Fy');
  });
});
