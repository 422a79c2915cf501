import { createSign, randomUUID, X509Certificate } from 'node:crypto';
import { parseCertificates } from '../../../../lambdas/core/notifications/certificate-chain';
import { NotificationRejectedError, SnsSignatureVerifier, CertificateUnavailableError, snsVerifierFromSettings } from '../../../../lambdas/core/notifications/sns-verifier';
import { parseSettings } from '../../../../lambdas/core/settings';
import { createCertificateAuthority, createSigningIdentity, stringToSign, type SigningIdentity } from '../../../../sandbox/notifications';

// The test's own clock: the certificates are made from it, so the day the test runs does not matter.
const NOW = Date.parse('2026-11-26T12:00:00Z');
const YEAR = 365 * 86_400_000;
const identity = createSigningIdentity(NOW);
const other = createSigningIdentity(NOW);
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ring-data-portability-ring';
const HOST = 'sns.eu-west-1.amazonaws.com';
const CERT_URL = `https://${HOST}/SimpleNotificationService-0123456789abcdef.pem`;
const clock = (now = NOW) => ({ now: () => now, sleep: () => Promise.resolve() });

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

function verifier(options: { fetch?: (url: URL) => Promise<Buffer | string>; topics?: string[]; now?: number; anchors?: string; origins?: string[] } = {}) {
  const fetched: string[] = [];
  const instance = new SnsSignatureVerifier({
    allowedTopicArns: options.topics ?? [TOPIC],
    certificateOrigins: options.origins ?? [`https://${HOST}`, 'https://sns.us-east-1.amazonaws.com'],
    trustAnchors: parseCertificates(options.anchors ?? identity.caPem),
    maxMessageAgeSeconds: 3600,
    clock: clock(options.now),
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
    await expect(v.instance.verify(JSON.stringify(message({}, version)))).resolves.toMatchObject({ certificateOrigin: `https://${HOST}`, topicAllowed: true });
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
    ['an http: certificate URL', () => message({ SigningCertURL: CERT_URL.replace('https:', 'http:') }), 'scheme is not the pinned https'],
    ['a foreign host', () => message({ SigningCertURL: 'https://evil.example.com/SimpleNotificationService-1.pem' }), 'host is not allowed'],
    ['s3.amazonaws.com', () => message({ SigningCertURL: 'https://s3.amazonaws.com/SimpleNotificationService-1.pem' }), 'host is not allowed'],
    ['an sns.s3-… host', () => message({ SigningCertURL: 'https://sns.s3-eu-west-1.amazonaws.com/SimpleNotificationService-1.pem' }), 'host is not allowed'],
    ['a host that only starts like SNS', () => message({ SigningCertURL: `https://${HOST}.evil.example.com/SimpleNotificationService-1.pem` }), 'host is not allowed'],
    ['userinfo', () => message({ SigningCertURL: `https://${HOST}@evil.example.com/SimpleNotificationService-1.pem` }), 'userinfo'],
    ['userinfo on the right host', () => message({ SigningCertURL: `https://user@${HOST}/SimpleNotificationService-1.pem` }), 'userinfo'],
    ['a query', () => message({ SigningCertURL: `${CERT_URL}?x=https://evil.example.com/` }), 'query'],
    ['a fragment', () => message({ SigningCertURL: `${CERT_URL}#frag` }), 'fragment'],
    ['a port', () => message({ SigningCertURL: `https://${HOST}:8443/SimpleNotificationService-1.pem` }), 'port is not the pinned one'],
    ['a loopback host', () => message({ SigningCertURL: 'http://127.0.0.1:4010/SimpleNotificationService-1.pem' }), 'host is not allowed'],
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
    const v = verifier({ now: later, anchors: signer.caPem, fetch: () => Promise.resolve(signer.certPem) });
    const body = message({ Timestamp: new Date(later - 1000).toISOString() }, '2', signer.privateKeyPem);
    await expect(v.instance.verify(JSON.stringify(body))).resolves.toMatchObject({ topicAllowed: true });
  });

  it('keeps its certificate cache bounded', async () => {
    const v = new SnsSignatureVerifier({
      allowedTopicArns: [TOPIC],
      certificateOrigins: [`https://${HOST}`],
      trustAnchors: parseCertificates(identity.caPem),
      maxMessageAgeSeconds: 3600,
      clock: clock(),
      fetcher: { fetch: () => Promise.resolve(identity.certPem) },
      cacheSize: 2,
    });
    for (let i = 0; i < 5; i++) await v.verify(JSON.stringify(message({ SigningCertURL: `https://${HOST}/SimpleNotificationService-${i}.pem` })));
    expect((v as unknown as { cache: Map<string, unknown> }).cache.size).toBe(2);
  });
});

