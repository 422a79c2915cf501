import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { API_ROUTES, routeKey } from '../../lambdas/core/api/routes';
import type { ConnectionPage, ImportPage } from '../../lambdas/core/api/schemas';
import type { ConnectionRecord, ConnectionStatus } from '../../lambdas/core/connections/model';
import { makeConnectionsHandler } from '../../lambdas/connections/app';
import type { HttpResult } from '../../lambdas/shared/http';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { drive } from './support/drive';
import { httpEvent } from './support/http-event';
import { anotherCompletedQuery, completedQuery } from './support/pipeline';

/**
 * The admin API's listings against the emulators: GET /connections (filters, pages, cursors)
 * and GET /connections/{customerId}/imports (a customer's imports after real ones). Every
 * answer is checked against its route's documented schema, unchanged by parsing (no
 * undocumented field, no secret id).
 */
let world: ConnectWorld;
let handle: ReturnType<typeof makeConnectionsHandler>;
beforeAll(async () => {
  world = await connectWorld({ sandbox: { queryDelayMs: 100 }, retry: { scheduleSeconds: [] } });
  handle = makeConnectionsHandler(world.manageDeps);
});
afterAll(() => world.stop());

/** The handler's answer, checked against the schema its route documents for that status. */
function documented<T>(key: string, result: HttpResult): { status: number; body: T } {
  const route = API_ROUTES.find((candidate) => routeKey(candidate) === key)!;
  const response = route.responses[result.statusCode!];
  expect({ key, status: result.statusCode, documented: response !== undefined }).toEqual({ key, status: result.statusCode, documented: true });
  const body = JSON.parse(result.body!) as unknown;
  expect(response.schema!.parse(body)).toEqual(body);
  return { status: result.statusCode!, body: body as T };
}

async function listConnections(query: Record<string, string>) {
  return documented<ConnectionPage & { error?: string; message?: string }>('GET /connections', await handle(httpEvent({ method: 'GET', path: '/connections', query }), {} as Context));
}

async function listImports(customerId: string, query: Record<string, string> = {}) {
  const key = 'GET /connections/{customerId}/imports';
  return documented<ImportPage & { error?: string; message?: string }>(
    key,
    await handle(httpEvent({ method: 'GET', path: `/connections/${customerId}/imports`, routeKey: key, pathParameters: { customerId }, query }), {} as Context),
  );
}

/** Every page of a listing, following nextCursor: the pages' items, and how many each held. */
async function allPages<T>(list: (cursor?: string) => Promise<{ status: number; body: { nextCursor?: string } & T }>, items: (page: T) => unknown[]) {
  const pages: unknown[][] = [];
  let cursor: string | undefined;
  do {
    const { status, body } = await list(cursor);
    expect(status).toBe(200);
    pages.push(items(body));
    cursor = body.nextCursor;
    if (pages.length > 50) throw new Error('the listing does not end');
  } while (cursor);
  return pages;
}

/** Ring answers a second createDataQuery within 5 minutes with the first query: a new one needs this long. */
const RING_RESPONSE_CACHE_MS = 6 * 60_000;

