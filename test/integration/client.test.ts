import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { RingPortabilityClient, RingPortabilityError } from '../../client/src';
import { makeConnectHandler } from '../../lambdas/connect/app';
import { makeConnectionsHandler } from '../../lambdas/connections/app';
import { serveHandlers, type HttpHandler } from '../../local/http-adapter';
import { LOCAL_REGION } from '../../local/local-aws';
import { LOCAL_ROUTES } from '../../local/runtime';
import { LOCAL_API_CREDENTIALS } from '../../local/sigv4';
import { connectWorld, type ConnectWorld } from './support/connect-world';

/**
 * The typed client against the admin API as the local runtime serves it: the real connect and
 * connections handlers (sandbox, local AWS) behind the local HTTP adapter, which checks SigV4
 * as API Gateway does for IAM routes. Every refused request gets API Gateway's 403 and never
 * reaches a handler.
 */
let world: ConnectWorld;
let api: { url: string; stop(): Promise<void> };
let client: RingPortabilityClient;
/** The API's clock runs this far from the machine's: a signature's date is checked against it. */
let skewMs = 0;
let invocations = 0;

beforeAll(async () => {
  world = await connectWorld();
  const handlers: Record<string, HttpHandler> = { connect: makeConnectHandler(world.connectDeps), connections: makeConnectionsHandler(world.manageDeps) };
  const routes = LOCAL_ROUTES.filter((route) => route.iam).map((route) => ({
    ...route,
    handler: ((event, context) => {
      invocations++;
      return handlers[route.handler](event, context);
    }) satisfies HttpHandler,
  }));
  api = await serveHandlers(routes, { iam: { credentials: [LOCAL_API_CREDENTIALS], region: LOCAL_REGION, now: () => Date.now() + skewMs } });
  client = new RingPortabilityClient({ endpoint: api.url, region: LOCAL_REGION, credentials: LOCAL_API_CREDENTIALS });
});
afterAll(async () => {
  await api?.stop();
  await world?.stop();
});
afterEach(() => {
  skewMs = 0;
});

let next = 0;
// `:` and `@` are percent-encoded in the path: the signature covers the path as sent.
const customerId = () => `client:${Date.now()}@${next++}`;

async function connected(): Promise<string> {
  const id = customerId();
  const link = await client.createConnectLink({ customerId: id, brand: 'ring', region: 'eu-west-1' });
  expect((await world.callback(await world.consentAt(link.authorizeUrl))).statusCode).toBe(200);
  return id;
}

/** What the client's call raised, as a RingPortabilityError. */
async function refusal(call: Promise<unknown>): Promise<RingPortabilityError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(RingPortabilityError);
  return error as RingPortabilityError;
}

