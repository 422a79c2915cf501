import { createVerify, X509Certificate } from 'node:crypto';
import { INTAKE_ERRORS, type IntakeErrorName } from '../../sandbox/errors';
import { stringToSign, SUBJECT } from '../../sandbox/notifications';
import type { Sandbox } from '../../sandbox/sandbox';
import { BRANDS, REGIONS } from '../../sandbox/state';
import { connect, control, createApp, eventually, intake, Receiver, startSandbox } from './support';

let sandbox: Sandbox;
const receivers: Receiver[] = [];
beforeAll(async () => {
  sandbox = await startSandbox({ queryDelayMs: 100 });
});
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.stop()));
  await sandbox.stop();
});
beforeEach(() => control(sandbox, 'DELETE', '/faults'));

async function receiver(): Promise<Receiver> {
  const started = await new Receiver().start();
  receivers.push(started);
  return started;
}

/** Verifies an SNS message the way a subscriber must: certificate from SigningCertURL, then the signature. */
async function verify(message: Record<string, string>): Promise<boolean> {
  const pem = await (await fetch(message.SigningCertURL)).text();
  const certificate = new X509Certificate(pem);
  const algorithm = message.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256';
  return createVerify(algorithm).update(stringToSign(message), 'utf8').verify(certificate.publicKey, message.Signature, 'base64');
}

/** An app whose endpoint has confirmed every subscription, as the product does. */
async function subscribedApp(signatureVersion: '1' | '2') {
  const endpoint = await receiver();
  const app = await createApp(sandbox, { notificationUrl: endpoint.url, signatureVersion });
  await eventually(() => (endpoint.received.length >= 6 ? true : undefined), 'six subscription confirmations');
  for (const message of endpoint.messages()) expect((await fetch(message.SubscribeURL)).status).toBe(200);
  endpoint.received.splice(0);
  return { app, endpoint };
}

const errorBody = (name: IntakeErrorName) => {
  const [status, category, type, message] = INTAKE_ERRORS[name];
  return { status, body: { category, type, message } };
};

async function runQuery(app: Awaited<ReturnType<typeof createApp>>, region: (typeof REGIONS)[number] = 'eu-west-1', brand: (typeof BRANDS)[number] = 'ring') {
  const { tokens, customer } = await connect(sandbox, { app, region, brand });
  const { body } = await intake(sandbox, 'POST', '/data-portability/data-queries', { token: tokens.access_token, region, brand });
  return { queryId: String(body.id), tokens, customer };
}

