import type { NotificationDelivery } from '../../sandbox/notifications';
import type { SandboxEvent } from '../../sandbox/observer';
import type { Sandbox } from '../../sandbox/sandbox';
import { connect, control, createApp, intake, startSandbox, tokenRequest } from './support';

const DAY = 86_400_000;

describe('sandbox observers', () => {
  let sandbox: Sandbox;
  const events: SandboxEvent[] = [];
  beforeAll(async () => {
    sandbox = await startSandbox({ queryDelayMs: 100, limits: { createPerSecond: 2, createPerWindow: 3 }, refreshTokenIdleMs: 2 * DAY });
    sandbox.observe((event) => events.push(event));
  });
  afterAll(() => sandbox.stop());
  beforeEach(async () => {
    await control(sandbox, 'DELETE', '/faults');
    events.splice(0);
  });

  it('tells an injected refusal from one of the rate limits, and names the caller', async () => {
    const { app, customer, tokens } = await connect(sandbox);
    const others = await Promise.all([connect(sandbox, { app }), connect(sandbox, { app }), connect(sandbox, { app })]);
    await control(sandbox, 'PUT', '/faults', { rules: [{ operation: 'createDataQuery', nth: [1], error: 'TOO_MANY_REQUESTS' }] });
    events.splice(0);
    expect((await intake(sandbox, 'POST', '/data-portability/data-queries', { token: tokens.access_token })).status).toBe(429);
    expect((await intake(sandbox, 'POST', '/data-portability/data-queries', { token: tokens.access_token })).status).toBe(201);
    expect((await intake(sandbox, 'POST', '/data-portability/data-queries', { token: others[0].tokens.access_token })).status).toBe(201);
    // The third call in the same second is over createPerSecond (2).
    expect((await intake(sandbox, 'POST', '/data-portability/data-queries', { token: others[1].tokens.access_token })).status).toBe(429);
    sandbox.clock.advance(1_000);
    expect((await intake(sandbox, 'POST', '/data-portability/data-queries', { token: others[1].tokens.access_token })).status).toBe(201);
    sandbox.clock.advance(1_000);
    // Three created in the window (3): the fourth is THROTTLED.
    expect((await intake(sandbox, 'POST', '/data-portability/data-queries', { token: others[2].tokens.access_token })).status).toBe(429);
    const intakeEvents = events.filter((event) => event.kind === 'intake');
    expect(intakeEvents.map((event) => [event.status, event.error, event.origin])).toEqual([
      [429, 'TOO_MANY_REQUESTS', 'fault'],
      [201, undefined, undefined],
      [201, undefined, undefined],
      [429, 'TOO_MANY_REQUESTS', 'rate-limit'],
      [201, undefined, undefined],
      [429, 'THROTTLED', 'rate-limit'],
    ]);
    expect(intakeEvents.every((event) => event.operation === 'createDataQuery')).toBe(true);
    expect(intakeEvents[1]).toMatchObject({ customerId: customer.id, at: expect.any(Number) });
    // The injected fault answers before the token is checked: the caller is still named by its token.
    expect(intakeEvents[0].customerId).toBe(customer.id);
    expect(intakeEvents[5].customerId).toBe(others[2].customer.id);
    // A token the sandbox does not know names nobody.
    events.splice(0);
    await intake(sandbox, 'POST', '/data-portability/data-queries', { token: 'Atza|unknown' });
    expect(events).toEqual([expect.objectContaining({ kind: 'intake', operation: 'createDataQuery', status: 403, error: 'ACCESS_DENIED', origin: 'request', customerId: undefined })]);
  });

  it('says why a refresh token was refused, and whether its consent was still in force', async () => {
    const lapsing = await connect(sandbox);
    const revoked = await connect(sandbox, { app: lapsing.app });
    await control(sandbox, 'POST', `/customers/${revoked.customer.id}/revoke`);
    sandbox.clock.advance(3 * DAY);
    events.splice(0);
    const refresh = (refreshToken: string) => tokenRequest(sandbox, 'ring', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: lapsing.app.clientId, client_secret: lapsing.app.clientSecret });
    expect((await refresh(lapsing.tokens.refresh_token)).body.error).toBe('invalid_grant');
    expect((await refresh(revoked.tokens.refresh_token)).body.error).toBe('invalid_grant');
    expect(events).toEqual([
      expect.objectContaining({ kind: 'token', grantType: 'refresh_token', customerId: lapsing.customer.id, status: 400, error: 'invalid_grant', refreshRefusal: 'expired', consentActive: true }),
      // Revoking rotated every refresh token of the grant away: presenting one is a reuse, of a consent that has ended.
      expect.objectContaining({ kind: 'token', customerId: revoked.customer.id, status: 400, refreshRefusal: 'reused', consentActive: false }),
    ]);
  });

  it('reports successful token answers with the customer, and injected token faults as injected', async () => {
    const { app, customer, tokens } = await connect(sandbox);
    await control(sandbox, 'PUT', '/faults', { rules: [{ operation: 'token', nth: [1], oauthError: 'temporarily_unavailable' }] });
    events.splice(0);
    const form = { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: app.clientId, client_secret: app.clientSecret };
    expect((await tokenRequest(sandbox, 'ring', form)).status).toBe(503);
    expect((await tokenRequest(sandbox, 'ring', form)).status).toBe(200);
    expect(events).toEqual([
      expect.objectContaining({ kind: 'token', status: 503, error: 'temporarily_unavailable', injected: true }),
      expect.objectContaining({ kind: 'token', grantType: 'refresh_token', customerId: customer.id, status: 200, consentActive: true }),
    ]);
  });
});

describe('a notification transport of its own', () => {
  it('carries every delivery instead of HTTP, and a failed one is retried as SNS does', async () => {
    const deliveries: NotificationDelivery[] = [];
    const answers = [200, 200, 200, 200, 200, 200, 500];
    const sandbox = await startSandbox({
      queryDelayMs: 100,
      notificationTransport: (delivery) => {
        deliveries.push(delivery);
        return Promise.resolve(answers.shift() ?? 200);
      },
    });
    try {
      const app = await createApp(sandbox, { notificationUrl: 'http://127.0.0.1:9/notifications/v1' });
      // Port 9 (discard) is never connected to: the transport carries the six confirmations.
      expect(deliveries.map((delivery) => delivery.headers['x-amz-sns-message-type'])).toEqual(Array(6).fill('SubscriptionConfirmation'));
      for (const delivery of deliveries) expect((await fetch((JSON.parse(delivery.body) as { SubscribeURL: string }).SubscribeURL)).status).toBe(200);
      const { tokens } = await connect(sandbox, { app });
      const created = await intake(sandbox, 'POST', '/data-portability/data-queries', { token: tokens.access_token });
      sandbox.clock.advance(100);
      expect(deliveries).toHaveLength(7);
      const notification = deliveries[6];
      expect(notification.url).toBe('http://127.0.0.1:9/notifications/v1');
      expect(notification.headers).toMatchObject({ 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' });
      expect(JSON.parse((JSON.parse(notification.body) as { Message: string }).Message)).toEqual({ id: created.body.id, version: '1.0', status: 'COMPLETED' });
      // Answered 500 (once the answer is in): delivered again 20 s later, with the same MessageId.
      await new Promise((resolve) => setImmediate(resolve));
      sandbox.clock.advance(20_000);
      expect(deliveries).toHaveLength(8);
      expect(JSON.parse(deliveries[7].body)).toMatchObject({ MessageId: (JSON.parse(notification.body) as { MessageId: string }).MessageId });
    } finally {
      await sandbox.stop();
    }
  });
});