describe('certificate origin pinning (local system)', () => {
  const SANDBOX = 'http://127.0.0.1:4010';
  const local = (url: string) => message({ SigningCertURL: url });

  it('accepts the sandbox’s exact origin', async () => {
    const v = verifier({ origins: [SANDBOX] });
    await expect(v.instance.verify(JSON.stringify(local(`${SANDBOX}/SimpleNotificationService-1.pem`)))).resolves.toMatchObject({ certificateOrigin: SANDBOX });
  });

  it.each([
    ['another port of 127.0.0.1', 'http://127.0.0.1:4011/SimpleNotificationService-1.pem', 'port is not the pinned one'],
    ['the default port of 127.0.0.1', 'http://127.0.0.1/SimpleNotificationService-1.pem', 'port is not the pinned one'],
    ['https on the sandbox’s port', 'https://127.0.0.1:4010/SimpleNotificationService-1.pem', 'scheme is not the pinned http'],
    ['localhost', 'http://localhost:4010/SimpleNotificationService-1.pem', 'host is not allowed'],
    ['[::1]', 'http://[::1]:4010/SimpleNotificationService-1.pem', 'host is not allowed'],
  ])('refuses %s without fetching anything', async (_what, url, reason) => {
    const v = verifier({ origins: [SANDBOX] });
    expect(await rejected(local(url), v)).toContain(reason);
    expect(v.fetched).toEqual([]);
  });
});

describe('certificate chain to a trust anchor', () => {
  const AIA = 'http://crt.r2m01.amazontrust.com/r2m01.cer';
  const root = createCertificateAuthority(NOW, 'Test Root CA');
  const intermediate = createCertificateAuthority(NOW, 'Test Intermediate CA', root);
  const der = (pem: string) => new X509Certificate(pem).raw;
  /** Serves `leaf` at the certificate URL and `issuers` at their CA Issuers URLs. */
  const serving = (leaf: SigningIdentity, issuers: Record<string, Buffer | string> = {}) => (url: URL) =>
    url.toString() === CERT_URL ? Promise.resolve(leaf.certPem) : url.toString() in issuers ? Promise.resolve(issuers[url.toString()]) : Promise.reject(new Error('404'));

  it('refuses a certificate from an allowed origin that the anchor did not issue (a CA of its own)', async () => {
    const v = verifier({ fetch: () => Promise.resolve(other.certPem) });
    const error = await v.instance.verify(JSON.stringify(message({}, '2', other.privateKeyPem))).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'signing certificate does not chain to a trust anchor', status: 403 });
  });

  it('refuses a certificate that names the anchor as its issuer but was signed by another key', async () => {
    const impostorCa = createCertificateAuthority(NOW, 'Ring Data Portability Sandbox CA');
    const forged = createSigningIdentity(NOW, { ca: impostorCa });
    expect(new X509Certificate(forged.certPem).issuer).toBe(new X509Certificate(identity.caPem).subject);
    const v = verifier({ fetch: () => Promise.resolve(forged.certPem) });
    expect(await rejected(message({}, '2', forged.privateKeyPem), v)).toBe('signing certificate does not chain to a trust anchor');
  });

  it('refuses a CA certificate as the signing certificate, even the anchor itself', async () => {
    const ca = createCertificateAuthority(NOW, 'Signing with the CA');
    const v = verifier({ anchors: ca.certPem, fetch: () => Promise.resolve(ca.certPem) });
    expect(await rejected(message({}, '2', ca.privateKeyPem), v)).toBe('signing certificate is a CA certificate');
  });

  it('accepts a chain through an intermediate fetched (DER) from the certificate’s CA Issuers URL on amazontrust.com, once', async () => {
    const leaf = createSigningIdentity(NOW, { ca: intermediate, caIssuersUrl: AIA });
    const v = verifier({ anchors: root.certPem, fetch: serving(leaf, { [AIA]: der(intermediate.certPem) }) });
    await expect(v.instance.verify(JSON.stringify(message({}, '2', leaf.privateKeyPem)))).resolves.toMatchObject({ topicAllowed: true });
    await v.instance.verify(JSON.stringify(message({}, '2', leaf.privateKeyPem)));
    expect(v.fetched).toEqual([CERT_URL, AIA]);
  });

  it.each([
    ['a host outside amazontrust.com', 'http://evil.example.com/r2m01.cer'],
    ['a host that only ends like it', 'http://crt.r2m01.amazontrust.com.evil.example.com/r2m01.cer'],
    ['a loopback address', 'http://127.0.0.1:4010/r2m01.cer'],
    ['a port', 'http://crt.r2m01.amazontrust.com:8080/r2m01.cer'],
    ['a query', 'http://crt.r2m01.amazontrust.com/r2m01.cer?x=1'],
  ])('never fetches an issuer from %s', async (_what, url) => {
    const leaf = createSigningIdentity(NOW, { ca: intermediate, caIssuersUrl: url });
    const v = verifier({ anchors: root.certPem, fetch: serving(leaf, { [url]: der(intermediate.certPem) }) });
    expect(await rejected(message({}, '2', leaf.privateKeyPem), v)).toBe('signing certificate does not chain to a trust anchor');
    expect(v.fetched).toEqual([CERT_URL]);
  });

  it('refuses an intermediate at an allowed CA Issuers URL that the anchor did not sign', async () => {
    const otherRoot = createCertificateAuthority(NOW, 'Test Root CA');
    const rogue = createCertificateAuthority(NOW, 'Test Intermediate CA', otherRoot);
    const leaf = createSigningIdentity(NOW, { ca: rogue, caIssuersUrl: AIA });
    const v = verifier({ anchors: root.certPem, fetch: serving(leaf, { [AIA]: rogue.certPem }) });
    expect(await rejected(message({}, '2', leaf.privateKeyPem), v)).toContain('does not chain to a trust anchor');
    expect(v.fetched).toEqual([CERT_URL, AIA]);
  });

  it('refuses what the CA Issuers URL serves when it did not issue the certificate', async () => {
    const leaf = createSigningIdentity(NOW, { ca: intermediate, caIssuersUrl: AIA });
    const v = verifier({ anchors: root.certPem, fetch: serving(leaf, { [AIA]: createCertificateAuthority(NOW, 'Unrelated CA').certPem }) });
    expect(await rejected(message({}, '2', leaf.privateKeyPem), v)).toBe('signing certificate does not chain to a trust anchor: its CA Issuers URL served a certificate that did not issue it');
  });

  it('judges an intermediate’s validity by its own clock', async () => {
    const old = createCertificateAuthority(NOW - 11 * YEAR, 'Test Intermediate CA', root);
    const leaf = createSigningIdentity(NOW, { ca: old, caIssuersUrl: AIA });
    const v = verifier({ anchors: root.certPem, fetch: serving(leaf, { [AIA]: old.certPem }) });
    expect(await rejected(message({}, '2', leaf.privateKeyPem), v)).toBe('signing certificate chains through an intermediate that is not valid now');
  });

  it('says an issuer it cannot fetch is unavailable (5xx: SNS retries), not untrusted', async () => {
    const leaf = createSigningIdentity(NOW, { ca: intermediate, caIssuersUrl: AIA });
    const v = verifier({ anchors: root.certPem, fetch: serving(leaf) });
    await expect(v.instance.verify(JSON.stringify(message({}, '2', leaf.privateKeyPem)))).rejects.toBeInstanceOf(CertificateUnavailableError);
  });
});

