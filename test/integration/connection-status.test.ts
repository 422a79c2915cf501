import type { Context } from 'aws-lambda';
import type { ConnectionStatus } from '../../lambdas/core/connections/model';
import { makeImportsHandler } from '../../lambdas/imports/app';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { sqsEvent } from './support/sqs-event';

/**
 * How the end of a customer's authorization reads: each of Ring's answers to its status, as
 * the README's status table says. Ring answers a revoked and an expired consent alike (the
 * refresh token is refused), so both read RELINK_REQUIRED, as a refused refresh does; an account
 * on hold still gets tokens but no data, and reads ON_HOLD until Ring lets an import through.
 */
let world: ConnectWorld;
let handle: ReturnType<typeof makeImportsHandler>;
const sent: { body: Record<string, unknown>; delaySeconds?: number }[] = [];
beforeAll(async () => {
  world = await connectWorld({ retry: { scheduleSeconds: [] } });
  handle = makeImportsHandler(world.importsDeps({ send: (body: object, options?: { delaySeconds?: number }) => Promise.resolve(void sent.push({ body: body as Record<string, unknown>, delaySeconds: options?.delaySeconds })) }));
});
afterAll(() => world.stop());

const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let next = 0;

/** A customer connected through the real callback, with its first import done and its query completed. */
async function connected(consent: { history: string; duration: string } = { history: '30d', duration: '1y' }) {
  const customerId = `status-${Date.now()}-${next++}`;
  const link = JSON.parse((await world.createLink({ customerId, brand: 'ring' })).body!) as { authorizeUrl: string };
  const customer = await world.control<{ id: string; sessionCookie: string }>('POST', '/customers', { consent });
  const authorized = await fetch(link.authorizeUrl, { redirect: 'manual', headers: { cookie: customer.sessionCookie } });
  await world.callback(Object.fromEntries(new URL(authorized.headers.get('location')!).searchParams));
  await importNow(customerId, 'connected');
  world.sandbox.clock.advance(1_000); // the query completes
  return { customerId, ringCustomerId: customer.id };
}

async function importNow(customerId: string, reason: 'connected' | 'scheduled' = 'scheduled') {
  const result = await handle(sqsEvent([{ body: { customerId, reason, requestedAt: new Date(world.clock.now()).toISOString() } }]), context);
  expect(result).toEqual({ batchItemFailures: [] });
}

const view = async (customerId: string) => JSON.parse((await world.status(customerId)).body!) as Record<string, unknown>;

async function listed(status: ConnectionStatus): Promise<string[]> {
  const ids: string[] = [];
  for await (const connection of world.connections.listByStatus(status)) ids.push(connection.customerId);
  return ids;
}

/** The status GET shows, the scheduler's index agrees, and the last import says why it did not start. */
async function expectStatus(customerId: string, status: ConnectionStatus, reason: RegExp) {
  expect(await view(customerId)).toMatchObject({ status, statusReason: expect.stringMatching(reason), lastImport: { state: 'SKIPPED', detail: expect.any(String) } });
  expect(await listed(status)).toContain(customerId);
  expect(await listed('ACTIVE')).not.toContain(customerId);
}

describe('the end of an authorization, each to its status', () => {
  it('revoked consent: the cached token is refused, then the refresh: RELINK_REQUIRED, and no longer imported', async () => {
    const { customerId, ringCustomerId } = await connected();
    world.sandbox.clock.advance(HOUR); // the access token is still cached
    await world.control('POST', `/customers/${ringCustomerId}/revoke`, {});
    await importNow(customerId);
    await expectStatus(customerId, 'RELINK_REQUIRED', /refresh token/);
    expect((await world.importNow(customerId)).statusCode).toBe(409);
  });

  it('expired consent: kept alive until its period ends, then the refresh is refused: RELINK_REQUIRED', async () => {
    const { customerId } = await connected({ history: '30d', duration: '30d' });
    const record = (await world.connections.get(customerId))!;
    world.sandbox.clock.advance(21 * DAY);
    expect(await world.tokens.keepAlive(record, 20 * DAY)).toBe('refreshed');
    world.sandbox.clock.advance(9 * DAY + HOUR); // 30 days and an hour after the consent: it has ended
    await importNow(customerId);
    await expectStatus(customerId, 'RELINK_REQUIRED', /refresh token/);
  });

  it('refused refresh with the consent intact: RELINK_REQUIRED', async () => {
    const { customerId, ringCustomerId } = await connected();
    await world.control('POST', '/tokens/expire', { customerId: ringCustomerId, kind: 'all' });
    await importNow(customerId);
    await expectStatus(customerId, 'RELINK_REQUIRED', /refresh token/);
    const [grant] = await world.control<{ active: boolean }[]>('GET', `/customers/${ringCustomerId}/grants`);
    expect(grant.active).toBe(true);
  });

  it('account on hold: tokens refresh but Ring denies the data: ON_HOLD, re-checked, ACTIVE again once the hold is lifted', async () => {
    const { customerId, ringCustomerId } = await connected();
    world.sandbox.clock.advance(DAY);
    await world.control('POST', `/customers/${ringCustomerId}/hold`, { onHold: true });
    await importNow(customerId);
    await expectStatus(customerId, 'ON_HOLD', /on hold/);

    // Still on hold at the next interval: the re-check leaves it ON_HOLD (since the first denial).
    const since = (await view(customerId)).statusChangedAt;
    world.sandbox.clock.advance(DAY);
    await importNow(customerId);
    expect(await view(customerId)).toMatchObject({ status: 'ON_HOLD', statusChangedAt: since });

    await world.control('POST', `/customers/${ringCustomerId}/hold`, { onHold: false });
    world.sandbox.clock.advance(DAY);
    await importNow(customerId);
    expect(await view(customerId)).toMatchObject({ status: 'ACTIVE', lastImport: { state: 'REQUESTED', queryId: expect.any(String) } });
    expect(await listed('ACTIVE')).toContain(customerId);
  });
});
