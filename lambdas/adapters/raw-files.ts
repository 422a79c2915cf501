import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CutDownloadError, type Download, type FileDownloader, type RawObjectStore } from '../core/ingest/fetch';
import type { ManifestWriter } from '../core/ingest/complete';
import type { RawReader, RecordItem, RecordWriter, StoredRecord } from '../core/ingest/load';
import { downloadFailure } from '../core/ring/errors';
import { uploadStream, type StreamUploadOptions } from './multipart-upload';

/**
 * Errors of a connection made, then lost before the response (a reset, a hang-up, a silence).
 * Anything before a connection (refused, no such host, DNS, a connect that never completes, a
 * certificate) fails the message: SQS tries it again at 30 s, 2 and 8 minutes, then the
 * dead-letter queue and its alarm, where retrying it here would go on unseen.
 */
const LOST_CONNECTION = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

/**
 * The downloader's timeout: silent after connecting is a lost connection; never connected (a
 * host that drops the connection attempt) is no passing fault, like a refused one.
 */
export function timeoutError(connecting: boolean): NodeJS.ErrnoException {
  return connecting ? Object.assign(new Error('download could not connect in time'), { code: 'ECONNTIMEOUT' }) : Object.assign(new Error('download timed out'), { code: 'ETIMEDOUT' });
}

/** A request that got no response: a CutDownloadError (tried again) if the connection was lost, else the error itself (the message fails). */
export function noResponse(error: NodeJS.ErrnoException): Error {
  return LOST_CONNECTION.has(error.code ?? '') ? new CutDownloadError(`no response: ${error.message}`) : error;
}

/**
 * GETs presigned URLs with node's http client (10-13 % faster than fetch() for bodies, per
 * DESIGN.md), a connect/idle timeout, no redirects followed; non-200 becomes a typed error, and
 * a connection lost before the response a CutDownloadError (fetch tries it again).
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
      request.on('timeout', () => request.destroy(timeoutError(request.socket?.connecting !== false)));
      request.on('error', (error: NodeJS.ErrnoException) => reject(noResponse(error)));
      request.end();
    });
  }
}

/**
 * Multipart streaming into the raw-data bucket (uploadStream: parts filled in place, CRC32 per
 * part); a failed upload is aborted (no orphan parts). Memory: three 8 MiB parts, up to three
 * in flight (a buffer takes the next part once its own is stored).
 */
export class S3RawObjectStore implements RawObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly options: StreamUploadOptions = { partSize: 8 * 1024 * 1024, buffers: 3 },
  ) {}

  async upload(key: string, body: Readable, contentType: string): Promise<void> {
    await uploadStream(this.s3, { Bucket: this.bucket, Key: key, ContentType: contentType }, body, this.options);
  }
}