const connection = (customerId: string, status: ConnectionStatus, brand: 'ring' | 'blink'): ConnectionRecord => ({
  customerId,
  brand,
  region: 'eu-west-1',
  scopeId: 'data-portability',
  status,
  secretId: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:local/connections/${customerId}`,
  connectedAt: '2031-01-06T12:00:00.000Z',
});

describe('GET /connections', () => {
  const seeded: ConnectionRecord[] = [
    ...['a', 'b', 'c', 'd', 'e'].map((name, i) => connection(`list-active-${name}`, 'ACTIVE', i % 2 === 0 ? 'ring' : 'blink')),
    connection('list-hold-a', 'ON_HOLD', 'blink'),
    ...['a', 'b', 'c'].map((name, i) => connection(`list-relink-${name}`, 'RELINK_REQUIRED', i === 1 ? 'blink' : 'ring')),
    ...['a', 'b'].map((name) => connection(`list-revoked-${name}`, 'REVOKED', 'ring')),
  ];
  beforeAll(async () => {
    for (const record of seeded) await world.connections.put(record);
  });
  const ids = (records: readonly { customerId: string }[]) => records.map((record) => record.customerId);
  /** What the listing must give: statuses in their fixed order, customer ids in order within each. */
  const expected = (keep: (record: ConnectionRecord) => boolean) =>
    (['ACTIVE', 'ON_HOLD', 'RELINK_REQUIRED', 'REVOKED'] as const).flatMap((status) => ids(seeded.filter((record) => record.status === status && keep(record))).sort());

  it('walks every status in a fixed order, page by page, each page at most `limit`, without secret ids', async () => {
    const pages = await allPages((cursor) => listConnections({ limit: '3', ...(cursor ? { cursor } : {}) }), (page: ConnectionPage) => page.connections);
    expect(pages.length).toBeGreaterThanOrEqual(4);
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(3);
    const listed = pages.flat() as ConnectionPage['connections'];
    expect(ids(listed)).toEqual(expected(() => true));
    expect(JSON.stringify(listed)).not.toContain('secretsmanager');
    expect(listed[0]).toEqual({ customerId: 'list-active-a', brand: 'ring', region: 'eu-west-1', scopeId: 'data-portability', status: 'ACTIVE', connectedAt: '2031-01-06T12:00:00.000Z' });
  });

  it('the default page holds them all (limit 50) and says there are no more', async () => {
    const { body } = await listConnections({});
    expect(ids(body.connections)).toEqual(expected(() => true));
    expect(body.nextCursor).toBeUndefined();
  });

  it('filters by status, and by brand (pages may then hold fewer than limit)', async () => {
    const relink = await allPages((cursor) => listConnections({ status: 'RELINK_REQUIRED', limit: '2', ...(cursor ? { cursor } : {}) }), (page: ConnectionPage) => page.connections);
    expect(ids(relink.flat() as ConnectionRecord[])).toEqual(expected((record) => record.status === 'RELINK_REQUIRED'));

    const blink = await allPages((cursor) => listConnections({ brand: 'blink', limit: '2', ...(cursor ? { cursor } : {}) }), (page: ConnectionPage) => page.connections);
    expect(ids(blink.flat() as ConnectionRecord[])).toEqual(expected((record) => record.brand === 'blink'));
    // 11 connections read two at a time: 6 pages, however few are blink.
    expect(blink.length).toBe(6);

    const both = await listConnections({ status: 'ACTIVE', brand: 'ring' });
    expect(ids(both.body.connections)).toEqual(expected((record) => record.status === 'ACTIVE' && record.brand === 'ring'));
  });

  it('refuses a limit out of 1-100, an unknown status or brand, and an unknown parameter, naming it', async () => {
    for (const [query, field] of [
      [{ limit: '0' }, 'query.limit'],
      [{ limit: '101' }, 'query.limit'],
      [{ limit: 'ten' }, 'query.limit'],
      [{ limit: '2.5' }, 'query.limit'],
      [{ status: 'EXPIRED' }, 'query.status'],
      [{ brand: 'nest' }, 'query.brand'],
      [{ stauts: 'ACTIVE' }, 'query.stauts'],
    ] as const) {
      const { status, body } = await listConnections(query);
      expect({ query, status, error: body.error }).toEqual({ query, status: 400, error: 'bad_request' });
      expect(body.message).toContain(field);
    }
  });

  it('refuses a tampered cursor, and one from a listing with other filters, naming the cursor', async () => {
    const first = await listConnections({ status: 'ACTIVE', limit: '2' });
    const cursor = first.body.nextCursor!;
    expect(cursor).toEqual(expect.any(String));
    // The cursor as given works; then one character changed, cut short, made up, or with other filters.
    expect((await listConnections({ status: 'ACTIVE', limit: '2', cursor })).status).toBe(200);
    const flipped = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
    const forged = `${Buffer.from(JSON.stringify({ list: 'connections', filter: { status: 'ACTIVE' }, status: 'ACTIVE', after: 'list-active-c' })).toString('base64url')}.AAAAAAAAAAAAAAAA`;
    for (const [query, why] of [
      [{ status: 'ACTIVE', cursor: flipped }, 'not a cursor this API returned'],
      [{ status: 'ACTIVE', cursor: cursor.slice(0, -3) }, 'not a cursor this API returned'],
      [{ status: 'ACTIVE', cursor: forged }, 'not a cursor this API returned'],
      [{ status: 'REVOKED', cursor }, 'other filters'],
      [{ cursor }, 'other filters'],
      [{ status: 'ACTIVE', brand: 'ring', cursor }, 'other filters'],
    ] as const) {
      const { status, body } = await listConnections(query);
      expect({ status, error: body.error, message: body.message }).toEqual({ status: 400, error: 'bad_request', message: expect.stringMatching(new RegExp(`^cursor: .*${why}`)) });
    }
  });
});

describe('GET /connections/{customerId}/imports', () => {
  it('lists the customer’s imports newest first, with status, timings, the manifest’s counts and key, page by page', async () => {
    const first = await completedQuery(world, { datasets: { 'Ring.EventManager.Events': 120, 'Ring.Alarm.HistoryLog': 30 }, recordsPerFile: 40 }, 'history');
    const { customerId } = first;
    await drive(world, [first.body]);
    world.sandbox.clock.advance(RING_RESPONSE_CACHE_MS);
    const second = await anotherCompletedQuery(world, customerId);
    await drive(world, [second.body]);
    world.sandbox.clock.advance(RING_RESPONSE_CACHE_MS);
    const third = await anotherCompletedQuery(world, customerId); // completed at Ring, not collected yet

    const pages = await allPages((cursor) => listImports(customerId, { limit: '1', ...(cursor ? { cursor } : {}) }), (page: ImportPage) => page.imports);
    const imports = pages.flat() as ImportPage['imports'];
    // DynamoDB cannot tell a full page from the last one: a last, empty page may follow.
    expect(pages.map((page) => page.length).slice(0, 3)).toEqual([1, 1, 1]);
    expect(pages.length - 3).toBeLessThanOrEqual(1);
    expect(imports.map((item) => [item.queryId, item.status])).toEqual([
      [third.queryId, 'COMPLETED'],
      [second.queryId, 'DONE'],
      [first.queryId, 'DONE'],
    ]);
    expect(imports[0]).not.toHaveProperty('counts');
    expect(imports[0]).not.toHaveProperty('manifestKey');
    for (const done of imports.slice(1)) {
      const manifest = JSON.parse(
        await (await world.aws.clients.s3.send(new GetObjectCommand({ Bucket: world.aws.resources.rawDataBucket, Key: done.manifestKey! }))).Body!.transformToString(),
      ) as { queryId: string; totals: Record<string, number> };
      expect(manifest.queryId).toBe(done.queryId);
      expect(done.counts).toEqual(manifest.totals);
      expect(done.counts!.records).toBeGreaterThan(0);
      expect(done.files).toBe(manifest.totals.files);
      expect(done.timings).toEqual({ collectMs: expect.any(Number), fetchAndLoadMs: expect.any(Number), totalMs: expect.any(Number) });
      expect(Date.parse(done.doneAt!)).toBeGreaterThanOrEqual(Date.parse(done.collectedAt!));
    }
    expect(imports[2].counts!.records).toBe(150);

    const all = await listImports(customerId);
    expect(all.body.imports.map((item) => item.queryId)).toEqual(imports.map((item) => item.queryId));
    expect(all.body.nextCursor).toBeUndefined();
  });

  it('answers not_found for a customer never connected, and refuses bad limits and another customer’s cursor', async () => {
    const missing = await listImports('never-connected');
    expect(missing).toEqual({ status: 404, body: { error: 'not_found', message: 'no connection for customer never-connected' } });

    const { customerId } = await completedQuery(world, {}, 'history-bounds');
    const other = await completedQuery(world, {}, 'history-other');
    world.sandbox.clock.advance(RING_RESPONSE_CACHE_MS);
    await anotherCompletedQuery(world, other.customerId);
    const cursor = (await listImports(other.customerId, { limit: '1' })).body.nextCursor!;
    expect(cursor).toEqual(expect.any(String));
    const refused = await listImports(customerId, { cursor });
    expect(refused).toEqual({ status: 400, body: { error: 'bad_request', message: expect.stringMatching(/^cursor: .*another customer/) } });
    for (const limit of ['0', '101', 'x']) {
      const { status, body } = await listImports(customerId, { limit });
      expect({ limit, status, message: body.message }).toEqual({ limit, status: 400, message: expect.stringContaining('query.limit') });
    }
    const badId = await listImports('bad id!');
    expect(badId.status).toBe(400);
    expect(badId.body.message).toContain('path.customerId');
  });
});

describe('the other IAM routes answer what their schemas document', () => {
  it('POST /connections, and GET, POST …/imports and DELETE (with purge) of a connected customer', async () => {
    expect(documented('POST /connections', await world.createLink({ customerId: 'documented-link', brand: 'ring' })).status).toBe(201);
    expect(documented('POST /connections', await world.createLink({ customerId: 'documented-link', brand: 'nest' })).status).toBe(400);
    const { customerId } = await completedQuery(world, {}, 'documented');
    expect(documented('GET /connections/{customerId}', await world.status(customerId)).status).toBe(200);
    expect(documented('POST /connections/{customerId}/imports', await world.importNow(customerId)).status).toBe(202);
    expect(documented('DELETE /connections/{customerId}', await world.disconnect(customerId, true)).status).toBe(202);
    expect(documented('POST /connections/{customerId}/imports', await world.importNow(customerId)).status).toBe(409);
    expect(documented('GET /connections/{customerId}', await world.status('nobody-here')).status).toBe(404);
  });
});
