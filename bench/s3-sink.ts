/**
 * A discarding S3 for the benchmark: a loopback HTTP server that answers the calls an upload
 * makes (CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload,
 * PutObject) as S3 does, path-style, and throws the bytes away after counting them. Fetch driven
 * into it by the real S3 client shows the product's own cost (download, sha256, multipart
 * framing) apart from the emulator's speed.
 *
 * ETags have S3's form (a quoted MD5 hex; `<md5>-<parts>` for a completed upload) but are not
 * the MD5 of the body: the client does not check them, and hashing every byte here would take
 * more CPU from the 2 cores than the sha256 of the fetch being measured.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface S3Sink {
  readonly endpoint: string;
  /** Body bytes received by UploadPart and PutObject since the sink started. */
  received(): number;
  close(): Promise<void>;
}

export async function startS3Sink(): Promise<S3Sink> {
  const uploads = new Map<string, string[]>();
  let received = 0;
  const server = createServer((request, response) => {
    void answer(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/xml' }).end(s3Error('InternalError', (error as Error).message));
    });
  });

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://sink');
    const uploadId = url.searchParams.get('uploadId');
    const [bucket, ...key] = url.pathname.slice(1).split('/');
    const bytes = await discard(request);
    received += request.method === 'PUT' ? bytes : 0;
    const etag = md5Hex(`${url.pathname} ${uploadId ?? ''} ${url.searchParams.get('partNumber') ?? ''} ${bytes}`);
    if (request.method === 'POST' && url.searchParams.has('uploads')) {
      const id = randomUUID();
      uploads.set(id, []);
      xml(response, `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key.join('/')}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
    } else if (request.method === 'PUT' && uploadId) {
      const parts = uploads.get(uploadId);
      if (!parts) return noSuchUpload(response);
      parts[Number(url.searchParams.get('partNumber')) - 1] = etag;
      response.writeHead(200, { etag: `"${etag}"` }).end();
    } else if (request.method === 'POST' && uploadId) {
      const parts = uploads.get(uploadId);
      if (!parts) return noSuchUpload(response);
      uploads.delete(uploadId);
      // S3's multipart ETag: the MD5 of the parts' MD5s, then a dash and the part count.
      const etag = `${createHash('md5').update(Buffer.from(parts.join(''), 'hex')).digest('hex')}-${parts.length}`;
      xml(response, `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key.join('/')}</Key><ETag>"${etag}"</ETag></CompleteMultipartUploadResult>`);
    } else if (request.method === 'DELETE' && uploadId) {
      uploads.delete(uploadId);
      response.writeHead(204).end();
    } else if (request.method === 'PUT') {
      response.writeHead(200, { etag: `"${etag}"` }).end();
    } else {
      response.writeHead(501, { 'content-type': 'application/xml' }).end(s3Error('NotImplemented', `${request.method ?? ''} ${url.pathname}`));
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    received: () => received,
    close: () => closeServer(server),
  };
}

async function discard(request: IncomingMessage): Promise<number> {
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) bytes += chunk.length;
  return bytes;
}

function md5Hex(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

function xml(response: ServerResponse, body: string): void {
  response.writeHead(200, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function noSuchUpload(response: ServerResponse): void {
  response.writeHead(404, { 'content-type': 'application/xml' }).end(s3Error('NoSuchUpload', 'The specified upload does not exist.'));
}

function s3Error(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