describe('the typed client against the local admin API', () => {
  it('creates a connect link, reads the connection, asks for an import and disconnects, with typed answers', async () => {
    const link = await client.createConnectLink({ customerId: customerId(), brand: 'blink' });
    expect(new URL(link.authorizeUrl).pathname).toBe('/blink/oauth/v2/authorize');
    expect(Date.parse(link.expiresAt)).toBeGreaterThan(world.clock.now());

    const id = await connected();
    const connection = await client.getConnection(id);
    expect(connection).toMatchObject({ customerId: id, brand: 'ring', region: 'eu-west-1', status: 'ACTIVE' });
    expect(connection).not.toHaveProperty('secretId');

    // Connecting asked for the first import: a request now is merged into it.
    const first = await client.requestImport(id);
    expect(first).toMatchObject({ queued: true, merged: true, state: 'QUEUED' });
    expect(await client.requestImport(id)).toEqual(first);

    expect(await client.disconnect(id)).toEqual({ customerId: id, status: 'REVOKED' });
    expect((await client.getConnection(id)).status).toBe('REVOKED');
    const conflict = await refusal(client.requestImport(id));
    expect(conflict).toMatchObject({ status: 409, code: 'conflict', message: `connection ${id} is REVOKED; it was disconnected` });
    expect(conflict.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a purge that must settle with 202 and when to call again', async () => {
    const id = await connected();
    const purged = await client.disconnect(id, { purge: true });
    expect(purged).toMatchObject({ customerId: id, status: 'REVOKED', purged: { complete: false } });
    expect(purged.retryAfterSeconds).toBeGreaterThan(0);
    expect(Date.parse(purged.purged!.settlesAt!)).toBe(world.clock.now() + purged.retryAfterSeconds! * 1000);
  });

  it('raises the API’s errors typed, naming what is wrong', async () => {
    expect(await refusal(client.getConnection('nobody-here'))).toMatchObject({ status: 404, code: 'not_found', message: 'no connection for customer nobody-here' });
    const invalid = await refusal(client.createConnectLink({ customerId: 'x', brand: 'nest' as 'ring' }));
    expect(invalid).toMatchObject({ status: 400, code: 'bad_request' });
    expect(invalid.message).toContain('body.brand');
  });
});

describe('SigV4 on the IAM routes, as API Gateway checks it', () => {
  const signer = (credentials: { accessKeyId: string; secretAccessKey: string } = LOCAL_API_CREDENTIALS, region = LOCAL_REGION, service = 'execute-api') => new SignatureV4({ credentials, region, service, sha256: Sha256 });

  /** A request signed as `signed`, sent as `sent` (what a tampering proxy would forward). */
  async function send(signed: { method: string; path: string; query?: Record<string, string | string[]>; body?: string }, sent = signed, sign = signer()) {
    const url = new URL(api.url);
    const request = await sign.sign({
      method: signed.method,
      protocol: 'http:',
      hostname: url.hostname,
      path: signed.path,
      query: signed.query ?? {},
      headers: { host: url.host, ...(signed.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: signed.body,
    });
    const { host: _host, ...headers } = request.headers;
    const target = new URL(sent.path, api.url);
    for (const [name, values] of Object.entries(sent.query ?? {})) for (const value of [values].flat()) target.searchParams.append(name, value);
    const response = await fetch(target, { method: sent.method, headers, body: sent.body });
    return { status: response.status, type: response.headers.get('x-amzn-errortype'), body: (await response.json()) as { message: string } };
  }

  const MISMATCH = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
  const body = JSON.stringify({ customerId: 'signed-customer', brand: 'ring' });

  it('lets a correctly signed request through', async () => {
    expect((await send({ method: 'POST', path: '/connections', body })).status).toBe(201);
  });

  it.each([
    ['an unknown access key', () => send({ method: 'POST', path: '/connections', body }, undefined, signer({ accessKeyId: 'AKIDUNKNOWN', secretAccessKey: LOCAL_API_CREDENTIALS.secretAccessKey })), 'The security token included in the request is invalid.'],
    ['a wrong secret', () => send({ method: 'POST', path: '/connections', body }, undefined, signer({ accessKeyId: LOCAL_API_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' })), MISMATCH],
    ['an altered body', () => send({ method: 'POST', path: '/connections', body }, { method: 'POST', path: '/connections', body: body.replace('signed-customer', 'other-customer') }), MISMATCH],
    ['an altered query', () => send({ method: 'DELETE', path: '/connections/someone', query: { purge: 'false' } }, { method: 'DELETE', path: '/connections/someone', query: { purge: 'true' } }), MISMATCH],
    ['an altered path', () => send({ method: 'GET', path: '/connections/someone' }, { method: 'GET', path: '/connections/someone-else' }), MISMATCH],
    ['another region', () => send({ method: 'GET', path: '/connections/someone' }, undefined, signer(LOCAL_API_CREDENTIALS, 'us-east-1')), "Credential should be scoped to a valid region, not 'us-east-1'. "],
    ['another service', () => send({ method: 'GET', path: '/connections/someone' }, undefined, signer(LOCAL_API_CREDENTIALS, LOCAL_REGION, 'lambda')), "Credential should be scoped to correct service: 'execute-api'. "],
  ])('refuses %s with 403 before any handler runs', async (_what, call, message) => {
    const before = invocations;
    const answer = await call();
    expect(answer).toMatchObject({ status: 403, body: { message } });
    expect(invocations).toBe(before);
  });

  it('passes a repeated query parameter on as API Gateway does, its values joined with commas', async () => {
    const answer = await send({ method: 'GET', path: '/connections', query: { status: ['ACTIVE', 'REVOKED'] } });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain('query.status');
  });

  it('refuses a request without a signature with 403 Forbidden', async () => {
    const before = invocations;
    const response = await fetch(`${api.url}/connections/someone`, { method: 'DELETE' });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Forbidden' });
    const bearer = await fetch(`${api.url}/connections/someone`, { headers: { authorization: 'Bearer anything' } });
    expect([bearer.status, bearer.headers.get('x-amzn-errortype')]).toEqual([403, 'IncompleteSignatureException']);
    expect(invocations).toBe(before);
  });

  it('refuses a signature dated more than 5 minutes from the API’s clock, either way', async () => {
    skewMs = 6 * 60_000;
    const stale = await refusal(client.getConnection('someone'));
    expect(stale).toMatchObject({ status: 403, code: 'forbidden' });
    expect(stale.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
    skewMs = -6 * 60_000;
    expect((await refusal(client.getConnection('someone'))).message).toMatch(/^Signature not yet current: /);
    skewMs = 4 * 60_000;
    expect((await refusal(client.getConnection('someone'))).code).toBe('not_found');
  });

  it('turns a refusal into a forbidden error that carries neither the secret nor the signature', async () => {
    const wrong = new RingPortabilityClient({ endpoint: api.url, region: LOCAL_REGION, credentials: { accessKeyId: LOCAL_API_CREDENTIALS.accessKeyId, secretAccessKey: 'a-wrong-secret-value' } });
    const error = await refusal(wrong.getConnection('someone'));
    expect(error).toMatchObject({ status: 403, code: 'forbidden', message: MISMATCH });
    const everything = JSON.stringify({ ...error, message: error.message, stack: error.stack });
    expect(everything).not.toContain('a-wrong-secret-value');
    expect(everything).not.toMatch(/Signature=|AWS4-HMAC-SHA256/);
  });
});
