import { createHash, createPrivateKey, createSign, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ServerResponse } from 'node:http';
import forge from 'node-forge';
import { sendText, xmlEscape } from './http';
import type { Sandbox } from './sandbox';
import { BRANDS, REGIONS, type App, type Brand, type Query, type Region } from './state';

export const SUBJECT = 'Data Portability Notification 1.0';
const ACCOUNT = '123456789012';
const DELIVERY_TIMEOUT_MS = 15_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A signing identity: a CA of the sandbox's own and a certificate it issued, like SNS's. */
export interface SigningIdentity {
  /** The CA that issued the certificate: what a subscriber configures as its trust anchor. */
  readonly caPem: string;
  readonly certPem: string;
  readonly privateKeyPem: string;
  readonly certId: string;
}

/** A certificate authority: its certificate and the key it issues with. */
export interface CertificateAuthority {
  readonly certPem: string;
  readonly privateKeyPem: string;
}

/** A distinguished name in forge's attribute names, e.g. `{ countryName: 'US', commonName: 'x' }`, or just a common name. */
export type DistinguishedName = string | Readonly<Record<string, string>>;

const DAY = 86_400_000;

function rsaKeys() {
  return generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
}

function attributes(name: DistinguishedName): forge.pki.CertificateField[] {
  return Object.entries(typeof name === 'string' ? { commonName: name } : name).map(([field, value]) => ({ name: field, value }));
}

/**
 * A certificate valid from a day before `now` to ten years after it, signed by `issuer` (or by
 * its own key: self-signed). `now` is the sandbox's clock (or a test's own), never the
 * machine's date, so the certificate is valid whatever day a test runs.
 */
function issue(options: {
  now: number;
  subject: DistinguishedName;
  publicKeyPem: string;
  issuer: CertificateAuthority | { readonly self: string };
  ca: boolean;
  caIssuersUrl?: string;
}): string {
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(options.publicKeyPem);
  certificate.serialNumber = `01${randomBytes(8).toString('hex')}`;
  certificate.validity.notBefore = new Date(options.now - DAY);
  certificate.validity.notAfter = new Date(options.now + 10 * 365 * DAY);
  certificate.setSubject(attributes(options.subject));
  const selfSigned = 'self' in options.issuer;
  certificate.setIssuer(selfSigned ? attributes(options.subject) : forge.pki.certificateFromPem((options.issuer as CertificateAuthority).certPem).subject.attributes);
  const extensions: object[] = options.ca
    ? [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }]
    : [{ name: 'keyUsage', digitalSignature: true }];
  if (options.caIssuersUrl) extensions.push({ id: '1.3.6.1.5.5.7.1.1', value: authorityInfoAccess(options.caIssuersUrl) });
  certificate.setExtensions(extensions);
  const signingKey = selfSigned ? (options.issuer as { self: string }).self : (options.issuer as CertificateAuthority).privateKeyPem;
  certificate.sign(forge.pki.privateKeyFromPem(signingKey), forge.md.sha256.create());
  return forge.pki.certificateToPem(certificate);
}

/** The Authority Information Access extension with one "CA Issuers" URL (RFC 5280, 4.2.2.1). */
function authorityInfoAccess(url: string): forge.asn1.Asn1 {
  const { asn1 } = forge;
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer('1.3.6.1.5.5.7.48.2').getBytes()),
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, 6, false, url),
    ]),
  ]);
}

/** A CA valid around `now`: a self-signed root, or an intermediate issued by `issuer`. */
export function createCertificateAuthority(now: number, subject: DistinguishedName, issuer?: CertificateAuthority): CertificateAuthority {
  const keys = rsaKeys();
  return { certPem: issue({ now, subject, publicKeyPem: keys.publicKey, issuer: issuer ?? { self: keys.privateKey }, ca: true }), privateKeyPem: keys.privateKey };
}

/**
 * A signing certificate valid around `now`, issued by `ca` (by default a new CA of the
 * sandbox's own, like SNS's certificates by Amazon's). `caIssuersUrl` names where its issuer
 * can be fetched, as Amazon's do.
 */
