import { X509Certificate } from 'node:crypto';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle. Throws when there is none, or when one does not parse. */
export function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate found');
  return blocks.map((block) => new X509Certificate(block));
}

/** GETs a certificate (PEM or DER) at a URL that has already been checked. */
export interface CertificateFetcher {
  fetch(url: URL): Promise<Buffer | string>;
}

/** The certificate does not chain to a trust anchor, or a certificate on the way is unusable. */
export class UntrustedCertificateError extends Error {
  override readonly name = 'UntrustedCertificateError';
}

/** An issuing certificate named by a "CA Issuers" URL could not be fetched (worth retrying). */
export class IssuerUnavailableError extends Error {
  override readonly name = 'IssuerUnavailableError';
}

/**
 * Amazon Trust Services' certificate repository, where Amazon's certificates name their
 * issuer (`http://crt.r2m01.amazontrust.com/r2m01.cer`): plain HTTP as AIA URLs are, which is
 * safe because what comes back is trusted only if its signature leads to an anchor.
 */
export function isAmazonTrustIssuerUrl(url: URL): boolean {
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    /^crt\.[a-z0-9-]{1,63}\.amazontrust\.com$/.test(url.hostname) &&
    url.port === '' &&
    url.username === '' &&
    url.password === '' &&
    url.search === '' &&
    url.hash === '' &&
    /^\/[A-Za-z0-9-]{1,64}\.(cer|crt|der|pem)$/.test(url.pathname)
  );
}

export interface CertificateChainOptions {
  /** CA certificates a chain must end at. */
  readonly anchors: readonly X509Certificate[];
  /** Fetches an intermediate from a certificate's "CA Issuers" URL, when `issuerUrlAllowed` says it may. */
  readonly fetcher: CertificateFetcher;
  readonly issuerUrlAllowed: (url: URL) => boolean;
  /** @default 2 (Amazon's: leaf, one intermediate, root) */
  readonly maxIntermediates?: number;
  /** Intermediates kept, verified, per URL. @default 8 */
  readonly cacheSize?: number;
}

const validAt = (certificate: X509Certificate, now: number) => Date.parse(certificate.validFrom) <= now && now <= Date.parse(certificate.validTo);

/** Whether `issuer` issued `certificate`: names and key identifiers match (OpenSSL's check), and its key made the signature. */
const issuedBy = (certificate: X509Certificate, issuer: X509Certificate) => certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey);

/** The "CA Issuers" URLs of a certificate's Authority Information Access extension. */
export function caIssuersUrls(certificate: X509Certificate): URL[] {
  const urls: URL[] = [];
  for (const line of (certificate.infoAccess ?? '').split('\n')) {
    const match = /^CA Issuers - URI:(.+)$/.exec(line.trim());
    if (!match) continue;
    try {
      // Node quotes a value with unusual characters as a JSON string.
      urls.push(new URL(match[1].startsWith('"') ? (JSON.parse(match[1]) as string) : match[1]));
    } catch {
      // not a URL: ignored
    }
  }
  return urls;
}

/**
 * Checks that a signing certificate chains to a configured trust anchor, each certificate
 * valid at the caller's `now`, with Node's `X509Certificate` (OpenSSL) doing the cryptography.
 * SNS delivers its leaf certificate only, so an issuer that is not an anchor is fetched from
 * the leaf's "CA Issuers" URL, and only from where `issuerUrlAllowed` permits.
 */
export class CertificateChain {
  private readonly issuers = new Map<string, X509Certificate>();

  constructor(private readonly options: CertificateChainOptions) {
    if (options.anchors.length === 0) throw new Error('at least one trust anchor is required');
  }

  async verify(leaf: X509Certificate, now: number): Promise<void> {
    if (leaf.ca) throw new UntrustedCertificateError('signing certificate is a CA certificate');
    let current = leaf;
    for (let intermediates = 0; ; intermediates++) {
      const anchor = this.options.anchors.find((candidate) => issuedBy(current, candidate));
      if (anchor) {
        if (!validAt(anchor, now)) throw new UntrustedCertificateError('signing certificate chains to a trust anchor that is not valid now');
        return;
      }
      if (intermediates >= (this.options.maxIntermediates ?? 2)) throw new UntrustedCertificateError('signing certificate does not chain to a trust anchor within the allowed length');
      current = await this.issuerOf(current, now);
    }
  }

  private async issuerOf(certificate: X509Certificate, now: number): Promise<X509Certificate> {
    const url = caIssuersUrls(certificate).find((candidate) => this.options.issuerUrlAllowed(candidate));
    if (!url) throw new UntrustedCertificateError('signing certificate does not chain to a trust anchor');
    const key = url.toString();
    let issuer = this.issuers.get(key);
    if (!issuer) {
      let body: Buffer | string;
      try {
        body = await this.options.fetcher.fetch(url);
      } catch (error) {
        throw new IssuerUnavailableError(`issuing certificate unavailable (${(error as Error).message})`);
      }
      try {
        issuer = new X509Certificate(body);
      } catch {
        throw new UntrustedCertificateError('signing certificate does not chain to a trust anchor: its CA Issuers URL served no certificate');
      }
    }
    if (!issuer.ca || !issuedBy(certificate, issuer)) throw new UntrustedCertificateError('signing certificate does not chain to a trust anchor: its CA Issuers URL served a certificate that did not issue it');
    if (!validAt(issuer, now)) throw new UntrustedCertificateError('signing certificate chains through an intermediate that is not valid now');
    if (!this.issuers.has(key)) {
      if (this.issuers.size >= (this.options.cacheSize ?? 8)) this.issuers.delete(this.issuers.keys().next().value!);
      this.issuers.set(key, issuer);
    }
    return issuer;
  }
}
