import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SubscriptionConfirmer } from '../core/notifications/handle';
import type { CertificateFetcher } from '../core/notifications/certificate-chain';

/** Fetches a certificate (PEM or DER, as bytes): a timeout, at most 16 KiB, 200 only, no redirects followed. */
export class HttpsCertificateFetcher implements CertificateFetcher {
  constructor(
    private readonly timeoutMs = 3_000,
    private readonly maxBytes = 16 * 1024,
  ) {}

  fetch(url: URL): Promise<Buffer> {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(url, { method: 'GET', timeout: this.timeoutMs }, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`HTTP ${response.statusCode}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxBytes) {
            request.destroy(new Error('certificate too large'));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => resolve(Buffer.concat(chunks)));
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', reject);
      request.end();
    });
  }
}

/** Confirms a subscription by GETting its (already checked) SubscribeURL. */
export class HttpSubscriptionConfirmer implements SubscriptionConfirmer {
  private readonly fetcher: HttpsCertificateFetcher;

  constructor(timeoutMs = 5_000) {
    this.fetcher = new HttpsCertificateFetcher(timeoutMs, 64 * 1024);
  }

  async confirm(url: URL): Promise<void> {
    await this.fetcher.fetch(url);
  }
}