export function createSigningIdentity(now: number, options: { ca?: CertificateAuthority; caIssuersUrl?: string; subject?: DistinguishedName } = {}): SigningIdentity {
  const ca = options.ca ?? createCertificateAuthority(now, 'Ring Data Portability Sandbox CA');
  const keys = rsaKeys();
  const certPem = issue({ now, subject: options.subject ?? 'sns.sandbox.local', publicKeyPem: keys.publicKey, issuer: ca, ca: false, caIssuersUrl: options.caIssuersUrl });
  return {
    caPem: ca.certPem,
    certPem,
    privateKeyPem: keys.privateKey,
    certId: createHash('sha256').update(certPem).digest('hex').slice(0, 32),
  };
}

type MessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

/** One HTTP POST of a signed message to an app's endpoint, as SNS sends it. */
export interface NotificationDelivery {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * How deliveries reach the app's endpoint: by default an HTTP POST. A driver of virtual time
 * (the simulation) hands them to the endpoint's handler itself, so it knows when each is being
 * handled; it answers with the endpoint's HTTP status, or rejects as a failed connection would.
 */
export type NotificationTransport = (delivery: NotificationDelivery) => Promise<number>;

/** The fields SNS signs, in the documented order, for each message type. */
const SIGNED_FIELDS: Record<MessageType, readonly string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

/** SNS's string to sign: each present field as `name\nvalue\n`, in order. */
export function stringToSign(message: Record<string, string | undefined>): string {
  const fields = SIGNED_FIELDS[message.Type as MessageType];
  if (!fields) throw new Error(`unknown SNS message type ${message.Type}`);
  return fields
    .filter((field) => message[field] !== undefined)
    .map((field) => `${field}\n${message[field]}\n`)
    .join('');
}

interface Subscription {
  readonly arn: string;
  readonly clientId: string;
  readonly topicArn: string;
  readonly token: string;
  confirmed: boolean;
}

export interface DeliveryRecord {
  readonly messageId: string;
  readonly type: MessageType;
  readonly clientId: string;
  readonly topicArn: string;
  readonly queryId?: string;
  readonly status?: string;
  readonly attempts: { at: number; outcome: string }[];
  delivered: boolean;
  dropped: boolean;
}

/**
 * Ring's notifications, as Amazon SNS HTTP(S) deliveries: one topic per brand and region, a
 * SubscriptionConfirmation to each app's endpoint first, then signed Notifications once the
 * app has confirmed (SignatureVersion 1 = SHA1withRSA or 2 = SHA256withRSA, per app), with
 * SNS's retry policy when the endpoint fails.
 */
export class NotificationService {
  readonly identity: SigningIdentity;
  /** The signing key, parsed once: parsing its PEM cost more than each signature made with it. */
  private readonly signingKey: KeyObject;
  private readonly subscriptions = new Map<string, Subscription>();
  readonly deliveries: DeliveryRecord[] = [];
  private held: (() => void)[] = [];

  constructor(private readonly sandbox: Sandbox) {
    this.identity = createSigningIdentity(sandbox.clock.now());
    this.signingKey = createPrivateKey(this.identity.privateKeyPem);
  }

  topicArn(brand: Brand, region: Region): string {
    return `arn:aws:sns:${region}:${ACCOUNT}:ring-data-portability-${brand}`;
  }

  get signingCertPath(): string {
    return `/SimpleNotificationService-${this.identity.certId}.pem`;
  }

