import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { unsignedPayload } from '../../../lambdas/adapters/multipart-upload';

interface SentRequest {
  readonly headers: Record<string, string>;
}

/** An S3 client whose requests, signed, end here instead of on a network. */
function capturingClient(endpoint: string) {
  const sent: SentRequest[] = [];
  const client = new S3Client({
    region: 'eu-west-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret' },
    requestHandler: {
      handle: (request: SentRequest) => {
        sent.push(request);
        return Promise.resolve({ response: { statusCode: 200, headers: { etag: '"0123456789abcdef0123456789abcdef"' }, body: Readable.from([]) } });
      },
    },
  });
  return { client, sent };
}

const body = Buffer.from('{"a":1}');
const bodySha256 = createHash('sha256').update(body).digest('hex');

describe('unsignedPayload', () => {
  it.each([
    ['HTTPS (S3 on AWS)', 'https://s3.eu-west-1.amazonaws.com'],
    ['a loopback IPv4 endpoint (the local emulators)', 'http://127.0.0.1:4566'],
    ['localhost', 'http://localhost:9000'],
  ])('sends the payload unsigned over %s, with its CRC32 signed', async (_name, endpoint) => {
    const { client, sent } = capturingClient(endpoint);
    await client.send(unsignedPayload(new UploadPartCommand({ Bucket: 'raw', Key: 'k', UploadId: 'u', PartNumber: 1, Body: body, ChecksumAlgorithm: 'CRC32' })));
    expect(sent[0].headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(sent[0].headers['x-amz-checksum-crc32']).toBeDefined();
    expect(sent[0].headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-checksum-crc32;[^,]*x-amz-content-sha256/);
  });

  it('keeps the signed SHA-256 of the payload over plain HTTP to another host, where nothing else protects the bytes', async () => {
    const { client, sent } = capturingClient('http://s3.storage.internal:9000');
    await client.send(unsignedPayload(new PutObjectCommand({ Bucket: 'raw', Key: 'k', Body: body })));
    expect(sent[0].headers['x-amz-content-sha256']).toBe(bodySha256);
  });

  it('leaves commands without it as the SDK sends them (the payload hashed)', async () => {
    const { client, sent } = capturingClient('https://s3.eu-west-1.amazonaws.com');
    await client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'k', Body: body }));
    expect(sent[0].headers['x-amz-content-sha256']).toBe(bodySha256);
  });
});
