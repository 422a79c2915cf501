import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3Sink, type S3Sink } from '../../../bench/s3-sink';
import { S3RawObjectStore } from '../../../lambdas/adapters/raw-files';

const MiB = 1024 * 1024;

describe("the bench's discarding S3", () => {
  let sink: S3Sink;
  let s3: S3Client;

  beforeAll(async () => {
    sink = await startS3Sink();
    s3 = new S3Client({ region: 'eu-west-1', endpoint: sink.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  });

  afterAll(async () => {
    s3.destroy();
    await sink.close();
  });

  it("takes fetch's multipart upload through the real S3 client and counts every byte it discards", async () => {
    const before = sink.received();
    // 20 MiB in 1 MiB chunks: three parts of fetch's 8 MiB part size.
    const body = Readable.from(Array.from({ length: 20 }, (_, index) => Buffer.alloc(MiB, index)));
    await new S3RawObjectStore(s3, 'raw').upload('raw/customer/query/Dataset/0.json', body, 'application/json');
    expect(sink.received() - before).toBe(20 * MiB);
  });

  it('answers PutObject with an ETag of the form S3 gives', async () => {
    const answer = await s3.send(new PutObjectCommand({ Bucket: 'raw', Key: 'raw/schema.json', Body: '{}' }));
    expect(answer.ETag).toMatch(/^"[0-9a-f]{32}"$/);
  });
});