  /** Subscribes an app's endpoint to every brand/region topic: each gets a confirmation request. */
  subscribe(app: App): void {
    if (!app.notificationUrl) return;
    assertLoopback(app.notificationUrl);
    for (const [arn, subscription] of this.subscriptions) if (subscription.clientId === app.clientId) this.subscriptions.delete(arn);
    for (const brand of BRANDS) {
      for (const region of REGIONS) {
        const topicArn = this.topicArn(brand, region);
        const subscription: Subscription = {
          arn: `${topicArn}:${randomUUID()}`,
          clientId: app.clientId,
          topicArn,
          token: randomBytes(64).toString('hex'),
          confirmed: false,
        };
        this.subscriptions.set(subscription.arn, subscription);
        const subscribeUrl = `${this.sandbox.baseUrl}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=${subscription.token}`;
        this.send(app, {
          Type: 'SubscriptionConfirmation',
          MessageId: randomUUID(),
          Token: subscription.token,
          TopicArn: topicArn,
          Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
          SubscribeURL: subscribeUrl,
          Timestamp: this.timestamp(),
        });
      }
    }
  }

  subscriptionsOf(clientId: string): { topicArn: string; subscriptionArn: string; confirmed: boolean }[] {
    return [...this.subscriptions.values()]
      .filter((subscription) => subscription.clientId === clientId)
      .map((subscription) => ({ topicArn: subscription.topicArn, subscriptionArn: subscription.arn, confirmed: subscription.confirmed }));
  }

