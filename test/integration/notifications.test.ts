import { createSign, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { HttpsCertificateFetcher, HttpSubscriptionConfirmer } from '../../lambdas/adapters/certificate-fetcher';
import { SqsWorkQueue } from '../../lambdas/adapters/aws-admin';
import { DynamoDbNotificationQueryStore, DynamoDbQueryRepository, DynamoDbSubscriptionStore } from '../../lambdas/adapters/query-store';
import type { NotificationDeps } from '../../lambdas/core/notifications/handle';
import { snsVerifierFromSettings, type CertificateFetcher } from '../../lambdas/core/notifications/sns-verifier';
import { parseSettings, type Settings } from '../../lambdas/core/settings';
import { makeImportsHandler } from '../../lambdas/imports/app';
import { makeNotificationsHandler } from '../../lambdas/notifications/app';
import { serveHandlers } from '../../local/http-adapter';
import { localNotificationSettings } from '../../local/runtime';
import { createSigningIdentity, stringToSign, SUBJECT, type SigningIdentity } from '../../sandbox/notifications';
import { httpEvent } from './support/http-event';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { eventually } from './support/local-aws';
import { sqsEvent } from './support/sqs-event';

const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2'];
const topic = (brand: string, region: string) => `arn:aws:sns:${region}:123456789012:ring-data-portability-${brand}`;

let world: ConnectWorld;
let endpoint: { url: string; stop(): Promise<void> };
let completedUrl: string;
let importHandler: ReturnType<typeof makeImportsHandler>;
let queries: DynamoDbQueryRepository;
/** What the local system (`npm start`) trusts, with Ring's topics only: Blink's confirmations wait for an operator. */
let notifications: Settings['notifications'];
let deps: NotificationDeps;

beforeAll(async () => {
  world = await connectWorld({ sandbox: { queryDelayMs: 100 } });
  const { aws } = world;
  notifications = parseSettings({ notifications: { ...localNotificationSettings(world.sandbox), allowedTopicArns: REGIONS.map((region) => topic('ring', region)) } }).notifications;
  completedUrl = (await aws.clients.sqs.send(new CreateQueueCommand({ QueueName: `${world.prefix}-completed` }))).QueueUrl!;
  queries = new DynamoDbQueryRepository(aws.clients.documents, world.table);
  deps = {
    queries: new DynamoDbNotificationQueryStore(aws.clients.documents, world.table),
    completed: new SqsWorkQueue(aws.clients.sqs, completedUrl),
    imports: world.connectDeps.imports,
    importSchedule: world.release,
    subscriptions: new DynamoDbSubscriptionStore(aws.clients.documents, world.table),
    confirmer: new HttpSubscriptionConfirmer(),
    clock: world.clock,
    logger: world.logger,
  };
  const handler = makeNotificationsHandler({ ...deps, verifier: snsVerifierFromSettings(notifications, { clock: world.clock, fetcher: new HttpsCertificateFetcher() }) });
  endpoint = await serveHandlers([{ method: 'POST', path: '/notifications/v1', handler }]);
  importHandler = makeImportsHandler(world.importsDeps({ send: () => Promise.resolve() }));
  await world.control('PATCH', `/apps/${world.app.clientId}`, { notificationUrl: `${endpoint.url}/notifications/v1` });
  await eventually(async () => {
    const subscriptions = await world.control<{ topicArn: string; confirmed: boolean }[]>('GET', `/subscriptions?clientId=${encodeURIComponent(world.app.clientId)}`);
    return subscriptions.filter((subscription) => subscription.confirmed).length === 3 ? true : undefined;
  }, 'the Ring subscriptions to be confirmed');
});
afterAll(async () => {
  await endpoint.stop();
  await world.aws.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: completedUrl }));
  await world.stop();
});
beforeEach(() => world.control('DELETE', '/faults'));

const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
let next = 0;