describe('SNS notifications', () => {
  it('asks each new endpoint to confirm a subscription to every brand/region topic, signed, with a SubscribeURL it serves', async () => {
    const endpoint = await receiver();
    const app = await createApp(sandbox, { notificationUrl: endpoint.url });
    await eventually(() => (endpoint.received.length >= 6 ? true : undefined), 'six subscription confirmations');
    const messages = endpoint.messages();
    expect(messages.map((message) => message.TopicArn).sort()).toEqual(
      BRANDS.flatMap((brand) => REGIONS.map((region) => `arn:aws:sns:${region}:123456789012:ring-data-portability-${brand}`)).sort(),
    );
    for (const [index, message] of messages.entries()) {
      expect(message).toMatchObject({ Type: 'SubscriptionConfirmation', SignatureVersion: '1', Token: expect.any(String) });
      expect(endpoint.received[index].headers['x-amz-sns-message-type']).toBe('SubscriptionConfirmation');
      expect(await verify(message)).toBe(true);
      expect(new URL(message.SigningCertURL).pathname).toMatch(/^\/SimpleNotificationService-[0-9a-f]+\.pem$/);
    }
    const subscriptions = await control<{ confirmed: boolean }[]>(sandbox, 'GET', `/subscriptions?clientId=${encodeURIComponent(app.clientId)}`);
    expect(subscriptions.every((subscription) => !subscription.confirmed)).toBe(true);

    const confirmation = await fetch(messages[0].SubscribeURL);
    expect(confirmation.status).toBe(200);
    expect(await confirmation.text()).toContain('<ConfirmSubscriptionResponse');
    const after = await control<{ confirmed: boolean }[]>(sandbox, 'GET', `/subscriptions?clientId=${encodeURIComponent(app.clientId)}`);
    expect(after.filter((subscription) => subscription.confirmed)).toHaveLength(1);
  });

  it('issues the signing certificate from the sandbox’s own CA', async () => {
    const ca = new X509Certificate(await (await fetch(`${sandbox.baseUrl}/__sandbox/ca.pem`)).text());
    const leaf = new X509Certificate(await (await fetch(`${sandbox.baseUrl}${sandbox.notifications.signingCertPath}`)).text());
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
  });

  it.each([
    ['2045-06-01T12:00:00Z', 'manual'],
    ['2001-03-01T00:00:00Z', 'real'],
  ] as const)('makes its signing certificate valid around its own clock (starting %s, %s), whatever the machine’s date', async (start, mode) => {
    const elsewhen = await startSandbox({ clock: { startAt: Date.parse(start), mode } });
    try {
      const leaf = new X509Certificate(await (await fetch(`${elsewhen.baseUrl}${elsewhen.notifications.signingCertPath}`)).text());
      const now = elsewhen.clock.now();
      expect(Date.parse(leaf.validFrom)).toBeLessThan(now);
      expect(Date.parse(leaf.validTo)).toBeGreaterThan(now + 365 * 86_400_000);
    } finally {
      await elsewhen.stop();
    }
  });

  it.each(['1', '2'] as const)('sends a signed Notification (SignatureVersion %s) on the topic of the query’s region when it completes', async (version) => {
    const { app, endpoint } = await subscribedApp(version);
    const { queryId } = await runQuery(app, 'us-west-2', 'blink');
    await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
    const [delivery] = await eventually(() => (endpoint.received.length > 0 ? endpoint.received : undefined), 'the notification');
    const message = JSON.parse(delivery.body) as Record<string, string>;
    expect(delivery.headers['content-type']).toBe('text/plain; charset=UTF-8');
    expect(delivery.headers['x-amz-sns-message-type']).toBe('Notification');
    expect(delivery.headers['x-amz-sns-message-id']).toBe(message.MessageId);
    expect(delivery.headers['x-amz-sns-topic-arn']).toBe('arn:aws:sns:us-west-2:123456789012:ring-data-portability-blink');
    expect(delivery.headers['x-amz-sns-subscription-arn']).toMatch(/^arn:aws:sns:us-west-2:/);
    expect(message).toMatchObject({ Type: 'Notification', Subject: SUBJECT, SignatureVersion: version, TopicArn: delivery.headers['x-amz-sns-topic-arn'] });
    expect(JSON.parse(message.Message)).toEqual({ id: queryId, version: '1.0', status: 'COMPLETED' });
    expect(Buffer.byteLength(delivery.body)).toBeLessThan(4096);
    expect(await verify(message)).toBe(true);
    expect(await verify({ ...message, Message: message.Message.replace('COMPLETED', 'CANCELED') })).toBe(false);
  });

  it('notifies CANCELED when consent ended before the query finished', async () => {
    const { app, endpoint } = await subscribedApp('2');
    const { queryId, customer } = await runQuery(app);
    await control(sandbox, 'POST', `/customers/${customer.id}/revoke`, {});
    await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
    const [delivery] = await eventually(() => (endpoint.received.length > 0 ? endpoint.received : undefined), 'the notification');
    expect(JSON.parse((JSON.parse(delivery.body) as { Message: string }).Message)).toEqual({ id: queryId, version: '1.0', status: 'CANCELED' });
  });

  it('retries a failed delivery 3 times, 20 s apart, with the same MessageId', async () => {
    const { app, endpoint } = await subscribedApp('1');
    endpoint.failWith = [500, 503, 500, 500];
    await runQuery(app);
    // The sandbox schedules a retry when it has the failed answer, not when the endpoint got the
    // request: wait for the sandbox to record each attempt before moving its clock.
    const recorded = async (attempts: number) => {
      const deliveries = await control<{ clientId: string; type: string; attempts: unknown[] }[]>(sandbox, 'GET', '/notifications');
      const mine = deliveries.filter((delivery) => delivery.clientId === app.clientId && delivery.type === 'Notification');
      return mine.length === 1 && mine[0].attempts.length === attempts && endpoint.received.length === attempts ? true : undefined;
    };
    await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
    await eventually(() => recorded(1), 'the first attempt');
    for (let attempt = 2; attempt <= 4; attempt++) {
      await control(sandbox, 'POST', '/clock/advance', { seconds: 19 });
      expect(endpoint.received).toHaveLength(attempt - 1);
      await control(sandbox, 'POST', '/clock/advance', { seconds: 1 });
      await eventually(() => recorded(attempt), `attempt ${attempt}`);
    }
    await control(sandbox, 'POST', '/clock/advance', { seconds: 60 });
    expect(endpoint.received).toHaveLength(4);
    expect(new Set(endpoint.messages().map((message) => message.MessageId)).size).toBe(1);
  });

  it('delivers nothing to an unconfirmed subscription', async () => {
    const endpoint = await receiver();
    const app = await createApp(sandbox, { notificationUrl: endpoint.url });
    await eventually(() => (endpoint.received.length >= 6 ? true : undefined), 'six subscription confirmations');
    const { queryId } = await runQuery(app);
    await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
    const deliveries = await control<{ queryId?: string; dropped: boolean }[]>(sandbox, 'GET', '/notifications');
    expect(deliveries.find((delivery) => delivery.queryId === queryId)).toMatchObject({ dropped: true });
    expect(endpoint.received).toHaveLength(6);
  });

  it('drops, duplicates and delays notifications when told to', async () => {
    const { app, endpoint } = await subscribedApp('1');
    await control(sandbox, 'PUT', '/faults', {
      rules: [
        { operation: 'notification', nth: [1], drop: true },
        { operation: 'notification', nth: [2], duplicate: true },
        { operation: 'notification', nth: [3], delayMs: 30_000 },
      ],
    });
    const dropped = await runQuery(app);
    await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
    const duplicated = await runQuery(app);
    await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
    await eventually(() => (endpoint.received.length === 2 ? true : undefined), 'the duplicated notification, twice');
    const ids = endpoint.messages().map((message) => (JSON.parse(message.Message) as { id: string }).id);
    expect(ids).toEqual([duplicated.queryId, duplicated.queryId]);
    expect(ids).not.toContain(dropped.queryId);

    const delayed = await runQuery(app);
    await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
    await control(sandbox, 'POST', '/clock/advance', { seconds: 29 });
    expect(endpoint.received).toHaveLength(2);
    await control(sandbox, 'POST', '/clock/advance', { seconds: 1 });
    await eventually(() => (endpoint.received.length === 3 ? true : undefined), 'the delayed notification');
    expect((JSON.parse(endpoint.messages()[2].Message) as { id: string }).id).toBe(delayed.queryId);
  });

  it('reorders notifications when told to: the held one follows the next', async () => {
    const { app, endpoint } = await subscribedApp('2');
    await control(sandbox, 'PUT', '/faults', { rules: [{ operation: 'notification', nth: [1], reorder: true }] });
    const first = await runQuery(app);
    await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
    const second = await runQuery(app);
    await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
    await eventually(() => (endpoint.received.length === 2 ? true : undefined), 'both notifications');
    expect(endpoint.messages().map((message) => (JSON.parse(message.Message) as { id: string }).id)).toEqual([second.queryId, first.queryId]);
  });

  it('refuses a notification URL that is not on this machine', async () => {
    await control(sandbox, 'POST', '/apps', { redirectUris: ['http://127.0.0.1:9/cb'], notificationUrl: 'https://example.com/notifications/v1' }, 400);
  });
});