describe('production settings: SNS’s hosts, Amazon’s roots', () => {
  const production = (fetch: (url: URL) => Promise<string>) =>
    snsVerifierFromSettings(parseSettings({ notifications: { allowedTopicArns: [TOPIC] } }).notifications, { clock: clock(), fetcher: { fetch } });
  const reasonOf = (v: SnsSignatureVerifier, body: unknown) =>
    v.verify(JSON.stringify(body)).then(
      () => 'accepted',
      (error: unknown) => (error as NotificationRejectedError).reason,
    );

  it('refuses a certificate served at https://sns.<region>.amazonaws.com that does not chain to Amazon’s roots', async () => {
    expect(await reasonOf(production(() => Promise.resolve(identity.certPem)), message({}, '2'))).toBe('signing certificate does not chain to a trust anchor');
  });

  it('refuses a certificate that names Amazon Root CA 1 as its issuer without being signed by it', async () => {
    const fakeRoot = createCertificateAuthority(NOW, { countryName: 'US', organizationName: 'Amazon', commonName: 'Amazon Root CA 1' });
    const forged = createSigningIdentity(NOW, { ca: fakeRoot, subject: HOST });
    expect(await reasonOf(production(() => Promise.resolve(forged.certPem)), message({}, '2', forged.privateKeyPem))).toBe('signing certificate does not chain to a trust anchor');
  });

  it('fetches certificates from https://sns.<region>.amazonaws.com only', async () => {
    const v = production(() => Promise.resolve(identity.certPem));
    expect(await reasonOf(v, message({ SigningCertURL: 'http://127.0.0.1:4010/SimpleNotificationService-1.pem' }))).toBe('SigningCertURL host is not allowed');
    expect(await reasonOf(v, message({ SigningCertURL: `http://${HOST}/SimpleNotificationService-1.pem` }))).toBe('SigningCertURL scheme is not the pinned https');
  });
});
