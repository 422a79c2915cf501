import { createSign, randomUUID } from 'node:crypto';
import { NotificationRejectedError, SnsSignatureVerifier, CertificateUnavailableError } from '../../../../lambdas/core/notifications/sns-verifier';
import { createSigningIdentity, stringToSign } from '../../../../sandbox/notifications';

// The test's own clock: the certificates are made from it, so the day the test runs does not matter.
const NOW = Date.parse('2026-11-26T12:00:00Z');
const YEAR = 365 * 86_400_000;
const identity = createSigningIdentity(NOW);
const other = createSigningIdentity(NOW);
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ring-data-portability-ring';
const HOST = 'sns.eu-west-1.amazonaws.com';
const CERT_URL = `https://${HOST}/SimpleNotificationService-0123456789abcdef.pem`;

function message(overrides: Record<string, string | undefined> = {}, version: '1' | '2' = '1', key = identity.privateKeyPem) {
  const base: Record<string, string | undefined> = {
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: TOPIC,
    Subject: 'Data Portability Notification 1.0',
    Message: JSON.stringify({ id: 'a1111111-b222-c333-d444-e55555555555', version: '1.0', status: 'COMPLETED' }),
    Timestamp: new Date(NOW - 1000).toISOString(),
    SignatureVersion: version,
    SigningCertURL: CERT_URL,
    ...overrides,
  };
  const signature = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256').update(stringToSign(base), 'utf8').sign(key, 'base64');
  return { ...base, Signature: overrides.Signature ?? signature };
}

function verifier(options: { fetch?: (url: URL) => Promise<string>; topics?: string[]; now?: number } = {}) {
  const fetched: string[] = [];
  const instance = new SnsSignatureVerifier({
    allowedTopicArns: options.topics ?? [TOPIC],
    certificateHosts: [HOST, 'sns.us-east-1.amazonaws.com'],
    maxMessageAgeSeconds: 3600,
    clock: { now: () => options.now ?? NOW, sleep: () => Promise.resolve() },
    fetcher: {
      fetch: (url) => {
        fetched.push(url.toString());
        return options.fetch ? options.fetch(url) : Promise.resolve(identity.certPem);
      },
    },
  });
  return { instance, fetched };
}

const rejected = async (body: unknown, v = verifier()) => {
  const error = await v.instance.verify(typeof body === 'string' ? body : JSON.stringify(body)).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(NotificationRejectedError);
  return (error as NotificationRejectedError).reason;
};

