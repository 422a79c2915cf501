import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Download, FileDownloader, RawObjectStore } from '../core/ingest/fetch';
import { downloadFailure } from '../core/ring/errors';

/**
 * GETs presigned URLs with node's http client (10-13 % faster than fetch() for bodies, per
 * DESIGN.md), a connect/idle timeout, no redirects followed; non-200 becomes a typed error.
 */
export class HttpFileDownloader implements FileDownloader {
  constructor(private readonly timeoutMs = 30_000) {}

  open(url: string): Promise<Download> {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(target, { method: 'GET', timeout: this.timeoutMs }, (response) => {
        if (response.statusCode === 200) {
          const length = Number(response.headers['content-length']);
          resolve({ body: response, contentLength: Number.isFinite(length) ? length : undefined });
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if ((size += chunk.length) <= 8192) chunks.push(chunk);
        });
        response.on('end', () => reject(downloadFailure(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), response.headers['retry-after'])));
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error('download timed out')));
      request.on('error', reject);
      request.end();
    });
  }
}

/** Multipart streaming into the raw-data bucket; a failed upload is aborted (no orphan parts). */
export class S3RawObjectStore implements RawObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async upload(key: string, body: Readable, contentType: string): Promise<void> {
    await new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    }).done();
  }
}