async function completedMessages(): Promise<{ queryId: string; customerId: string }[]> {
  const { Messages = [] } = await world.aws.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: completedUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
  return Messages.map((message) => JSON.parse(message.Body!) as { queryId: string; customerId: string });
}

/** Connect a customer, run its import: the sandbox now has an in-progress query we know. */
async function requestedQuery(brand: 'ring' | 'blink' = 'ring') {
  const customerId = `notified-${Date.now()}-${next++}`;
  const link = JSON.parse((await world.createLink({ customerId, brand })).body!) as { authorizeUrl: string };
  await world.callback(await world.consentAt(link.authorizeUrl, { brand }));
  const request = (await world.queuedImports()).find((queued) => queued.customerId === customerId);
  await importHandler(sqsEvent([{ body: request }]), context);
  const known = await world.control<{ id: string; customerId: string; status: string }[]>('GET', '/queries');
  const queryId = known.filter((query) => query.status === 'IN_PROGRESS').map((query) => query.id).pop()!;
  return { customerId, queryId };
}

const deliveries = () => world.control<{ queryId?: string; type: string; delivered: boolean; attempts: { outcome: string }[] }[]>('GET', '/notifications');

describe('notification endpoint with the sandbox’s signed SNS deliveries', () => {
  it('confirmed the subscriptions of allowed topics itself, and kept the others for an operator', async () => {
    const subscriptions = await world.control<{ topicArn: string; confirmed: boolean }[]>('GET', `/subscriptions?clientId=${encodeURIComponent(world.app.clientId)}`);
    expect(subscriptions.filter((subscription) => subscription.confirmed).map((subscription) => subscription.topicArn).sort()).toEqual(REGIONS.map((region) => topic('ring', region)).sort());
    const pending = await world.aws.clients.documents.send(new GetCommand({ TableName: world.table, Key: { pk: `SUBSCRIPTION#${topic('blink', 'eu-west-1')}`, sk: 'SUBSCRIPTION' } }));
    expect(pending.Item).toMatchObject({ status: 'PENDING', reason: expect.stringContaining('allowedTopicArns') });
  });

  it('turns a COMPLETED notification into exactly one completed-queries message, though delivered twice and out of order', async () => {
    await world.control('PUT', '/faults', { rules: [{ operation: 'notification', nth: [1], reorder: true }, { operation: 'notification', nth: [1, 2], duplicate: true }] });
    const first = await requestedQuery();
    world.sandbox.clock.advance(100);
    const second = await requestedQuery();
    world.sandbox.clock.advance(100);
    await eventually(async () => {
      const all = await deliveries();
      const attempts = (id: string) => all.find((delivery) => delivery.queryId === id)?.attempts.length ?? 0;
      // The first is held back until the second has been answered; the second arrives twice.
      return attempts(first.queryId) >= 1 && attempts(second.queryId) === 2 ? true : undefined;
    }, 'both notifications');

    const messages = await completedMessages();
    expect(messages.map((message) => message.queryId).sort()).toEqual([first.queryId, second.queryId].sort());
    expect(await completedMessages()).toEqual([]);
    expect(await queries.get(first.queryId)).toMatchObject({ status: 'COMPLETED', notifiedAt: expect.any(String) });
  });

  it('records CANCELED after the consent was revoked, and queues nothing', async () => {
    const { queryId, customerId } = await requestedQuery();
    const sandboxQuery = await world.control<{ customerId: string }>('GET', `/queries/${queryId}`);
    await world.control('POST', `/customers/${sandboxQuery.customerId}/revoke`, {});
    world.sandbox.clock.advance(100);
    await eventually(async () => ((await queries.get(queryId))?.status === 'CANCELED' ? true : undefined), 'the query to be CANCELED');
    expect(await completedMessages()).toEqual([]);
    // The connection is re-checked with one more import request.
    expect(await world.queuedImports()).toEqual([expect.objectContaining({ customerId, reason: 'recheck', attempt: 2 })]);
  });

  it('answers 200 to a notification for a query it does not know (no oracle, no retries)', async () => {
    // A query created behind the product's back: the product has no record of it.
    const { issued } = await world.connect();
    const created = await fetch(`${world.endpointsOf({ brand: 'ring', region: 'eu-west-1' }).intakeUrl}/data-queries`, { method: 'POST', headers: { authorization: `Bearer ${issued.accessToken.reveal()}` } });
    const { id } = (await created.json()) as { id: string };
    world.sandbox.clock.advance(100);
    await eventually(async () => ((await deliveries()).find((delivery) => delivery.queryId === id)?.delivered ? true : undefined), 'the delivery');
    const delivery = (await deliveries()).find((candidate) => candidate.queryId === id)!;
    expect(delivery.attempts).toEqual([expect.objectContaining({ outcome: 'HTTP 200' })]);
  });

  it('rejects a forged delivery posted straight to the endpoint', async () => {
    const response = await fetch(`${endpoint.url}/notifications/v1`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ Type: 'Notification', MessageId: 'x', TopicArn: topic('ring', 'eu-west-1'), Message: '{}', Timestamp: new Date(world.clock.now()).toISOString(), SignatureVersion: '1', Signature: 'AAAA', SigningCertURL: `${world.sandbox.baseUrl}${world.sandbox.notifications.signingCertPath}` }),
    });
    expect(response.status).toBe(403);
    const oversized = await fetch(`${endpoint.url}/notifications/v1`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(20_000) });
    expect(oversized.status).toBe(413);
  });
});

