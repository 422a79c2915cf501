import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchUpload,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { connectLocalAws } from '../../local/local-aws';
import { localAws } from './support/local-aws';

const aws = localAws();
const { s3 } = aws.clients;
const Bucket = aws.resources.rawDataBucket;
afterAll(() => aws.clients.destroy());

const MiB = 1024 * 1024;

/**
 * A deterministic, non-repeating byte stream produced chunk by chunk (never whole in memory),
 * hashing what it emits, as a download from Ring would arrive.
 */
function generatedStream(totalBytes: number, options: { failAfter?: number } = {}) {
  const hash = createHash('sha256');
  let emitted = 0;
  let state = 0x9e3779b9;
  const stream = new Readable({
    read() {
      if (options.failAfter !== undefined && emitted >= options.failAfter) {
        this.destroy(new Error('connection reset by peer (simulated)'));
        return;
      }
      if (emitted >= totalBytes) {
        this.push(null);
        return;
      }
      const size = Math.min(MiB, totalBytes - emitted);
      const chunk = Buffer.alloc(size);
      for (let offset = 0; offset + 4 <= size; offset += 4) {
        // xorshift32: cheap, deterministic, never repeats within a file.
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        chunk.writeUInt32LE(state >>> 0, offset);
      }
      hash.update(chunk);
      emitted += size;
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex'), emitted: () => emitted };
}

async function sha256Of(body: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

describe('local S3 (fauxqs)', () => {
  it('stores a streamed 50 MiB multipart upload byte for byte', async () => {
    const size = 50 * MiB;
    const Key = `raw/test/${Date.now()}/large.json`;
    const source = generatedStream(size);

    const upload = new Upload({
      client: s3,
      params: { Bucket, Key, Body: source.stream, ContentType: 'application/json' },
      partSize: 8 * MiB,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const result = await upload.done();

    // 50 MiB in 8 MiB parts: seven parts, which S3 reports in the ETag.
    expect(result.ETag).toMatch(/-7"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
    expect(head.ContentLength).toBe(size);
    const stored = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(await sha256Of(stored.Body as Readable)).toEqual({ sha256: source.sha256(), bytes: size });
  });

  it('serves a byte range, as a resumed load reads from its checkpoint', async () => {
    const Key = `raw/test/${Date.now()}/range.json`;
    await new Upload({ client: s3, params: { Bucket, Key, Body: Buffer.from('[{"a":1},{"b":2}]') } }).done();

    const part = await s3.send(new GetObjectCommand({ Bucket, Key, Range: 'bytes=8-' }));
    expect(await part.Body?.transformToString()).toBe(',{"b":2}]');
  });

  it('fails a cut upload and aborts it, leaving no object and no open upload', async () => {
    const Key = `raw/test/${Date.now()}/cut.json`;
    const source = generatedStream(40 * MiB, { failAfter: 20 * MiB });
    const client = connectLocalAws(aws).s3;
    const sent: string[] = [];
    let uploadId: string | undefined;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(context.commandName ?? '');
        const result = await next(args);
        if (context.commandName === 'CreateMultipartUploadCommand') {
          uploadId = (result.output as { UploadId?: string }).UploadId;
        }
        return result;
      },
      { step: 'initialize' },
    );
    const upload = new Upload({
      client,
      params: { Bucket, Key, Body: source.stream },
      partSize: 8 * MiB,
      queueSize: 1,
      leavePartsOnError: false,
    });
    await expect(upload.done()).rejects.toThrow('connection reset by peer');

    expect(sent).toContain('AbortMultipartUploadCommand');
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key }))).rejects.toMatchObject({ name: 'NotFound' });
    expect(uploadId).toBeDefined();
    await expect(
      s3.send(new UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber: 9, Body: Buffer.alloc(1) })),
    ).rejects.toBeInstanceOf(NoSuchUpload);
    client.destroy();
  });

  it('rejects parts for an upload that was aborted', async () => {
    const Key = `raw/test/${Date.now()}/aborted.json`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(16) }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));

    await expect(
      s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: Buffer.alloc(16) })),
    ).rejects.toBeInstanceOf(NoSuchUpload);
  });
});
