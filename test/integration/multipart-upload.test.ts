import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { HttpFileDownloader, S3RawObjectStore } from '../../lambdas/adapters/raw-files';
import { uploadStream } from '../../lambdas/adapters/multipart-upload';
import { copyToS3, CutDownloadError } from '../../lambdas/core/ingest/fetch';
import { connectLocalAws } from '../../local/local-aws';
import { localAws } from './support/local-aws';

const aws = localAws();
const { s3 } = aws.clients;
const Bucket = aws.resources.rawDataBucket;
afterAll(() => aws.clients.destroy());

const MiB = 1024 * 1024;
/** S3's smallest part: the emulator refuses smaller ones, as S3 does. */
const PART = 5 * MiB;
let keys = 0;
const newKey = (name: string) => `raw/test/multipart/${process.pid}-${Date.now()}-${keys++}/${name}`;

/**
 * `size` deterministic bytes (xorshift32) in chunks of `chunkSize`, an odd size by default so
 * that part boundaries fall inside chunks; `failAfter` destroys it as a reset connection would.
 */
function generated(size: number, options: { chunkSize?: number; failAfter?: number } = {}) {
  const chunkSize = options.chunkSize ?? 65_537;
  const hash = createHash('sha256');
  let emitted = 0;
  let state = 0x2545f491;
  const stream = new Readable({
    read() {
      if (options.failAfter !== undefined && emitted >= options.failAfter) {
        this.destroy(new Error('connection reset by peer (simulated)'));
        return;
      }
      if (emitted >= size) {
        this.push(null);
        return;
      }
      const chunk = Buffer.allocUnsafe(Math.min(chunkSize, size - emitted));
      for (let offset = 0; offset < chunk.length; offset++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        chunk[offset] = state & 0xff;
      }
      hash.update(chunk);
      emitted += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

async function stored(Key: string): Promise<{ bytes: number; sha256: string; etag: string; contentType?: string }> {
  const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of object.Body as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex'), etag: object.ETag ?? '', contentType: object.ContentType };
}

const openUploads = async (Key: string) => (await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: Key }))).Uploads ?? [];

/** A client that records each request as signed (headers) and can fail chosen calls. */
function recordingClient(fail?: (command: string, input: Record<string, unknown>) => Error | undefined) {
  const client = connectLocalAws(aws).s3;
  const sent: { command: string; partNumber?: number; headers: Record<string, string> }[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const error = fail?.(context.commandName ?? '', input);
      if (error) throw error;
      return next(args);
    },
    { step: 'initialize', name: 'failChosenCalls' },
  );
  // The deserialize step runs after signing: the request as it goes out.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const { query, headers } = args.request as { query?: Record<string, string>; headers: Record<string, string> };
      sent.push({ command: context.commandName ?? '', partNumber: query?.partNumber ? Number(query.partNumber) : undefined, headers: { ...headers } });
      return next(args);
    },
    { step: 'deserialize', name: 'recordSigned' },
  );
  return { client, sent };
}