describe('the listing window follows the notification', () => {
  /** Lists a query's records; a new `maxResults` each time keeps the 5-minute response cache out of the way. */
  const lister = (queryId: string, token: string) => {
    let maxResults = 0;
    return () => intake(sandbox, 'GET', `/data-portability/data-queries/${queryId}/records?maxResults=${++maxResults}`, { token });
  };

  it('opens when a notification delayed 30 minutes is sent, not at completion, and closes an hour after it was sent', async () => {
    const { app } = await subscribedApp('2');
    await control(sandbox, 'PUT', '/faults', { rules: [{ operation: 'notification', nth: [1], delayMs: 30 * 60_000 }] });
    const { queryId, tokens } = await runQuery(app);
    const list = lister(queryId, tokens.access_token);
    await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
    expect(await control(sandbox, 'GET', `/queries/${queryId}`)).toMatchObject({ status: 'COMPLETED' });
    expect(await list()).toEqual(errorBody('QUERY_NOT_COMPLETED'));
    await control(sandbox, 'POST', '/clock/advance', { minutes: 29, seconds: 59 });
    expect(await list()).toEqual(errorBody('QUERY_NOT_COMPLETED'));

    await control(sandbox, 'POST', '/clock/advance', { seconds: 1 });
    expect((await list()).status).toBe(200);
    // Completion + 61 minutes: 31 minutes after the notification.
    await control(sandbox, 'POST', '/clock/advance', { minutes: 31 });
    expect((await list()).status).toBe(200);
    await control(sandbox, 'POST', '/clock/advance', { minutes: 29 });
    expect((await list()).status).toBe(200);
    await control(sandbox, 'POST', '/clock/advance', { ms: 1 });
    expect(await list()).toEqual(errorBody('ACCESS_TIME_ELAPSED'));
  });

  it('opens when a notification held back for reordering goes out', async () => {
    const { app } = await subscribedApp('1');
    await control(sandbox, 'PUT', '/faults', { rules: [{ operation: 'notification', nth: [1], reorder: true }] });
    const { queryId, tokens } = await runQuery(app);
    const list = lister(queryId, tokens.access_token);
    await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
    expect(await list()).toEqual(errorBody('QUERY_NOT_COMPLETED'));
    await control(sandbox, 'POST', '/clock/advance', { seconds: 10 });
    expect((await list()).status).toBe(200);
  });

  it('opens at completion when the notification is lost on the way: it was sent, and the app must poll', async () => {
    const { app } = await subscribedApp('1');
    await control(sandbox, 'PUT', '/faults', { rules: [{ operation: 'notification', nth: [1], drop: true }] });
    const { queryId, tokens } = await runQuery(app);
    const list = lister(queryId, tokens.access_token);
    await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
    expect((await list()).status).toBe(200);
    await control(sandbox, 'POST', '/clock/advance', { minutes: 60, ms: 1 });
    expect(await list()).toEqual(errorBody('ACCESS_TIME_ELAPSED'));
  });
});
