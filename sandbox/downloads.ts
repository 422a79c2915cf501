import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileStats, fileStream, schemaText, type DataFile, type FileStats } from './data/files';
import { xmlEscape } from './http';
import type { Sandbox } from './sandbox';
import type { Query } from './state';

const EXPIRES_SECONDS = 300;
const ACCESS_KEY = 'ASIASANDBOXRING00000';

type Part = 'data' | 'schema';

/**
 * Serves the files a listing points to, under URLs shaped like S3 presigned URLs
 * (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires=300`,
 * `X-Amz-SignedHeaders`, `X-Amz-Signature`). The signature is checked; past its 5 minutes a
 * URL answers 403 with S3's XML `AccessDenied` "Request has expired". Files are generated as
 * they are sent, never held in memory; their size and sha256 are measured once, on demand.
 */
export class DownloadService {
  private readonly stats = new Map<string, Promise<FileStats>>();

  constructor(private readonly sandbox: Sandbox) {}

  presign(query: Query, file: DataFile, part: Part): string {
    const date = amzDate(this.sandbox.clock.now());
    const path = `/${query.brand}/files/${query.id}/${encodeURIComponent(file.dataset)}/${file.index}.${part === 'schema' ? 'schema.json' : 'json'}`;
    const params = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `${ACCESS_KEY}/${date.slice(0, 8)}/${query.region}/s3/aws4_request`,
      'X-Amz-Date': date,
      'X-Amz-Expires': String(EXPIRES_SECONDS),
      'X-Amz-Security-Token': randomBytes(12).toString('base64url'),
      'X-Amz-SignedHeaders': 'host',
    });
    params.set('X-Amz-Signature', this.sign(path, params));
    return `${this.sandbox.baseUrl}${path}?${params.toString()}`;
  }

  /** Ground truth for a file: measured by generating it once, then remembered. */
  statsOf(query: Query, file: DataFile): Promise<FileStats> {
    const key = `${query.id}|${file.id}`;
    let stats = this.stats.get(key);
    if (!stats) {
      stats = fileStats(query.spec, file);
      this.stats.set(key, stats);
    }
    return stats;
  }

  async serve(rest: string, url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
    // rest: /<queryId>/<dataset>/<index>.json | .schema.json
    const match = /^\/([0-9a-f-]{36})\/([^/]+)\/(\d+)\.(json|schema\.json)$/.exec(rest);
    const query = match ? this.sandbox.state.queries.get(match[1]) : undefined;
    const dataset = match ? decodeURIComponent(match[2]) : '';
    const file = query?.files.find((candidate) => candidate.dataset === dataset && candidate.index === Number(match![3]));
    const path = url.pathname;

    const signature = url.searchParams.get('X-Amz-Signature') ?? '';
    const expected = this.sign(path, url.searchParams);
    if (!signature || signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
      s3Error(response, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
      return;
    }
    const signedAt = parseAmzDate(url.searchParams.get('X-Amz-Date') ?? '');
    const expires = Number(url.searchParams.get('X-Amz-Expires'));
    const now = this.sandbox.clock.now();
    if (!Number.isFinite(signedAt) || now > signedAt + expires * 1000) {
      s3Error(response, 403, 'AccessDenied', 'Request has expired', {
        'X-Amz-Expires': String(expires),
        Expires: new Date(signedAt + expires * 1000).toISOString(),
        ServerTime: new Date(now).toISOString(),
      });
      return;
    }
    if (!query || !file) {
      s3Error(response, 404, 'NoSuchKey', 'The specified key does not exist.');
      return;
    }

    const fault = this.sandbox.faults.next('download');
    if (fault?.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    if (fault?.downloadError) {
      const status = fault.downloadError === 'AccessDenied' ? 403 : fault.downloadError === 'InternalError' ? 500 : 503;
      s3Error(response, status, fault.downloadError, 'Injected fault');
      this.sandbox.faults.countDownloadRefused(fault.downloadError);
      return;
    }

    const cutAfter = fault?.cutAfterBytes;
    const cut = () => {
      this.sandbox.faults.countDownloadCut();
      response.destroy();
    };

    // A schema is an S3 object like the data file: ranges, HEAD and cuts apply to both.
    const schema = match![4] === 'schema.json' ? Buffer.from(schemaText(file.dataset)) : undefined;
    const { bytes, sha256 } = schema ? { bytes: schema.length, sha256: file.dataset } : await this.statsOf(query, file);
    const range = parseRange(request.headers.range, bytes);
    if (range === 'unsatisfiable') {
      s3Error(response, 416, 'InvalidRange', 'The requested range is not satisfiable', {}, { 'content-range': `bytes */${bytes}` });
      return;
    }
    const [start, end] = range ?? [0, bytes - 1];
    response.writeHead(range ? 206 : 200, {
      'content-type': 'application/json',
      'content-length': end - start + 1,
      etag: `"${schema ? file.dataset : sha256.slice(0, 32)}"`,
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${start}-${end}/${bytes}` } : {}),
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    const sent = slice(start, end, cutAfter, cut);
    const complete = await pipeline(schema ? Readable.from([schema]) : fileStream(query.spec, file), sent, response).then(
      () => true,
      // The client went away, or the injected cut closed the connection: counted, not complete.
      () => false,
    );
    if (!schema) this.sandbox.recordDownload({ at: new Date(now).toISOString(), queryId: query.id, file: file.id, n: query.files.indexOf(file), bytes: sent.sent, complete });
  }

  private sign(path: string, params: URLSearchParams): string {
    const signed = [...params.entries()]
      .filter(([key]) => key !== 'X-Amz-Signature')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => `${key}=${value}`)
      .join('&');
    return createHmac('sha256', this.sandbox.secret).update(`GET\n${path}\n${signed}`).digest('hex');
  }
}

/** Passes bytes [start, end] through; with `cutAfter` short of them all, destroys the connection after that many. `sent` counts what went through. */
function slice(start: number, end: number, cutAfter: number | undefined, cut: () => void): Transform & { readonly sent: number } {
  let position = 0;
  let sent = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const from = Math.max(0, start - position);
      const to = Math.min(chunk.length, end + 1 - position);
      position += chunk.length;
      if (to <= from) return callback();
      let piece = chunk.subarray(from, to);
      // A cut at or past the last byte cuts nothing: the client gets the whole body.
      if (cutAfter !== undefined && cutAfter <= end - start && sent + piece.length >= cutAfter) {
        piece = piece.subarray(0, cutAfter - sent);
        this.push(piece);
        sent += piece.length;
        // Let the bytes go out, then drop the connection mid-body.
        setImmediate(cut);
        return callback(new Error('download cut (injected fault)'));
      }
      sent += piece.length;
      callback(null, piece);
    },
  });
  return Object.defineProperty(transform, 'sent', { get: () => sent }) as Transform & { readonly sent: number };
}

/**
 * A Range header as S3 reads it (RFC 9110): one range of bytes; a header it cannot read (not
 * bytes, several ranges, a last byte before the first) is ignored and the whole object served;
 * a range that starts past the end, or an empty suffix, is unsatisfiable (416).
 */
function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  if (match[2] !== '' && Number(match[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return [start, match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)];
}

function s3Error(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
): void {
  const fields = Object.entries(extra)
    .map(([key, value]) => `<${key}>${xmlEscape(value)}</${key}>`)
    .join('');
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${fields}<RequestId>${requestId}</RequestId><HostId>${randomBytes(24).toString('base64')}</HostId></Error>`;
  response.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': requestId, ...headers });
  response.end(body);
}

function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function parseAmzDate(value: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return match ? Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +match[6]) : Number.NaN;
}
