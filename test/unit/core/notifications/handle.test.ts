import { randomUUID } from 'node:crypto';
import { handleNotification, type NotificationDeps } from '../../../../lambdas/core/notifications/handle';
import { NotificationRejectedError, type SnsMessage } from '../../../../lambdas/core/notifications/sns-verifier';

// The test's own clock: the messages' timestamps are made from it.
const NOW = Date.parse('2030-06-15T12:00:00Z');

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ring-data-portability-ring';
const HOST = 'sns.eu-west-1.amazonaws.com';
const ORIGIN = `https://${HOST}`;

function deps() {
  const confirmed: string[] = [];
  const pending: { topicArn: string; reason: string }[] = [];
  const value: NotificationDeps = {
    queries: {
      finish: () => Promise.resolve({ result: 'unknown' as const }),
      claimCompletion: () => Promise.resolve(true),
      releaseCompletion: () => Promise.resolve(),
    },
    completed: { send: () => Promise.resolve() },
    imports: { send: () => Promise.resolve() },
    subscriptions: {
      keepPending: (topicArn, _url, reason) => Promise.resolve(void pending.push({ topicArn, reason })),
      markConfirmed: () => Promise.resolve(),
    },
    confirmer: { confirm: (url) => Promise.resolve(void confirmed.push(url.toString())) },
    clock: { now: () => NOW, sleep: () => Promise.resolve() },
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  };
  return { value, confirmed, pending };
}

const confirmation = (subscribeUrl: string, topicArn = TOPIC): SnsMessage => ({
  Type: 'SubscriptionConfirmation',
  MessageId: randomUUID(),
  TopicArn: topicArn,
  Message: 'You have chosen to subscribe',
  Timestamp: new Date(NOW).toISOString(),
  SignatureVersion: '2',
  Signature: 'verified-already',
  SigningCertURL: `https://${HOST}/SimpleNotificationService-1.pem`,
  Token: 'token-1',
  SubscribeURL: subscribeUrl,
});

const good = `https://${HOST}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=token-1`;

describe('subscription confirmation', () => {
  it('confirms by fetching a SubscribeURL at the verified certificate origin for this topic and token', async () => {
    const d = deps();
    expect(await handleNotification(d.value, { message: confirmation(good), certificateOrigin: ORIGIN, topicAllowed: true })).toBe('subscription-confirmed');
    expect(d.confirmed).toEqual([good]);
  });

  it.each([
    ['another host', good.replace(HOST, 'evil.example.com')],
    ['an SNS host other than the certificate’s', good.replace(HOST, 'sns.us-east-1.amazonaws.com')],
    ['http', good.replace('https:', 'http:')],
    ['another port on the certificate’s host', good.replace(HOST, `${HOST}:8443`)],
    ['userinfo', good.replace('https://', `https://${HOST}@`).replace(`@${HOST}`, '@evil.example.com')],
    ['another action', good.replace('ConfirmSubscription', 'Unsubscribe')],
    ['another topic', good.replace(encodeURIComponent(TOPIC), encodeURIComponent(`${TOPIC}-other`))],
    ['another token', good.replace('token-1', 'token-2')],
    ['a path', good.replace('/?', '/redirect?')],
    ['not a URL', 'not a url'],
  ])('never fetches a SubscribeURL pointing elsewhere (%s): it is kept for an operator', async (_what, url) => {
    const d = deps();
    expect(await handleNotification(d.value, { message: confirmation(url), certificateOrigin: ORIGIN, topicAllowed: true })).toBe('subscription-pending');
    expect(d.confirmed).toEqual([]);
    expect(d.pending).toEqual([{ topicArn: TOPIC, reason: expect.stringContaining('SubscribeURL') }]);
  });

  it('locally, confirms only at the sandbox’s exact origin, not at another port of 127.0.0.1', async () => {
    const sandbox = 'http://127.0.0.1:4010';
    const local = `${sandbox}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=token-1`;
    const d = deps();
    expect(await handleNotification(d.value, { message: confirmation(local.replace(':4010', ':4011')), certificateOrigin: sandbox, topicAllowed: true })).toBe('subscription-pending');
    expect(await handleNotification(d.value, { message: confirmation(local), certificateOrigin: sandbox, topicAllowed: true })).toBe('subscription-confirmed');
    expect(d.confirmed).toEqual([local]);
  });

  it('keeps a confirmation from a topic that is not allowed, without fetching anything', async () => {
    const d = deps();
    expect(await handleNotification(d.value, { message: confirmation(good), certificateOrigin: ORIGIN, topicAllowed: false })).toBe('subscription-pending');
    expect(d.confirmed).toEqual([]);
    expect(d.pending[0].reason).toContain('allowedTopicArns');
  });
});

describe('notification messages', () => {
  const notification = (subject: string, message: unknown): SnsMessage => ({
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: TOPIC,
    Subject: subject,
    Message: JSON.stringify(message),
    Timestamp: new Date(NOW).toISOString(),
    SignatureVersion: '1',
    Signature: 'verified-already',
    SigningCertURL: `https://${HOST}/SimpleNotificationService-1.pem`,
  });

  it.each([
    ['an unknown version', 'Data Portability Notification 1.0', { id: 'q', version: '2.0', status: 'COMPLETED' }, 'unsupported notification version "2.0"'],
    ['an unknown subject', 'Data Portability Notification 2.0', { id: 'q', version: '2.0', status: 'COMPLETED' }, 'unsupported notification subject'],
    ['an unknown status', 'Data Portability Notification 1.0', { id: 'q', version: '1.0', status: 'RUNNING' }, 'not a Data Portability notification'],
  ])('rejects %s with a clear message', async (_what, subject, message, reason) => {
    const error = await handleNotification(deps().value, { message: notification(subject, message), certificateOrigin: ORIGIN, topicAllowed: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotificationRejectedError);
    expect((error as NotificationRejectedError).reason).toContain(reason);
  });

  it('accepts a notification for an unknown query id quietly', async () => {
    expect(await handleNotification(deps().value, { message: notification('Data Portability Notification 1.0', { id: 'nope', version: '1.0', status: 'COMPLETED' }), certificateOrigin: ORIGIN, topicAllowed: true })).toBe('unknown-query');
  });
});
