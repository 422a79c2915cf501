import { createVerify, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { ConfigurationError, PortabilityError } from '../errors';
import type { Clock } from '../ports';
import { signingCertOrigin, type Settings } from '../settings';
import { CertificateChain, isAmazonTrustIssuerUrl, IssuerUnavailableError, parseCertificates, UntrustedCertificateError, type CertificateFetcher } from './certificate-chain';
import { amazonRootsPem } from './trust/amazon-roots';

export type { CertificateFetcher } from './certificate-chain';

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

export const SnsMessage = z.object({
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

export interface SnsVerifierOptions {
  readonly allowedTopicArns: readonly string[];
  /**
   * Exact origins (scheme, host and port) certificates may come from: production's
   * `https://sns.<region>.amazonaws.com`, locally the sandbox's own origin and nothing else.
   */
  readonly certificateOrigins: readonly string[];
  /** CA certificates a signing certificate must chain to: Amazon's roots, locally the sandbox's CA. */
  readonly trustAnchors: readonly X509Certificate[];
  /** Where an intermediate named by a certificate's "CA Issuers" URL may be fetched from. @default Amazon Trust Services' repository */
  readonly issuerUrlAllowed?: (url: URL) => boolean;
  readonly maxMessageAgeSeconds: number;
  readonly clock: Clock;
  /** Fetches signing certificates and, from allowed issuer URLs, intermediates. */
  readonly fetcher: CertificateFetcher;
  /** Bounded certificate cache. @default 32 entries, 1 hour */
  readonly cacheSize?: number;
  readonly cacheTtlMs?: number;
}

/** A message whose signature, certificate and age have been checked. */
export interface VerifiedMessage {
  readonly message: SnsMessage;
  /** The origin (scheme://host[:port]) the signing certificate came from: where a SubscribeURL may point. */
  readonly certificateOrigin: string;
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
 * excepted: they are kept for an operator), the Timestamp window, the certificate URL (one of
 * the pinned origins exactly, no userinfo/query/fragment, the
 * `/SimpleNotificationService-<id>.pem` path), the certificate (valid now, chaining to a trust
 * anchor), then the signature with its key. A host allowlist alone is not enough: anyone can
 * make a certificate, and on a shared host (127.0.0.1) anyone can serve one.
 */
export class SnsSignatureVerifier implements NotificationVerifier {
  private readonly cache = new Map<string, { certificate: X509Certificate; until: number }>();
  private readonly origins: readonly URL[];
  private readonly chain: CertificateChain;

  constructor(private readonly options: SnsVerifierOptions) {
    if (options.trustAnchors.length === 0) throw new ConfigurationError('the SNS verifier needs at least one trust anchor');
    this.origins = options.certificateOrigins.map((origin) => new URL(origin));
    this.chain = new CertificateChain({ anchors: options.trustAnchors, fetcher: options.fetcher, issuerUrlAllowed: options.issuerUrlAllowed ?? isAmazonTrustIssuerUrl });
  }

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
    return { message, certificateOrigin: certUrl.origin, topicAllowed };
  }

  private checkTimestamp(timestamp: string): void {
    const at = Date.parse(timestamp);
    if (!Number.isFinite(at)) throw new NotificationRejectedError('Timestamp is not a date');
    const now = this.options.clock.now();
    if (now - at > this.options.maxMessageAgeSeconds * 1000) throw new NotificationRejectedError('stale Timestamp');
    if (at - now > 5 * 60_000) throw new NotificationRejectedError('Timestamp in the future');
  }

  /** Only `<pinned origin>/SimpleNotificationService-<id>.pem`: scheme, host and port exactly as configured. */
  checkCertificateUrl(text: string): URL {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new NotificationRejectedError('SigningCertURL is not a URL');
    }
    if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || text.includes('@')) throw new NotificationRejectedError('SigningCertURL has userinfo, a query or a fragment');
    if (!this.origins.some((origin) => origin.origin === url.origin)) {
      const sameHost = this.origins.filter((origin) => origin.hostname === url.hostname);
      if (sameHost.length === 0) throw new NotificationRejectedError('SigningCertURL host is not allowed');
      if (!sameHost.some((origin) => origin.protocol === url.protocol)) throw new NotificationRejectedError(`SigningCertURL scheme is not the pinned ${sameHost[0].protocol.replace(':', '')}`);
      throw new NotificationRejectedError('SigningCertURL port is not the pinned one');
    }
    if (!CERT_PATH.test(url.pathname)) throw new NotificationRejectedError('SigningCertURL path is not a SimpleNotificationService-*.pem');
    return url;
  }

  private async certificate(url: URL): Promise<X509Certificate> {
    const key = url.toString();
    const now = this.options.clock.now();
    const cached = this.cache.get(key);
    if (cached && cached.until > now) return cached.certificate;
    let body: Buffer | string;
    try {
      body = await this.options.fetcher.fetch(url);
    } catch (error) {
      throw new CertificateUnavailableError(`signing certificate unavailable (${(error as Error).message})`);
    }
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(body);
    } catch {
      throw new NotificationRejectedError('SigningCertURL did not serve a certificate');
    }
    if (Date.parse(certificate.validTo) < now || Date.parse(certificate.validFrom) > now) throw new NotificationRejectedError('signing certificate is not valid now');
    try {
      await this.chain.verify(certificate, now);
    } catch (error) {
      if (error instanceof UntrustedCertificateError) throw new NotificationRejectedError(error.message, 403);
      if (error instanceof IssuerUnavailableError) throw new CertificateUnavailableError(error.message);
      throw error;
    }
    if (this.cache.size >= (this.options.cacheSize ?? 32)) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { certificate, until: now + (this.options.cacheTtlMs ?? 3_600_000) });
    return certificate;
  }
}

/**
 * The verifier the product runs, from its settings: certificates from the pinned origins only,
 * chaining to `trustAnchors` (unset: Amazon's roots, shipped in `trust/amazon-roots.pem`).
 */
export function snsVerifierFromSettings(notifications: Settings['notifications'], deps: { readonly clock: Clock; readonly fetcher: CertificateFetcher }): SnsSignatureVerifier {
  return new SnsSignatureVerifier({
    allowedTopicArns: notifications.allowedTopicArns,
    certificateOrigins: notifications.signingCertHosts.map(signingCertOrigin),
    trustAnchors: parseCertificates(notifications.trustAnchors ?? amazonRootsPem()),
    maxMessageAgeSeconds: notifications.maxMessageAgeSeconds,
    clock: deps.clock,
    fetcher: deps.fetcher,
  });
}