describe('SNS signature verification', () => {
  it.each(['1', '2'] as const)('accepts a valid SignatureVersion %s message, and caches the certificate', async (version) => {
    const v = verifier();
    await expect(v.instance.verify(JSON.stringify(message({}, version)))).resolves.toMatchObject({ certificateHost: HOST, topicAllowed: true });
    await v.instance.verify(JSON.stringify(message({}, version)));
    expect(v.fetched).toEqual([CERT_URL]);
  });

  it('accepts a SubscriptionConfirmation (its own string to sign) from an unknown topic, flagged', async () => {
    const confirmation = message({ Type: 'SubscriptionConfirmation', Subject: undefined, TopicArn: 'arn:aws:sns:eu-west-1:999999999999:other', Token: 'tok', SubscribeURL: `https://${HOST}/?Action=ConfirmSubscription&TopicArn=x&Token=tok` });
    await expect(verifier().instance.verify(JSON.stringify(confirmation))).resolves.toMatchObject({ topicAllowed: false });
  });

  it.each([
    ['a signature by another key', () => message({}, '1', other.privateKeyPem), 'bad signature'],
    ['a tampered Message', () => ({ ...message(), Message: JSON.stringify({ id: 'x', version: '1.0', status: 'CANCELED' }) }), 'bad signature'],
    ['a tampered Subject', () => ({ ...message(), Subject: 'Something else' }), 'bad signature'],
    ['a tampered Timestamp', () => ({ ...message(), Timestamp: new Date(NOW - 2000).toISOString() }), 'bad signature'],
    ['a signature that is not base64 of anything', () => message({ Signature: 'AAAA' }), 'bad signature'],
    ['an http: certificate URL', () => message({ SigningCertURL: CERT_URL.replace('https:', 'http:') }), 'not HTTPS'],
    ['a foreign host', () => message({ SigningCertURL: 'https://evil.example.com/SimpleNotificationService-1.pem' }), 'host is not allowed'],
    ['s3.amazonaws.com', () => message({ SigningCertURL: 'https://s3.amazonaws.com/SimpleNotificationService-1.pem' }), 'host is not allowed'],
    ['an sns.s3-… host', () => message({ SigningCertURL: 'https://sns.s3-eu-west-1.amazonaws.com/SimpleNotificationService-1.pem' }), 'host is not allowed'],
    ['a host that only starts like SNS', () => message({ SigningCertURL: `https://${HOST}.evil.example.com/SimpleNotificationService-1.pem` }), 'host is not allowed'],
    ['userinfo', () => message({ SigningCertURL: `https://${HOST}@evil.example.com/SimpleNotificationService-1.pem` }), 'userinfo'],
    ['userinfo on the right host', () => message({ SigningCertURL: `https://user@${HOST}/SimpleNotificationService-1.pem` }), 'userinfo'],
    ['a query', () => message({ SigningCertURL: `${CERT_URL}?x=https://evil.example.com/` }), 'query'],
    ['a fragment', () => message({ SigningCertURL: `${CERT_URL}#frag` }), 'fragment'],
    ['a port', () => message({ SigningCertURL: `https://${HOST}:8443/SimpleNotificationService-1.pem` }), 'port'],
    ['a non-.pem path', () => message({ SigningCertURL: `https://${HOST}/SimpleNotificationService-1.crt` }), 'path'],
    ['a path elsewhere', () => message({ SigningCertURL: `https://${HOST}/other/SimpleNotificationService-1.pem` }), 'path'],
    ['an encoded traversal', () => message({ SigningCertURL: `https://${HOST}/x/..%2FSimpleNotificationService-1.pem` }), 'path'],
    ['an unexpected TopicArn', () => message({ TopicArn: 'arn:aws:sns:eu-west-1:999999999999:other' }), 'unexpected TopicArn'],
    ['a stale Timestamp', () => message({ Timestamp: new Date(NOW - 3_601_000).toISOString() }), 'stale Timestamp'],
    ['a Timestamp from the future', () => message({ Timestamp: new Date(NOW + 3_600_000).toISOString() }), 'future'],
    ['an unsupported SignatureVersion', () => ({ ...message(), SignatureVersion: '3' }), 'unsupported SignatureVersion'],
    ['a missing Signature', () => ({ ...message(), Signature: undefined }), 'not an SNS message'],
    ['a missing MessageId', () => ({ ...message(), MessageId: undefined }), 'not an SNS message'],
    ['an unknown Type', () => ({ ...message(), Type: 'Surprise' }), 'not an SNS message'],
  ])('rejects %s', async (_what, build, reason) => {
    const v = verifier();
    expect(await rejected(build(), v)).toContain(reason);
  });

  it('rejects non-JSON and never fetches a certificate for a rejected URL', async () => {
    const v = verifier();
    expect(await rejected('not json', v)).toContain('not JSON');
    await rejected(message({ SigningCertURL: 'https://evil.example.com/SimpleNotificationService-1.pem' }), v);
    expect(v.fetched).toEqual([]);
  });

  it('says a certificate it cannot fetch is unavailable (5xx: SNS retries), not a bad signature', async () => {
    const v = verifier({ fetch: () => Promise.reject(new Error('timeout')) });
    await expect(v.instance.verify(JSON.stringify(message()))).rejects.toBeInstanceOf(CertificateUnavailableError);
  });

  it('rejects a URL that served something other than a certificate', async () => {
    const v = verifier({ fetch: () => Promise.resolve('<html>hello</html>') });
    expect(await rejected(message(), v)).toContain('did not serve a certificate');
  });

  it.each([
    ['expired (made 11 years before the verifier’s clock)', createSigningIdentity(NOW - 11 * YEAR)],
    ['not yet valid (made 2 days after the verifier’s clock)', createSigningIdentity(NOW + 2 * 86_400_000)],
  ])('rejects a certificate that is %s', async (_what, signer) => {
    const v = verifier({ fetch: () => Promise.resolve(signer.certPem) });
    expect(await rejected(message({}, '2', signer.privateKeyPem), v)).toBe('signing certificate is not valid now');
  });

  it('judges validity by its own clock, not the machine’s date', async () => {
    const later = NOW + 5 * YEAR;
    const signer = createSigningIdentity(later);
    const v = verifier({ now: later, fetch: () => Promise.resolve(signer.certPem) });
    const body = message({ Timestamp: new Date(later - 1000).toISOString() }, '2', signer.privateKeyPem);
    await expect(v.instance.verify(JSON.stringify(body))).resolves.toMatchObject({ topicAllowed: true });
  });

  it('keeps its certificate cache bounded', async () => {
    const v = new SnsSignatureVerifier({
      allowedTopicArns: [TOPIC],
      certificateHosts: [HOST],
      maxMessageAgeSeconds: 3600,
      clock: { now: () => NOW, sleep: () => Promise.resolve() },
      fetcher: { fetch: () => Promise.resolve(identity.certPem) },
      cacheSize: 2,
    });
    for (let i = 0; i < 5; i++) await v.verify(JSON.stringify(message({ SigningCertURL: `https://${HOST}/SimpleNotificationService-${i}.pem` })));
    expect((v as unknown as { cache: Map<string, unknown> }).cache.size).toBe(2);
  });
});