/** A server of someone else's on another loopback port: serves its own certificate and records every request. */
async function impostorServer(identity: SigningIdentity) {
  const requests: string[] = [];
  const certPath = `/SimpleNotificationService-${identity.certId}.pem`;
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    if (request.url === certPath) response.writeHead(200, { 'content-type': 'application/x-x509-ca-cert' }).end(identity.certPem);
    else response.writeHead(200, { 'content-type': 'text/xml' }).end('<ConfirmSubscriptionResponse/>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    certUrl: `${origin}${certPath}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An SNS message signed with `signer`'s key, pointing at `certUrl` for its certificate. */
function forged(signer: SigningIdentity, certUrl: string, fields: Record<string, string>): string {
  const message = { MessageId: randomUUID(), Timestamp: new Date(world.clock.now()).toISOString(), ...fields };
  const Signature = createSign('RSA-SHA256').update(stringToSign(message), 'utf8').sign(signer.privateKeyPem, 'base64');
  return JSON.stringify({ ...message, SignatureVersion: '2', Signature, SigningCertURL: certUrl });
}

const canceled = (queryId: string) => ({ Type: 'Notification', TopicArn: topic('ring', 'eu-west-1'), Subject: SUBJECT, Message: JSON.stringify({ id: queryId, version: '1.0', status: 'CANCELED' }) });
const post = (body: string) => fetch(`${endpoint.url}/notifications/v1`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8' }, body });

describe('forged deliveries with a certificate of their own (issue 13, item 4)', () => {
  // Someone else's CA and signing certificate, made on the test's clock like the sandbox's.
  let forger: SigningIdentity;
  let impostor: Awaited<ReturnType<typeof impostorServer>>;
  beforeAll(async () => {
    forger = createSigningIdentity(world.clock.now());
    impostor = await impostorServer(forger);
  });
  afterAll(() => impostor.stop());
  beforeEach(() => {
    impostor.requests.splice(0);
    // A new second for Ring's createDataQuery limit of 5 a second.
    world.sandbox.clock.advance(1_000);
  });

  it('refuses a CANCELED notification whose certificate comes from another 127.0.0.1 port, and never fetches it: the real query is not canceled', async () => {
    const { queryId } = await requestedQuery();
    const response = await post(forged(forger, impostor.certUrl, canceled(queryId)));
    expect({ status: response.status, body: await response.json() }).toEqual({ status: 400, body: { error: 'rejected', message: 'SigningCertURL port is not the pinned one' } });
    expect(impostor.requests).toEqual([]);
    expect((await queries.get(queryId))?.status).toBe('REQUESTED');
  });

  it('refuses a forged SubscriptionConfirmation from another 127.0.0.1 port and never fetches its SubscribeURL', async () => {
    const topicArn = topic('ring', 'eu-west-1');
    const subscribeUrl = `${impostor.origin}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=forged`;
    const body = forged(forger, impostor.certUrl, { Type: 'SubscriptionConfirmation', TopicArn: topicArn, Token: 'forged', SubscribeURL: subscribeUrl, Message: 'You have chosen to subscribe.' });
    const response = await post(body);
    expect({ status: response.status, body: await response.json() }).toEqual({ status: 400, body: { error: 'rejected', message: 'SigningCertURL port is not the pinned one' } });
    expect(impostor.requests).toEqual([]);
  });

  it('refuses a certificate served from an allowed origin that the sandbox’s CA did not issue (chain check)', async () => {
    // The impostor's origin is allowed here: only the trust anchor (the sandbox's CA) stands in the way.
    const verifier = snsVerifierFromSettings({ ...notifications, signingCertHosts: [...notifications.signingCertHosts, impostor.origin] }, { clock: world.clock, fetcher: new HttpsCertificateFetcher() });
    const handler = makeNotificationsHandler({ ...deps, verifier });
    const { queryId } = await requestedQuery();
    const result = await handler(httpEvent({ method: 'POST', path: '/notifications/v1', body: forged(forger, impostor.certUrl, canceled(queryId)) }), context);
    expect({ status: result.statusCode, body: JSON.parse(result.body!) as unknown }).toEqual({ status: 403, body: { error: 'rejected', message: 'signing certificate does not chain to a trust anchor' } });
    expect(impostor.requests).toEqual([new URL(impostor.certUrl).pathname]);
    expect((await queries.get(queryId))?.status).toBe('REQUESTED');
    // The same verifier accepts what the sandbox signs: its certificate chains to the anchor.
    const sandboxCertUrl = `${world.sandbox.baseUrl}${world.sandbox.notifications.signingCertPath}`;
    const genuine = await handler(httpEvent({ method: 'POST', path: '/notifications/v1', body: forged(world.sandbox.notifications.identity, sandboxCertUrl, canceled(randomUUID())) }), context);
    expect(genuine.statusCode).toBe(200);
  });

  it('with production settings, refuses a certificate at https://sns.<region>.amazonaws.com that does not chain to Amazon’s roots', async () => {
    const production = parseSettings({ notifications: { allowedTopicArns: REGIONS.map((region) => topic('ring', region)) } }).notifications;
    const certUrl = `https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-${forger.certId}.pem`;
    const fetched: string[] = [];
    // Stands for a hijacked answer for SNS's host: whatever is asked, the forger's certificate comes back.
    const hijacked: CertificateFetcher = {
      fetch: (url) => {
        fetched.push(url.toString());
        return Promise.resolve(forger.certPem);
      },
    };
    const handler = makeNotificationsHandler({ ...deps, verifier: snsVerifierFromSettings(production, { clock: world.clock, fetcher: hijacked }) });
    const { queryId } = await requestedQuery();
    const result = await handler(httpEvent({ method: 'POST', path: '/notifications/v1', body: forged(forger, certUrl, canceled(queryId)) }), context);
    expect({ status: result.statusCode, body: JSON.parse(result.body!) as unknown }).toEqual({ status: 403, body: { error: 'rejected', message: 'signing certificate does not chain to a trust anchor' } });
    expect(fetched).toEqual([certUrl]);
    expect((await queries.get(queryId))?.status).toBe('REQUESTED');
  });
});
