import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';

export interface StreamUploadTarget {
  readonly Bucket: string;
  readonly Key: string;
  readonly ContentType: string;
}

export interface StreamUploadOptions {
  /** Bytes per part (S3: at least 5 MiB but the last). */
  readonly partSize: number;
  /** Part buffers: parts in flight plus the one being filled. Memory is `buffers × partSize`. */
  readonly buffers: number;
}

/** S3's limit on the parts of one upload. */
export const MAX_PARTS = 10_000;

/**
 * Streams `body` into S3: one PutObject when it fits in one part, else a multipart upload whose
 * parts are filled in place, each byte copied once from the stream's chunk into a part buffer
 * that is reused when its part is stored. @aws-sdk/lib-storage (used before) copied every byte
 * twice on the way (its `for await` read() joins the chunks buffered in the stream, then
 * Buffer.concat joins them into a part) and allocated a fresh 8 MiB part each time, which the
 * garbage collector then had to chase: this alone saved 1.2 ms of CPU per MiB of fetch's 7.7
 * (bench worker into the discarding S3, issue 16), the unsigned payload 0.5 more.
 *
 * Every part carries a CRC32 (x-amz-checksum-crc32, computed by the SDK and checked by S3, which
 * keeps it with the object), and its payload is sent unsigned where nothing can alter it on the
 * way (see {@link unsignedPayload}). A failure (the stream's or S3's) waits for the parts in
 * flight, aborts the upload (no orphan parts), destroys the stream and rethrows the first error
 * as it was thrown, so fetch still tells a cut download from an S3 error.
 */
export async function uploadStream(s3: S3Client, target: StreamUploadTarget, body: Readable, options: StreamUploadOptions): Promise<void> {
  // Two at least: the first part is held until the second shows whether it is the only one.
  if (options.buffers < 2) throw new Error(`uploadStream needs at least 2 part buffers, got ${options.buffers}`);
  const parts = new PartReader(body, options.partSize, options.buffers);
  const { Bucket, Key } = target;
  let uploadId: string | undefined;
  const inFlight = new Set<Promise<void>>();
  try {
    const first = await parts.next();
    const second = first?.length === options.partSize ? await parts.next() : undefined;
    if (!first || !second) {
      await s3.send(unsignedPayload(new PutObjectCommand({ ...target, Body: first ? view(first) : Buffer.alloc(0), ChecksumAlgorithm: 'CRC32' })));
      return;
    }
    uploadId = (await s3.send(new CreateMultipartUploadCommand({ ...target, ChecksumAlgorithm: 'CRC32' }))).UploadId;
    if (!uploadId) throw new Error(`S3 started no multipart upload for ${Key}`);
    const UploadId = uploadId;
    const stored: CompletedPart[] = [];
    const send = (part: Part, PartNumber: number) => {
      if (PartNumber > MAX_PARTS) throw new Error(`${Key} needs more than S3's ${MAX_PARTS} parts of ${options.partSize} bytes`);
      const upload = s3
        .send(unsignedPayload(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: view(part), ChecksumAlgorithm: 'CRC32' })))
        .then(
          ({ ETag, ChecksumCRC32 }) => {
            stored.push({ PartNumber, ETag, ChecksumCRC32 });
            // Stored: S3 has read the whole body, so the buffer can take the next part.
            parts.release(part.buffer);
          },
          (error: unknown) => parts.fail(error),
        )
        .finally(() => inFlight.delete(upload));
      inFlight.add(upload);
    };
    send(first, 1);
    let partNumber = 2;
    for (let part: Part | undefined = second; part; part = await parts.next()) send(part, partNumber++);
    await Promise.all(inFlight);
    parts.throwIfFailed();
    stored.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: stored } }));
  } catch (error) {
    const failure = parts.firstFailure(error);
    body.destroy();
    await Promise.all(inFlight);
    if (uploadId) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId })).catch((abortError: unknown) => {
        if (failure instanceof Error && failure.cause === undefined) failure.cause = abortError;
      });
    }
    throw failure;
  }
}

interface Part {
  readonly buffer: Buffer;
  readonly length: number;
}

