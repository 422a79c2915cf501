import { request as httpRequest } from 'node:http';
import { INTAKE_ERRORS, INTAKE_ERROR_NAMES, type IntakeErrorName } from '../../sandbox/errors';
import type { Sandbox } from '../../sandbox/sandbox';
import { BRANDS, REGIONS } from '../../sandbox/state';
import { connect, control, createApp, intake, startSandbox } from './support';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ queryDelayMs: 1_000 });
});
afterAll(() => sandbox.stop());
beforeEach(() => control(sandbox, 'DELETE', '/faults'));

const CREATE = '/data-portability/data-queries';
const records = (queryId: string, query = '') => `/data-portability/data-queries/${queryId}/records${query}`;
const errorBody = (name: IntakeErrorName) => {
  const [status, category, type, message] = INTAKE_ERRORS[name];
  return { status, body: { category, type, message } };
};

/**
 * Calls the sandbox with `path` in the request line exactly as given: fetch, like any WHATWG
 * URL client, would resolve its `..` segments before sending.
 */
function rawCall(method: 'GET' | 'POST', path: string, token: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${sandbox.baseUrl}/`, { method, path, headers: { authorization: `Bearer ${token}` } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode ?? 0, body: response.headers['content-type'] === 'application/json' ? JSON.parse(text) : text });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

/** Connects a customer, creates a query and lets the sandbox clock complete it. */
async function completedQuery(options: Parameters<typeof connect>[1] = {}) {
  const connection = await connect(sandbox, options);
  const created = await intake(sandbox, 'POST', CREATE, { token: connection.tokens.access_token, brand: options.brand, region: options.region });
  expect(created.status).toBe(201);
  const queryId = String(created.body.id);
  await control(sandbox, 'POST', '/clock/advance', { ms: 1_000 });
  return { ...connection, queryId };
}

describe('createDataQuery', () => {
  it.each(BRANDS.flatMap((brand) => REGIONS.map((region) => [brand, region] as const)))('creates a query for %s in %s and completes it', async (brand, region) => {
    const { queryId } = await completedQuery({ brand, region });
    expect(queryId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await control(sandbox, 'GET', `/queries/${queryId}`)).toMatchObject({ status: 'COMPLETED', brand, region });
  });

  it('returns the same response to the same call within 5 minutes, and 409 to another call while the query runs', async () => {
    const { tokens } = await connect(sandbox);
    const first = await intake(sandbox, 'POST', CREATE, { token: tokens.access_token });
    const again = await intake(sandbox, 'POST', CREATE, { token: tokens.access_token });
    expect(again).toEqual(first);
    expect(await intake(sandbox, 'POST', CREATE, { token: tokens.access_token, region: 'us-east-1' })).toEqual(errorBody('REQUEST_CONFLICT'));
  });

  it('cancels the query when consent is revoked before it completes, then denies access', async () => {
    const { tokens, customer } = await connect(sandbox);
    const { body } = await intake(sandbox, 'POST', CREATE, { token: tokens.access_token });
    await control(sandbox, 'POST', `/customers/${customer.id}/revoke`, {});
    await control(sandbox, 'POST', '/clock/advance', { ms: 1_000 });
    expect(await control(sandbox, 'GET', `/queries/${String(body.id)}`)).toMatchObject({ status: 'CANCELED' });
    expect(await intake(sandbox, 'GET', records(String(body.id)), { token: tokens.access_token })).toEqual(errorBody('ACCESS_DENIED'));
  });

  it('ends a one-time transfer with its first completed query', async () => {
    const { tokens } = await completedQuery({ consent: { duration: 'once' } });
    expect(await intake(sandbox, 'POST', CREATE, { token: tokens.access_token, region: 'us-west-2' })).toEqual(errorBody('ACCESS_DENIED'));
  });

  it('denies access once the authorization has expired, and for an account on hold', async () => {
    const expiring = await connect(sandbox, { consent: { duration: '30d' } });
    await control(sandbox, 'POST', '/clock/advance', { days: 30, seconds: 1 });
    expect(await intake(sandbox, 'POST', CREATE, { token: expiring.tokens.access_token })).toEqual(errorBody('ACCESS_DENIED'));

    const held = await connect(sandbox);
    await control(sandbox, 'POST', `/customers/${held.customer.id}/hold`, { onHold: true });
    expect(await intake(sandbox, 'POST', CREATE, { token: held.tokens.access_token })).toEqual(errorBody('ACCESS_DENIED'));
  });
});

describe('listDataQueryRecords', () => {
  it('lists one schema/file pair per file, 250 at most by default, with opaque page tokens', async () => {
    const { tokens, queryId } = await completedQuery({ customer: { datasets: { 'Ring.EventManager.Events': 7, 'Ring.Alarm.HubData': 2 }, recordsPerFile: 2 } });
    const all = await intake(sandbox, 'GET', records(queryId), { token: tokens.access_token });
    expect(all.status).toBe(200);
    expect(all.body.nextPageToken).toBeUndefined();
    const list = all.body.records as { schema: string; file: string }[];
    expect(list).toHaveLength(5); // 4 files of events, 1 of hub data
    for (const record of list) {
      expect(Object.keys(record).sort()).toEqual(['file', 'schema']);
      expect(record.file).toContain('X-Amz-Expires=300');
    }

    const pages: string[] = [];
    let token: string | undefined;
    do {
      const page = await intake(sandbox, 'GET', records(queryId, `?maxResults=2${token ? `&nextPageToken=${encodeURIComponent(token)}` : ''}`), { token: tokens.access_token });
      expect(page.status).toBe(200);
      pages.push(...(page.body.records as { file: string }[]).map((record) => new URL(record.file).pathname));
      token = page.body.nextPageToken as string | undefined;
    } while (token);
    expect(pages).toEqual(list.map((record) => new URL(record.file).pathname));
  });

  it('answers the same listing within 5 minutes with the same URLs', async () => {
    const { tokens, queryId } = await completedQuery();
    const first = await intake(sandbox, 'GET', records(queryId), { token: tokens.access_token });
    expect(await intake(sandbox, 'GET', records(queryId), { token: tokens.access_token })).toEqual(first);
  });

  it('refuses a query that has not completed, and lists for 1 hour after the notification only', async () => {
    const { tokens } = await connect(sandbox);
    const { body } = await intake(sandbox, 'POST', CREATE, { token: tokens.access_token });
    const queryId = String(body.id);
    expect(await intake(sandbox, 'GET', records(queryId), { token: tokens.access_token })).toEqual(errorBody('QUERY_NOT_COMPLETED'));
    await control(sandbox, 'POST', '/clock/advance', { ms: 1_000 });
    expect((await intake(sandbox, 'GET', records(queryId, '?maxResults=1'), { token: tokens.access_token })).status).toBe(200);
    await control(sandbox, 'POST', '/clock/advance', { minutes: 60, seconds: 1 });
    expect(await intake(sandbox, 'GET', records(queryId, '?maxResults=3'), { token: tokens.access_token })).toEqual(errorBody('ACCESS_TIME_ELAPSED'));
  });
});

describe('every error of the reference, for the reason it gives', () => {
  it('INVALID_MAX_RESULTS, INVALID_NEXT_PAGE, MISSING_PARAMETER', async () => {
    const { tokens, queryId } = await completedQuery();
    for (const max of ['0', '251', 'ten', '2.5']) {
      expect(await intake(sandbox, 'GET', records(queryId, `?maxResults=${max}`), { token: tokens.access_token })).toEqual(errorBody('INVALID_MAX_RESULTS'));
    }
    expect(await intake(sandbox, 'GET', records(queryId, '?nextPageToken=StringWithNextPageTokenValue123---=='), { token: tokens.access_token })).toEqual(errorBody('INVALID_NEXT_PAGE'));
    expect(await intake(sandbox, 'GET', records(queryId, '?maxResults'), { token: tokens.access_token })).toEqual(errorBody('MISSING_PARAMETER'));
  });

  it('INVALID_PARAMETERS: another customer’s query, or the wrong scope', async () => {
    const { queryId, app } = await completedQuery();
    const other = await connect(sandbox, { app });
    expect(await intake(sandbox, 'GET', records(queryId), { token: other.tokens.access_token })).toEqual(errorBody('INVALID_PARAMETERS'));
  });

  it('MISSING_AUTHORIZATION_HEADER, MISSING_ACCESS_TOKEN, ACCESS_DENIED (unknown, expired, other brand)', async () => {
    const { tokens, customer } = await connect(sandbox);
    expect(await intake(sandbox, 'POST', CREATE, { token: null })).toEqual(errorBody('MISSING_AUTHORIZATION_HEADER'));
    expect(await intake(sandbox, 'POST', CREATE, { headers: { authorization: 'Bearer ' } })).toEqual(errorBody('MISSING_ACCESS_TOKEN'));
    expect(await intake(sandbox, 'POST', CREATE, { token: 'Atza|not-a-token' })).toEqual(errorBody('ACCESS_DENIED'));
    expect(await intake(sandbox, 'POST', CREATE, { token: tokens.access_token, brand: 'blink' })).toEqual(errorBody('ACCESS_DENIED'));
    await control(sandbox, 'POST', '/tokens/expire', { customerId: customer.id, kind: 'access' });
    expect(await intake(sandbox, 'POST', CREATE, { token: tokens.access_token })).toEqual(errorBody('ACCESS_DENIED'));
  });

  it('APP_NOT_ALLOWLISTED, APP_IDENTIFICATION_FAILURE, SECURITY_PROFILE_NOT_FOUND, SCOPE_NOT_ENABLED', async () => {
    const app = await createApp(sandbox);
    const { tokens } = await connect(sandbox, { app });
    const expectError = async (patch: Record<string, unknown>, name: IntakeErrorName) => {
      await control(sandbox, 'PATCH', `/apps/${app.clientId}`, patch);
      expect(await intake(sandbox, 'POST', CREATE, { token: tokens.access_token })).toEqual(errorBody(name));
    };
    await expectError({ allowlist: 'not-allowlisted' }, 'APP_NOT_ALLOWLISTED');
    await expectError({ allowlist: 'unidentified' }, 'APP_IDENTIFICATION_FAILURE');
    await expectError({ allowlist: 'allowlisted', enabledScopes: [] }, 'SCOPE_NOT_ENABLED');
    await expectError({ enabledScopes: ['data-portability'], deleted: true }, 'SECURITY_PROFILE_NOT_FOUND');
  });

  it('SCOPE_ID_NOT_FOUND, QUERY_ID_NOT_FOUND, RESOURCE_NOT_FOUND, BLANK_SCOPE_ID, BLANK_QUERY_ID, INVALID_API_PATH, BLOCKED_REQUEST', async () => {
    const { tokens } = await connect(sandbox);
    const token = tokens.access_token;
    expect(await intake(sandbox, 'POST', '/video-history/data-queries', { token })).toEqual(errorBody('SCOPE_ID_NOT_FOUND'));
    expect(await intake(sandbox, 'GET', records('a1111111-b222-c333-d444-e55555555555'), { token })).toEqual(errorBody('QUERY_ID_NOT_FOUND'));
    expect(await intake(sandbox, 'GET', '/data-portability/queries', { token })).toEqual(errorBody('RESOURCE_NOT_FOUND'));
    expect(await intake(sandbox, 'GET', CREATE, { token })).toEqual(errorBody('RESOURCE_NOT_FOUND'));
    expect(await intake(sandbox, 'POST', '/%20/data-queries', { token })).toEqual(errorBody('BLANK_SCOPE_ID'));
    expect(await intake(sandbox, 'GET', '/data-portability/data-queries/%20/records', { token })).toEqual(errorBody('BLANK_QUERY_ID'));
    expect(await intake(sandbox, 'POST', '/data-portability%E0%A4%A/data-queries', { token })).toEqual(errorBody('INVALID_API_PATH'));
    expect(await intake(sandbox, 'GET', `${records('a1111111-b222-c333-d444-e55555555555')}?maxResults=%3Cscript%3E`, { token })).toEqual(errorBody('BLOCKED_REQUEST'));
  });

  it('BLOCKED_REQUEST for a path with `..` segments, however written: it never leaves the region’s intake', async () => {
    const { tokens, queryId } = await completedQuery();
    const { body: listing } = await intake(sandbox, 'GET', records(queryId), { token: tokens.access_token });
    const file = new URL((listing.records as { file: string }[])[0].file);
    const download = `${file.pathname.replace(/^\/ring/, '')}${file.search}`;
    const queries = sandbox.state.queries.size;
    const calls: ['GET' | 'POST', string][] = [
      ['GET', `/ring/intake/eu-west-1/../..${download}`],
      ['GET', `/ring/intake/eu-west-1/%2e%2e/%2E%2e${download}`],
      ['GET', `/ring/intake/eu-west-1\\..\\..${download}`],
      ['GET', `http://127.0.0.1/ring/intake/eu-west-1/../..${download}`],
      ['POST', '/ring/intake/eu-west-1/../us-east-1/data-portability/data-queries'],
      ['POST', '/ring/intake/eu-west-1/.%2e/us-west-2/data-portability/data-queries'],
      ['POST', '/ring/intake/eu-west-1/data-portability/data-queries/x/%2e.'],
      ['POST', '/ring/intake/../blink/intake/eu-west-1/data-portability/data-queries'],
      ['POST', '/ring/intake/eu-west-1/../../../__sandbox/clock/advance'],
      ['GET', `/ring/intake/eu-west-1/data-portability/data-queries/..%2f..%2f${queryId}/records`],
      ['GET', `/ring/intake/eu-west-1/data-portability/..%5Cdata-queries/${queryId}/records`],
      ['GET', `/ring/intake/eu-west-1/data-portability/data-queries/${queryId}/records/..`],
      ['GET', '/ring/intake/..'],
    ];
    for (const [method, path] of calls) {
      expect({ path, ...(await rawCall(method, path, tokens.access_token)) }).toEqual({ path, ...errorBody('BLOCKED_REQUEST') });
    }
    expect(sandbox.state.queries.size).toBe(queries);
  });

  it('RESOURCE_NOT_FOUND for an intake of no known region', async () => {
    const { tokens } = await connect(sandbox);
    expect(await rawCall('POST', '/ring/intake/eu-central-1/data-portability/data-queries', tokens.access_token)).toEqual(errorBody('RESOURCE_NOT_FOUND'));
    expect(await rawCall('POST', '/ring/intake//data-portability/data-queries', tokens.access_token)).toEqual(errorBody('RESOURCE_NOT_FOUND'));
  });

  it('REQUEST_TOO_LARGE for an oversized payload', async () => {
    const { tokens } = await connect(sandbox);
    expect(await intake(sandbox, 'POST', CREATE, { token: tokens.access_token, body: 'x'.repeat(20_000) })).toEqual(errorBody('REQUEST_TOO_LARGE'));
  });

  it('TOO_MANY_REQUESTS over 5 createDataQuery calls a second, THROTTLED over 20 in 20 minutes', async () => {
    const limited = await startSandbox({ queryDelayMs: 10 });
    try {
      const app = await createApp(limited);
      const connections = await Promise.all(Array.from({ length: 21 }, () => connect(limited, { app })));
      const statuses = [];
      for (const connection of connections.slice(0, 6)) statuses.push((await intake(limited, 'POST', CREATE, { token: connection.tokens.access_token })).body);
      expect(statuses.slice(0, 5).every((body) => typeof body.id === 'string')).toBe(true);
      expect(statuses[5]).toEqual(errorBody('TOO_MANY_REQUESTS').body);

      for (const connection of connections.slice(5, 20)) {
        await control(limited, 'POST', '/clock/advance', { seconds: 1 });
        expect((await intake(limited, 'POST', CREATE, { token: connection.tokens.access_token })).status).toBe(201);
      }
      await control(limited, 'POST', '/clock/advance', { seconds: 1 });
      expect(await intake(limited, 'POST', CREATE, { token: connections[20].tokens.access_token })).toEqual(errorBody('THROTTLED'));
      await control(limited, 'POST', '/clock/advance', { minutes: 20 });
      expect((await intake(limited, 'POST', CREATE, { token: connections[20].tokens.access_token })).status).toBe(201);
    } finally {
      await limited.stop();
    }
  });

  it('TOO_MANY_REQUESTS over 10 list calls a second, QUOTA_EXCEEDED over the daily quota', async () => {
    const limited = await startSandbox({ queryDelayMs: 10, accessTokenTtlSeconds: 7 * 86_400, limits: { listPerDay: 12 } });
    try {
      const { tokens } = await connect(limited);
      const { body } = await intake(limited, 'POST', CREATE, { token: tokens.access_token });
      await control(limited, 'POST', '/clock/advance', { seconds: 1 });
      const list = (max: number) => intake(limited, 'GET', records(String(body.id), `?maxResults=${max}`), { token: tokens.access_token });
      for (let max = 1; max <= 10; max++) expect((await list(max)).status).toBe(200);
      expect(await list(11)).toEqual(errorBody('TOO_MANY_REQUESTS'));
      await control(limited, 'POST', '/clock/advance', { seconds: 1 });
      expect((await list(11)).status).toBe(200);
      expect((await list(12)).status).toBe(200);
      expect(await list(13)).toEqual(errorBody('QUOTA_EXCEEDED'));
      // A day later the quota is back (for a new query: the old one's hour has passed).
      await control(limited, 'POST', '/clock/advance', { days: 1 });
      const next = await intake(limited, 'POST', CREATE, { token: tokens.access_token });
      await control(limited, 'POST', '/clock/advance', { seconds: 1 });
      expect((await intake(limited, 'GET', records(String(next.body.id)), { token: tokens.access_token })).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  it("QUOTA_EXCEEDED for the 1,501st createDataQuery of a UTC day under Amazon's variant (1/s, no window, 1,500 a day); the next UTC day allows again", async () => {
    const limited = await startSandbox({ queryDelayMs: 10, accessTokenTtlSeconds: 7 * 86_400, limits: 'amazon-daily' });
    try {
      // 30 customers called in turn 10 s apart: each call is a new query (the 5-minute response
      // cache has expired), and 1,500 calls in 4 hours are far over any 20-minute window.
      const app = await createApp(limited);
      const customers = await Promise.all(Array.from({ length: 30 }, () => connect(limited, { app })));
      const create = (call: number) => intake(limited, 'POST', CREATE, { token: customers[call % customers.length].tokens.access_token });
      const ids = new Set<unknown>();
      for (let call = 0; call < 1_500; call++) {
        const { status, body } = await create(call);
        expect(status).toBe(201);
        ids.add(body.id);
        limited.clock.advance(10_000);
      }
      expect(ids.size).toBe(1_500);
      expect(await create(1_500)).toEqual(errorBody('QUOTA_EXCEEDED'));
      const midnight = Math.ceil(limited.clock.now() / 86_400_000) * 86_400_000;
      limited.clock.advanceTo(midnight - 1);
      expect(await create(1_501)).toEqual(errorBody('QUOTA_EXCEEDED'));
      limited.clock.advanceTo(midnight);
      expect((await create(1_502)).status).toBe(201);
      // Each app has a quota of its own.
      const other = await connect(limited);
      limited.clock.advance(1_000);
      expect((await intake(limited, 'POST', CREATE, { token: other.tokens.access_token })).status).toBe(201);
    } finally {
      await limited.stop();
    }
  });

  it('a createDataQuery daily quota keeps the window it is not told to drop; a refused call does not count', async () => {
    const limited = await startSandbox({ queryDelayMs: 10, limits: { createPerWindow: 2, createPerDay: 3 } });
    try {
      const app = await createApp(limited);
      const customers = await Promise.all(Array.from({ length: 4 }, () => connect(limited, { app })));
      const create = (customer: number) => intake(limited, 'POST', CREATE, { token: customers[customer].tokens.access_token });
      expect((await create(0)).status).toBe(201);
      expect((await create(1)).status).toBe(201);
      expect(await create(2)).toEqual(errorBody('THROTTLED'));
      await control(limited, 'POST', '/clock/advance', { minutes: 20 });
      // The THROTTLED call took nothing from the day's 3.
      expect((await create(2)).status).toBe(201);
      expect(await create(3)).toEqual(errorBody('QUOTA_EXCEEDED'));
    } finally {
      await limited.stop();
    }
  });

  it.each(INTAKE_ERROR_NAMES)('%s can be injected with its exact status, category, type and message', async (name) => {
    const { tokens } = await connect(sandbox);
    await control(sandbox, 'PUT', '/faults', { rules: [{ operation: 'createDataQuery', nth: [1], error: name }] });
    expect(await intake(sandbox, 'POST', CREATE, { token: tokens.access_token })).toEqual(errorBody(name));
    // Only the first call was faulted.
    expect((await intake(sandbox, 'POST', CREATE, { token: tokens.access_token })).status).toBe(201);
  });

  it('has all 33 rows of the reference’s table', () => {
    expect(INTAKE_ERROR_NAMES).toHaveLength(33);
  });
});