describe('uploadStream (multipart, parts filled in place)', () => {
  // Around the part boundary, and several parts with a short last one: every byte, in order.
  it.each([
    ['empty', 0, 1],
    ['one byte', 1, 1],
    ['a part less one byte', PART - 1, 1],
    ['exactly one part', PART, 1],
    ['a part and one byte', PART + 1, 2],
    ['exactly two parts', 2 * PART, 2],
    ['three parts and a short fourth', 3 * PART + 12_345, 4],
  ])('stores %s (%i bytes) exactly, in %i part(s)', async (_name, size, parts) => {
    const Key = newKey('data.json');
    const source = generated(size);
    await uploadStream(s3, { Bucket, Key, ContentType: 'application/json' }, source.stream, { partSize: PART, buffers: 3 });

    const object = await stored(Key);
    expect({ bytes: object.bytes, sha256: object.sha256, contentType: object.contentType }).toEqual({ bytes: size, sha256: source.sha256(), contentType: 'application/json' });
    // One part is a PutObject (a plain MD5 ETag); more is a multipart upload ("<md5>-<parts>").
    expect(object.etag).toMatch(parts === 1 ? /^"[0-9a-f]{32}"$/ : new RegExp(`-${parts}"$`));
    expect(await openUploads(Key)).toEqual([]);
  });

  it('cuts chunks larger than a part into whole parts with only two buffers, pausing the stream while both are in flight', async () => {
    const Key = newKey('big-chunks.json');
    const source = generated(4 * PART + 7, { chunkSize: 2 * PART + 3 });
    await uploadStream(s3, { Bucket, Key, ContentType: 'application/json' }, source.stream, { partSize: PART, buffers: 2 });
    expect(await stored(Key)).toMatchObject({ bytes: 4 * PART + 7, sha256: source.sha256() });
  });

  it('sends each part with its CRC32 and, to the loopback emulator, an unsigned payload (no second SHA-256 pass)', async () => {
    const Key = newKey('signed.json');
    const { client, sent } = recordingClient();
    await uploadStream(client, { Bucket, Key, ContentType: 'application/json' }, generated(2 * PART + 1).stream, { partSize: PART, buffers: 3 });
    client.destroy();

    const parts = sent.filter((request) => request.command === 'UploadPartCommand');
    expect(parts.map((request) => request.partNumber).sort()).toEqual([1, 2, 3]);
    for (const { headers } of parts) {
      expect(headers['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]{6}==$/);
      expect(headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
      // Still signed: the header and the checksum are part of the signature.
      expect(headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-checksum-crc32;[^,]*x-amz-content-sha256/);
    }
    expect(sent.find((request) => request.command === 'CreateMultipartUploadCommand')?.headers['x-amz-checksum-algorithm']).toBe('CRC32');
  });

  it('aborts the upload and rethrows the stream’s error when the stream fails mid-upload', async () => {
    const Key = newKey('cut.json');
    const { client, sent } = recordingClient();
    // Three buffers hold 3 parts: failing after 5 means parts were stored before it failed.
    const source = generated(8 * PART, { failAfter: 5 * PART + 100 });
    await expect(uploadStream(client, { Bucket, Key, ContentType: 'application/json' }, source.stream, { partSize: PART, buffers: 3 })).rejects.toThrow('connection reset by peer');
    client.destroy();

    const commands = sent.map((request) => request.command);
    expect(commands).toContain('UploadPartCommand');
    expect(commands).toContain('AbortMultipartUploadCommand');
    expect(commands).not.toContain('CompleteMultipartUploadCommand');
    expect(await openUploads(Key)).toEqual([]);
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('aborts the upload, stops reading and rethrows S3’s error when a part is refused', async () => {
    const Key = newKey('refused.json');
    const refusal = Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalError' });
    const { client, sent } = recordingClient((command, input) => (command === 'UploadPartCommand' && input.PartNumber === 2 ? refusal : undefined));
    const source = generated(20 * PART);
    await expect(uploadStream(client, { Bucket, Key, ContentType: 'application/json' }, source.stream, { partSize: PART, buffers: 3 })).rejects.toBe(refusal);
    client.destroy();

    expect(source.stream.destroyed).toBe(true);
    expect(sent.map((request) => request.command)).toContain('AbortMultipartUploadCommand');
    expect(await openUploads(Key)).toEqual([]);
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key }))).rejects.toMatchObject({ name: 'NotFound' });
  });
});

describe('copyToS3 through S3RawObjectStore', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    // Promises 6 parts' worth of bytes and closes the connection after four and a half: parts
    // were stored (three buffers hold three) when the cut comes.
    server = createServer((_request, response) => {
      response.writeHead(200, { 'content-length': String(6 * PART) });
      response.write(Buffer.alloc(4 * PART + PART / 2, 0x61), () => response.socket?.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fails a download cut mid-part as a CutDownloadError that names neither the URL nor its signature, and leaves no upload open', async () => {
    const Key = newKey('cut-download.json');
    const url = `${base}/ring/files/0.json?X-Amz-Credential=AKIDEXAMPLE&X-Amz-Signature=${'5ec7e7'.repeat(8)}`;
    const objects = new S3RawObjectStore(s3, Bucket, { partSize: PART, buffers: 3 });
    const failure = await copyToS3({ downloader: new HttpFileDownloader(5_000), objects }, url, Key, 'application/json').then(
      () => undefined,
      (error: unknown) => error as Error,
    );

    expect(failure).toBeInstanceOf(CutDownloadError);
    expect(`${failure?.message} ${String(failure?.stack)} ${String((failure as { cause?: unknown })?.cause)}`).not.toMatch(/5ec7e7|AKIDEXAMPLE|\/ring\/files|X-Amz-/);
    expect(await openUploads(Key)).toEqual([]);
  });

  it('closes the download when S3 refuses the upload, not when the downloader times out', async () => {
    // Sends two parts and a byte (enough for the upload to start, and be refused) and keeps the
    // connection open: only the client can end it.
    let closed: () => void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    const open = createServer((request, response) => {
      request.socket.on('close', () => closed());
      response.writeHead(200, { 'content-length': String(6 * PART) });
      response.write(Buffer.alloc(2 * PART + 1, 0x62));
    });
    await new Promise<void>((resolve) => open.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(open.address() as { port: number }).port}/ring/files/1.json`;
      const objects = new S3RawObjectStore(s3, 'no-such-bucket-for-this-test', { partSize: PART, buffers: 3 });
      // The downloader's idle timeout (10 min) is longer than the test's own: only the fix closes it in time.
      await expect(copyToS3({ downloader: new HttpFileDownloader(600_000), objects }, url, newKey('refused.json'), 'application/json')).rejects.toMatchObject({ name: 'NoSuchBucket' });
      await connectionClosed;
    } finally {
      open.closeAllConnections();
      await new Promise<void>((resolve) => open.close(() => resolve()));
    }
  });
});