const view = (part: Part): Buffer => part.buffer.subarray(0, part.length);

/**
 * Cuts a stream into parts of `partSize` bytes in at most `buffers` reused buffers, taking its
 * chunks as 'data' events (no joining) and pausing it while every buffer is full or in flight.
 */
class PartReader {
  private readonly free: Buffer[] = [];
  private allocated = 0;
  private current: Buffer | undefined;
  private filled = 0;
  private readonly ready: Part[] = [];
  /** The rest of a chunk that arrived while no buffer was free. */
  private held: Buffer | undefined;
  private ended = false;
  private failure: { readonly error: unknown } | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly body: Readable,
    private readonly partSize: number,
    private readonly buffers: number,
  ) {
    body.on('data', (chunk: Buffer) => this.take(chunk));
    body.once('end', () => {
      this.ended = true;
      this.notify();
    });
    body.once('error', (error) => this.fail(error));
  }

  /** The next part in order, the last one possibly short; undefined after the last. */
  async next(): Promise<Part | undefined> {
    for (;;) {
      this.throwIfFailed();
      const part = this.ready.shift();
      if (part) return part;
      if (this.ended && !this.held) {
        if (!this.current) return undefined;
        const last = { buffer: this.current, length: this.filled };
        this.current = undefined;
        return last;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** A part's buffer is free again: fill it with what waited for it. */
  release(buffer: Buffer): void {
    this.free.push(buffer);
    const held = this.held;
    if (held) {
      this.held = undefined;
      this.take(held);
      if (!this.held) this.body.resume();
    }
    this.notify();
  }

  fail(error: unknown): void {
    this.failure ??= { error };
    this.notify();
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** The error that started the failure (an S3 error, not the destroyed stream's that followed). */
  firstFailure(error: unknown): unknown {
    return this.failure?.error ?? error;
  }

  private take(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.current) {
        const buffer = this.free.pop() ?? (this.allocated < this.buffers ? this.allocate() : undefined);
        if (!buffer) {
          this.held = chunk.subarray(offset);
          this.body.pause();
          return;
        }
        this.current = buffer;
        this.filled = 0;
      }
      const copied = chunk.copy(this.current, this.filled, offset, Math.min(chunk.length, offset + this.partSize - this.filled));
      this.filled += copied;
      offset += copied;
      if (this.filled === this.partSize) {
        this.ready.push({ buffer: this.current, length: this.filled });
        this.current = undefined;
        this.notify();
      }
    }
  }

  private allocate(): Buffer {
    this.allocated++;
    // Not zeroed, not from the pool: every byte sent is written first, and the part is large.
    return Buffer.allocUnsafeSlow(this.partSize);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Loopback hosts: a request to one never crosses a network. */
const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|localhost|\[?::1\]?)$/;

/**
 * Sends a body with x-amz-content-sha256: UNSIGNED-PAYLOAD instead of its SHA-256, over HTTPS or
 * to a loopback endpoint (the local emulators). SigV4 makes the payload hash optional for S3;
 * the SDK's signer keeps a value it finds in that header, and otherwise hashes every byte of a
 * Buffer body once more (a second SHA-256 pass after fetch's own, ~1 ms CPU per MiB). TLS
 * already protects the bytes on the way, and the part's CRC32 header, which is signed, lets S3
 * refuse a body that is not what was sent (BadDigest). The AWS SDKs for Java v2 and Go v2 make
 * the same choice for S3 over HTTPS by default; like them, a plain-HTTP endpoint elsewhere keeps
 * the signed payload.
 */
export function unsignedPayload<C extends PutObjectCommand | UploadPartCommand>(command: C): C {
  (command.middlewareStack as unknown as BuildStep).add(
    (next) => (args) => {
      const request = args.request as { protocol?: string; hostname?: string; headers?: Record<string, string> };
      if (request.headers && (request.protocol === 'https:' || LOOPBACK.test(request.hostname ?? ''))) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'unsignedPayload' },
  );
  return command;
}

/** The one shape of the two commands' middleware stacks used here (their union has no common `add`). */
interface BuildStep {
  add(middleware: (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => Promise<unknown>, options: { step: 'build'; name: string }): void;
}
