import { createVerify, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { PortabilityError } from '../errors';
import type { Clock } from '../ports';

/** The notification is not acceptable: answered 4xx, never retried by SNS into a storm. */
export class NotificationRejectedError extends PortabilityError {
  readonly name = 'NotificationRejectedError';

  constructor(
    readonly reason: string,
    readonly status = 400,
  ) {
    super(`notification rejected: ${reason}`);
  }
}

/** The signing certificate could not be fetched: answered 5xx so SNS retries later. */
export class CertificateUnavailableError extends PortabilityError {
  readonly name = 'CertificateUnavailableError';
}

const SnsMessage = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().min(1).max(128),
  TopicArn: z.string().min(1).max(512),
  Message: z.string().max(64 * 1024),
  Timestamp: z.string().min(1).max(64),
  SignatureVersion: z.string(),
  Signature: z.string().min(1).max(4096),
  SigningCertURL: z.string().min(1).max(1024),
  Subject: z.string().max(512).optional(),
  Token: z.string().max(1024).optional(),
  SubscribeURL: z.string().max(2048).optional(),
  UnsubscribeURL: z.string().max(2048).optional(),
});
export type SnsMessage = z.infer<typeof SnsMessage>;

const SIGNED_FIELDS: Record<SnsMessage['Type'], readonly (keyof SnsMessage)[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

/** Amazon SNS's documented string to sign: `name\nvalue\n` for each present field, in order. */
export function snsStringToSign(message: SnsMessage): string {
  return SIGNED_FIELDS[message.Type]
    .filter((field) => message[field] !== undefined)
    .map((field) => `${field}\n${message[field]}\n`)
    .join('');
}

const CERT_PATH = /^\/SimpleNotificationService-[A-Za-z0-9]{1,128}\.pem$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface CertificateFetcher {
  /** GETs the PEM at `url` (already checked), with a timeout and a size cap. */
  fetch(url: URL): Promise<string>;
}

export interface SnsVerifierOptions {
  readonly allowedTopicArns: readonly string[];
  /** Exact host names certificates may come from (production: sns.<region>.amazonaws.com). */
  readonly certificateHosts: readonly string[];
  readonly maxMessageAgeSeconds: number;
  readonly clock: Clock;
  readonly fetcher: CertificateFetcher;
  /** Bounded certificate cache. @default 32 entries, 1 hour */
  readonly cacheSize?: number;
  readonly cacheTtlMs?: number;
}

/** A message whose signature, certificate and age have been checked. */
export interface VerifiedMessage {
  readonly message: SnsMessage;
  /** The host the signing certificate came from: where a SubscribeURL may point. */
  readonly certificateHost: string;
  /** Whether TopicArn is on the allowlist. Notifications from other topics are refused; a
   * subscription confirmation from one is kept for an operator (that is how Ring's topic is learnt). */
  readonly topicAllowed: boolean;
}

/** How notifications are authenticated: SNS signatures today; an HMAC header scheme can be another. */
export interface NotificationVerifier {
  verify(rawBody: string, headers: Record<string, string | undefined>): Promise<VerifiedMessage>;
}

/**
 * Verifies Amazon SNS HTTP(S) deliveries ourselves rather than with `sns-validator`, whose
 * certificate cache is unbounded, whose fetch has no timeout, and whose host pattern accepts
 * more than SNS's own hosts. Checks, in order: the envelope's shape, SignatureVersion 1
 * (SHA1withRSA) or 2 (SHA256withRSA), the TopicArn allowlist (subscription confirmations
 * excepted: they are kept for an operator), the Timestamp window, the
 * certificate URL (HTTPS, an allowed host, no userinfo/query/fragment, the
 * `/SimpleNotificationService-<id>.pem` path), then the signature with that certificate.
 */
export class SnsSignatureVerifier implements NotificationVerifier {
  private readonly cache = new Map<string, { certificate: X509Certificate; until: number }>();

  constructor(private readonly options: SnsVerifierOptions) {}

  async verify(rawBody: string): Promise<VerifiedMessage> {
    let json: unknown;
    try {
      json = JSON.parse(rawBody);
    } catch {
      throw new NotificationRejectedError('body is not JSON');
    }
    const parsed = SnsMessage.safeParse(json);
    if (!parsed.success) throw new NotificationRejectedError(`not an SNS message (${parsed.error.issues.map((issue) => issue.path.join('.') || 'body').join(', ')})`);
    const message = parsed.data;
    const algorithm = message.SignatureVersion === '1' ? 'RSA-SHA1' : message.SignatureVersion === '2' ? 'RSA-SHA256' : undefined;
    if (!algorithm) throw new NotificationRejectedError(`unsupported SignatureVersion ${JSON.stringify(message.SignatureVersion).slice(0, 20)}`);
    const topicAllowed = this.options.allowedTopicArns.includes(message.TopicArn);
    if (!topicAllowed && message.Type !== 'SubscriptionConfirmation') throw new NotificationRejectedError('unexpected TopicArn', 403);
    this.checkTimestamp(message.Timestamp);
    const certUrl = this.checkCertificateUrl(message.SigningCertURL);
    const certificate = await this.certificate(certUrl);
    const valid = createVerify(algorithm).update(snsStringToSign(message), 'utf8').verify(certificate.publicKey, message.Signature, 'base64');
    if (!valid) throw new NotificationRejectedError('bad signature', 403);
    return { message, certificateHost: certUrl.host, topicAllowed };
  }

  private checkTimestamp(timestamp: string): void {
    const at = Date.parse(timestamp);
    if (!Number.isFinite(at)) throw new NotificationRejectedError('Timestamp is not a date');
    const now = this.options.clock.now();
    if (now - at > this.options.maxMessageAgeSeconds * 1000) throw new NotificationRejectedError('stale Timestamp');
    if (at - now > 5 * 60_000) throw new NotificationRejectedError('Timestamp in the future');
  }

  /** Only `https://<allowed host>/SimpleNotificationService-<id>.pem` (http on a loopback host, for the sandbox). */
  checkCertificateUrl(text: string): URL {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new NotificationRejectedError('SigningCertURL is not a URL');
    }
    const loopback = LOOPBACK.has(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new NotificationRejectedError('SigningCertURL is not HTTPS');
    if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || text.includes('@')) throw new NotificationRejectedError('SigningCertURL has userinfo, a query or a fragment');
    if (!this.options.certificateHosts.includes(url.hostname)) throw new NotificationRejectedError('SigningCertURL host is not allowed');
    if (url.port !== '' && !loopback) throw new NotificationRejectedError('SigningCertURL has a port');
    if (!CERT_PATH.test(url.pathname)) throw new NotificationRejectedError('SigningCertURL path is not a SimpleNotificationService-*.pem');
    return url;
  }

  private async certificate(url: URL): Promise<X509Certificate> {
    const key = url.toString();
    const now = this.options.clock.now();
    const cached = this.cache.get(key);
    if (cached && cached.until > now) return cached.certificate;
    let pem: string;
    try {
      pem = await this.options.fetcher.fetch(url);
    } catch (error) {
      throw new CertificateUnavailableError(`signing certificate unavailable (${(error as Error).message})`);
    }
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch {
      throw new NotificationRejectedError('SigningCertURL did not serve a certificate');
    }
    if (Date.parse(certificate.validTo) < now || Date.parse(certificate.validFrom) > now) throw new NotificationRejectedError('signing certificate is not valid now');
    if (this.cache.size >= (this.options.cacheSize ?? 32)) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { certificate, until: now + (this.options.cacheTtlMs ?? 3_600_000) });
    return certificate;
  }
}