/** Reads raw objects (ranged) and writes reject reports, in the raw-data bucket. */
export class S3RawReader implements RawReader, ManifestWriter {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async read(key: string, offset: number): Promise<Readable> {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: offset > 0 ? `bytes=${offset}-` : undefined }));
    return object.Body as Readable;
  }

  async text(key: string, maxBytes: number): Promise<string> {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${maxBytes - 1}` }));
    return object.Body!.transformToString('utf8');
  }

  async putManifest(key: string, manifest: unknown): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(manifest, null, 2), ContentType: 'application/json' }));
  }

  async putRejects(key: string, lines: string[]): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: `${lines.join('\n')}\n`, ContentType: 'application/x-ndjson' }));
  }
}

/**
 * DynamoDB's answers to a request over a partition's, the table's or the account's throughput.
 * BatchWriteItem throws the first when it wrote none of the batch, as it may when all 25 items
 * share a throttled partition key (README: Partition-key write ceiling).
 */
const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

/**
 * BatchWriteItem of up to 25 records and BatchGetItem of up to 100 keys. UnprocessedItems and
 * UnprocessedKeys, and a batch refused whole for throughput, are sent again with jittered
 * backoff (up to 10 attempts over about 20 s): a throttled partition slows a load down instead
 * of failing its invocation.
 *
 * Existence reads are eventually consistent (half the price of strongly consistent ones): only
 * a purge deletes records, and load skips a customer whose purge is requested, so a stale
 * answer can only miss an item written in the last second, which is then written again (same
 * key, same item) and counted new (README: Incremental imports).
 */
export class DynamoDbRecordWriter implements RecordWriter {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    private readonly random: () => number = Math.random,
  ) {}

  async write(items: RecordItem[]): Promise<RecordItem[]> {
    // Identical keys in one batch are refused by DynamoDB: the same record twice is one item.
    const unique = uniqueByKey(items);
    try {
      await this.writeBatch(unique);
      return [];
    } catch (error) {
      if (!refusesContent(error)) throw error;
    }
    // One item's content refused the whole batch: write each on its own to find which.
    const refused: RecordItem[] = [];
    for (const item of unique) {
      try {
        await this.writeBatch([item]);
      } catch (error) {
        if (!refusesContent(error)) throw error;
        refused.push(item);
      }
    }
    return refused;
  }

  private async writeBatch(items: readonly RecordItem[]): Promise<void> {
    await this.untilProcessed('writes', items.map((Item) => ({ PutRequest: { Item } })), async (requests) => {
      const result = await this.documents.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
      return { left: (result.UnprocessedItems?.[this.tableName] ?? []) as typeof requests };
    });
  }

  async existing(keys: readonly { readonly pk: string; readonly sk: string }[]): Promise<StoredRecord[]> {
    const found: StoredRecord[] = [];
    // Only the keys and the provenance: the record itself is not needed (the read is billed by item size all the same).
    await this.untilProcessed('reads', uniqueByKey(keys).map(({ pk, sk }) => ({ pk, sk })), async (Keys) => {
      const result = await this.documents.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys, ProjectionExpression: 'pk, sk, queryId, sourceKey, sourceOffset, ingestedAt, pointer' } } }),
      );
      found.push(...((result.Responses?.[this.tableName] ?? []) as StoredRecord[]));
      return { left: (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof Keys };
    });
    return found;
  }

  private async untilProcessed<T>(what: string, requests: T[], send: (requests: T[]) => Promise<{ left: T[] }>): Promise<void> {
    let pending = requests;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= 10) throw new Error(`DynamoDB left ${pending.length} ${what} unprocessed after ${attempt} attempts`);
      // Half fixed, half random: callers refused together do not come back together.
      if (attempt > 0) await this.sleep(Math.min(5_000, 50 * 2 ** attempt) * (0.5 + this.random() / 2));
      try {
        pending = (await send(pending)).left;
      } catch (error) {
        // The SDK has already retried it a few times; anything else is not ours to retry.
        if (!THROTTLED.has((error as Error).name)) throw error;
      }
    }
  }
}

/**
 * An item DynamoDB (or the document client, before sending) refuses for what it holds, not for
 * how it was sent: a number beyond DynamoDB's range (about ±1e126 down to 1e-130) or 38 digits,
 * or one JSON.parse could not keep exact (beyond ±2^53, which the client refuses), nesting
 * deeper than 32 levels, an item over 400 KB. Anything else (a missing key, a wrong table) is a
 * fault of ours and fails the batch as before.
 */
const CONTENT_REFUSALS = /MAX_SAFE_INTEGER|MIN_SAFE_INTEGER|Special numeric value|Number overflow|Number underflow|significant digits|Nesting Levels have exceeded|Item size has exceeded/;

function refusesContent(error: unknown): boolean {
  const { name, message } = error as { name?: string; message?: string };
  return (name === 'ValidationException' || name === 'Error') && CONTENT_REFUSALS.test(message ?? '');
}

function uniqueByKey<T extends { readonly pk: string; readonly sk: string }>(items: readonly T[]): T[] {
  return [...new Map(items.map((item) => [`${item.pk}\u0000${item.sk}`, item])).values()];
}
