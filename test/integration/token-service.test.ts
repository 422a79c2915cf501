import { RelinkRequiredError } from '../../lambdas/core/ring/errors';
import { Secret } from '../../lambdas/core/secret';
import { REDIRECT_URI, ringWorld, type RingWorld } from './support/ring-world';

let world: RingWorld;
beforeAll(async () => {
  // Virtual time: a lease expires only when the waiters' time says so, never because the
  // machine was slow while its holder refreshed.
  world = await ringWorld({ tokens: { leaseTtlMs: 600, waitTimeoutMs: 10_000 } });
});
afterAll(() => world.stop());
beforeEach(() => world.control('DELETE', '/calls'));

const FOUR_HOURS = { hours: 4 };

describe('OAuth code exchange and refresh (sandbox + Secrets Manager + DynamoDB)', () => {
  it('refuses a code exchanged twice, and Ring then revokes what the code gave', async () => {
    const { connection, code, verifier } = await world.connect();
    const client = await world.credentials.get('ring');
    await expect(world.oauth.exchangeCode(world.endpointsOf(connection).tokenUrl, client, { code, redirectUri: REDIRECT_URI, verifier, scope: 'data-portability' })).rejects.toBeInstanceOf(
      RelinkRequiredError,
    );
    await world.control('POST', '/clock/advance', FOUR_HOURS);
    await expect(world.tokens.getAccessToken(connection)).rejects.toBeInstanceOf(RelinkRequiredError);
  });

  it('exchanges a code for tokens, serves the cached access token, and a refresh rotates the refresh token', async () => {
    const { connection, issued } = await world.connect();
    expect(issued.expiresIn).toBe(14_400);
    const client = await world.credentials.get('ring');

    const cached = await world.tokens.getAccessToken(connection);
    expect(cached).toEqual({ token: expect.any(Secret), refreshed: false });
    expect(cached.token.equals(issued.accessToken)).toBe(true);

    await world.control('POST', '/clock/advance', FOUR_HOURS);
    const refreshed = await world.tokens.getAccessToken(connection);
    expect(refreshed.refreshed).toBe(true);
    expect(refreshed.token.equals(issued.accessToken)).toBe(false);

    // The first refresh token was rotated away: Ring refuses it now.
    await expect(world.oauth.refresh(world.endpointsOf(connection).tokenUrl, client, issued.refreshToken)).rejects.toMatchObject({ name: 'InvalidGrantError' });
  });

  it('10 concurrent callers with an expired access token cause exactly one refresh, and all get the new token', async () => {
    const { connection } = await world.connect();
    await world.control('POST', '/clock/advance', FOUR_HOURS);
    await world.control('DELETE', '/calls');

    const results = await world.together(Array.from({ length: 10 }, () => () => world.tokens.getAccessToken(connection)));

    expect(await world.tokenCalls()).toBe(1);
    expect(results.filter((result) => result.refreshed)).toHaveLength(1);
    for (const result of results) expect(result.token.equals(results[0].token)).toBe(true);
    const created = await fetch(`${world.endpointsOf(connection).intakeUrl}/data-queries`, { method: 'POST', headers: { authorization: `Bearer ${results[0].token.reveal()}` } });
    expect(created.status).toBe(201);
  });

  it('takes over when the lease holder died mid-refresh: one refresh once its lease expires', async () => {
    const { connection } = await world.connect();
    await world.control('POST', '/clock/advance', FOUR_HOURS);
    await world.control('DELETE', '/calls');
    // A holder that took the lease and crashed: it never refreshes nor releases.
    expect(await world.leases.acquire(`LEASE#${connection.customerId}`, 'crashed-holder', world.clock.now(), 600)).toBe(true);

    const started = world.clock.now();

    // The waiters poll the lease; their time runs out only after the dead holder's 600 ms.
    const results = await world.together(Array.from({ length: 10 }, () => () => world.tokens.getAccessToken(connection)));

    expect(world.clock.now() - started).toBeGreaterThanOrEqual(600);
    expect(await world.tokenCalls()).toBe(1);
    for (const result of results) expect(result.token.equals(results[0].token)).toBe(true);
  });

  it('marks the connection RELINK_REQUIRED on invalid_grant, once, without retrying', async () => {
    const { connection, sandboxCustomer } = await world.connect();
    await world.control('POST', `/customers/${sandboxCustomer.id}/revoke`, {});
    await world.control('POST', '/clock/advance', FOUR_HOURS);
    await world.control('DELETE', '/calls');

    await expect(world.tokens.getAccessToken(connection)).rejects.toBeInstanceOf(RelinkRequiredError);
    expect(await world.tokenCalls()).toBe(1);
    expect(await world.connectionStatus(connection.customerId)).toBe('RELINK_REQUIRED');
  });

  it('keeps an idle connection alive: refreshes a refresh token older than the configured age, leaves a fresh one', async () => {
    const { connection } = await world.connect();
    const twentyDays = 20 * 86_400_000;
    expect(await world.tokens.keepAlive(connection, twentyDays)).toBe('fresh');
    await world.control('POST', '/clock/advance', { days: 21 });
    expect(await world.tokens.keepAlive(connection, twentyDays)).toBe('refreshed');
    expect(await world.tokens.keepAlive(connection, twentyDays)).toBe('fresh');
    // 21 + 10 days: past Ring's 30 days for the original refresh token, fine for the kept one.
    await world.control('POST', '/clock/advance', { days: 10 });
    expect((await world.tokens.getAccessToken(connection)).refreshed).toBe(true);
  });

  it('says how to fix missing client credentials', async () => {
    const empty = await ringWorld({ settings: { brands: ['blink'] } });
    try {
      await empty.aws.clients.secretsManager.send(
        new (await import('@aws-sdk/client-secrets-manager')).PutSecretValueCommand({ SecretId: `${empty.prefix}/client/blink`, SecretString: JSON.stringify({ client_id: '', client_secret: '' }) }),
      );
      await expect(empty.credentials.get('blink')).rejects.toThrow(/client credentials in .*\/client\/blink are not set: put/);
    } finally {
      await empty.stop();
    }
  });
});