  /** GET /?Action=ConfirmSubscription&TopicArn=…&Token=… : what SubscribeURL points to. */
  confirm(url: URL, response: ServerResponse): void {
    const topicArn = url.searchParams.get('TopicArn');
    const token = url.searchParams.get('Token');
    const subscription = [...this.subscriptions.values()].find((candidate) => candidate.topicArn === topicArn && candidate.token === token);
    if (!subscription) {
      sendText(
        response,
        404,
        'text/xml',
        `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>NotFound</Code><Message>Subscription not found or token invalid</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
      return;
    }
    subscription.confirmed = true;
    sendText(
      response,
      200,
      'text/xml',
      `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>${xmlEscape(subscription.arn)}</SubscriptionArn></ConfirmSubscriptionResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>`,
    );
  }

  /**
   * Sends the final status of a query to its app, on the topic of the query's region. The
   * query's listing window opens when it is sent: now, or when a delayed or held-back
   * notification goes out. A notification lost on the way (no endpoint, no confirmed
   * subscription, a dropped one) was still sent: the app must poll.
   */
  notifyQuery(query: Query): void {
    const sent = () => {
      query.notifiedAt ??= this.sandbox.clock.now();
    };
    const app = this.sandbox.state.apps.get(query.clientId);
    if (!app?.notificationUrl) return sent();
    const topicArn = this.topicArn(query.brand, query.region);
    const subscription = [...this.subscriptions.values()].find((candidate) => candidate.clientId === app.clientId && candidate.topicArn === topicArn);
    const message = {
      Type: 'Notification',
      MessageId: randomUUID(),
      TopicArn: topicArn,
      Subject: SUBJECT,
      Message: JSON.stringify({ id: query.id, version: '1.0', status: query.status }),
      Timestamp: this.timestamp(),
      UnsubscribeURL: `${this.sandbox.baseUrl}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscription?.arn ?? '')}`,
    };
    const record = this.record(app, message, query);
    if (!subscription?.confirmed) {
      // SNS delivers nothing to an unconfirmed subscription; the product must poll.
      record.dropped = true;
      record.attempts.push({ at: this.sandbox.clock.now(), outcome: 'subscription not confirmed' });
      return sent();
    }
    const fault = this.sandbox.faults.next('notification');
    if (fault?.drop) {
      record.dropped = true;
      record.attempts.push({ at: this.sandbox.clock.now(), outcome: 'dropped (injected fault)' });
      this.sandbox.faults.countNotification('lost');
      return sent();
    }
    const deliver = () => {
      sent();
      // Messages held back for reordering go out once this one has been answered.
      this.deliver(app, message, record, 0, subscription.arn, () => this.held.splice(0).forEach((release) => release()));
      if (fault?.duplicate) {
        this.sandbox.faults.countNotification('duplicated');
        this.deliver(app, message, record, 0, subscription.arn);
      }
    };
    if (fault?.reorder) {
      this.sandbox.faults.countNotification('reordered');
      this.held.push(() => {
        sent();
        this.deliver(app, message, record, 0, subscription.arn);
      });
      // Released by the next notification, or after 10 s at the latest.
      this.sandbox.clock.schedule(10_000, () => this.held.splice(0).forEach((release) => release()));
      return;
    }
    if (fault?.delayMs) {
      this.sandbox.faults.countNotification('delayed');
      this.sandbox.clock.schedule(fault.delayMs, deliver);
    }
    else deliver();
  }

  /** PEM of the signing certificate, served at SigningCertURL. */
  servePem(response: ServerResponse): void {
    sendText(response, 200, 'application/x-x509-ca-cert', this.identity.certPem);
  }

  private send(app: App, message: Record<string, string>): void {
    this.deliver(app, message, this.record(app, message), 0);
  }

  private record(app: App, message: Record<string, string>, query?: Query): DeliveryRecord {
    const record: DeliveryRecord = {
      messageId: message.MessageId,
      type: message.Type as MessageType,
      clientId: app.clientId,
      topicArn: message.TopicArn,
      queryId: query?.id,
      status: query?.status,
      attempts: [],
      delivered: false,
      dropped: false,
    };
    this.deliveries.push(record);
    return record;
  }

  private signed(app: App, message: Record<string, string>): Record<string, string> {
    const version = app.signatureVersion;
    const signature = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256')
      .update(stringToSign(message), 'utf8')
      .sign(this.signingKey, 'base64');
    return { ...message, SignatureVersion: version, Signature: signature, SigningCertURL: `${this.sandbox.baseUrl}${this.signingCertPath}` };
  }

  /** One HTTP POST; on failure, SNS's policy here: 3 retries, 20 s apart, same MessageId. */
  private deliver(
    app: App,
    message: Record<string, string>,
    record: DeliveryRecord,
    attempt: number,
    subscriptionArn?: string,
    onFirstAnswer?: () => void,
  ): void {
    const url = app.notificationUrl;
    if (!url) return;
    const body = JSON.stringify(this.signed(app, message));
    const headers: Record<string, string> = {
      'content-type': 'text/plain; charset=UTF-8',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'Amazon Simple Notification Service Agent',
      'x-amz-sns-message-type': message.Type,
      'x-amz-sns-message-id': message.MessageId,
      'x-amz-sns-topic-arn': message.TopicArn,
      ...(subscriptionArn ? { 'x-amz-sns-subscription-arn': subscriptionArn } : {}),
    };
    const done = (outcome: string, ok: boolean) => {
      record.attempts.push({ at: this.sandbox.clock.now(), outcome });
      onFirstAnswer?.();
      if (ok) {
        record.delivered = true;
        return;
      }
      if (attempt < this.sandbox.options.notificationRetries && !this.sandbox.stopped) {
        this.sandbox.clock.schedule(this.sandbox.options.notificationRetryDelayMs, () => this.deliver(app, message, record, attempt + 1, subscriptionArn));
      }
    };
    const transport = this.sandbox.options.notificationTransport;
    if (transport) {
      transport({ url, headers, body }).then(
        (status) => done(`HTTP ${status}`, status >= 200 && status < 300),
        (error: unknown) => done(`error: ${(error as Error).message}`, false),
      );
      return;
    }
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'POST', headers, timeout: DELIVERY_TIMEOUT_MS }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      done(`HTTP ${status}`, status >= 200 && status < 300);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => done(`error: ${error.message}`, false));
    req.end(body);
  }

  private timestamp(): string {
    return new Date(this.sandbox.clock.now()).toISOString();
  }
}

/** The sandbox only ever calls back to this machine. */
export function assertLoopback(url: string): void {
  const parsed = new URL(url);
  if (!['http:', 'https:'].includes(parsed.protocol) || !LOOPBACK.has(parsed.hostname)) {
    throw new Error(`notification URL must be http(s) on a loopback host, got ${parsed.protocol}//${parsed.hostname}`);
  }
}
