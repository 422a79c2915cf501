/**
 * Fetch against hosts that fail before answering, and a page token Ring refuses on re-listing,
 * with a scripted Ring and the real downloader against loopback sockets. An outside review
 * wrote most of these.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { HttpFileDownloader, noResponse, timeoutError } from '../../../../lambdas/adapters/raw-files';
import { CutDownloadError, fetchFile, RETRY_RESERVE_MS, type FetchDeps, type FileDownloader } from '../../../../lambdas/core/ingest/fetch';
import type { FetchMessage } from '../../../../lambdas/core/ingest/collect';
import { RingApiError } from '../../../../lambdas/core/ring/errors';
import type { IntakeClient, RecordsPage } from '../../../../lambdas/core/ring/intake-client';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const SIGNATURE = 'f00dfacef00dfacef00dfacef00dfacef00dfacef00dfacef00dfacef00dface';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}
const close = (server: Server) => new Promise((resolve) => server.close(resolve));

function deps(downloader: FileDownloader, intake: Partial<IntakeClient> = {}) {
  const logged: string[] = [];
  const log = (level: string) => (text: string, fields?: Record<string, unknown>) => void logged.push(`${level} ${text} ${JSON.stringify(fields ?? {})}`);
  const fetchDeps: FetchDeps = {
    store: { fetched: () => Promise.resolve(undefined), markFetched: () => Promise.resolve() },
    failQuery: () => Promise.resolve(),
    imports: { send: () => Promise.resolve() },
    connections: { get: () => Promise.resolve({ customerId: 'c-1', brand: 'ring', region: 'eu-west-1', secretId: 's', status: 'ACTIVE' }) } as unknown as FetchDeps['connections'],
    intake: intake as IntakeClient,
    downloader,
    objects: { upload: async (_key, body) => void (await body.toArray()) },
    loads: { send: () => Promise.resolve() },
    clock: { now: () => NOW, sleep: () => Promise.resolve() },
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
  };
  return { fetchDeps, logged };
}

const message = (base: string, fields: Partial<FetchMessage> = {}): FetchMessage => ({
  queryId: 'q-1',
  customerId: 'c-1',
  n: 0,
  dataset: 'Ring.Alarm.HubData',
  pageIndex: 0,
  listedAt: new Date(NOW).toISOString(),
  fileUrl: `${base}/ring/files/q-1/Ring.Alarm.HubData/0.json?X-Amz-Security-Token=TOKENSECRET&X-Amz-Signature=${SIGNATURE}`,
  schemaUrl: `${base}/ring/files/q-1/Ring.Alarm.HubData/0.schema.json?X-Amz-Security-Token=TOKENSECRET&X-Amz-Signature=${SIGNATURE}`,
  ...fields,
});

describe('fetch: hosts that fail before answering', () => {
  it('a host that refuses the connection fails the message (towards the dead-letter queue and its alarm), not a retry for ever; nothing of the URL in the error', async () => {
    const server = createServer();
    const port = await listen(server);
    await close(server);
    const { fetchDeps, logged } = deps(new HttpFileDownloader(500));
    const failure = await fetchFile(fetchDeps, message(`http://127.0.0.1:${port}`)).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure).toMatchObject({ code: 'ECONNREFUSED' });
    for (const text of [failure!.message, ...logged]) expect(text).not.toMatch(/X-Amz|TOKENSECRET|f00dface|\?/);
  });

  it('what is tried again: a connection lost (reset, hang-up, silent after connecting); what fails the message: a connect that never completes, a DNS failure, a certificate', () => {
    const lost = ['ECONNRESET', 'EPIPE', 'ECONNABORTED'].map((code) => noResponse(Object.assign(new Error(code), { code })));
    expect(lost.every((error) => error instanceof CutDownloadError)).toBe(true);
    expect(noResponse(timeoutError(false))).toBeInstanceOf(CutDownloadError);
    const failing = [timeoutError(true), ...['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'EPROTO'].map((code) => Object.assign(new Error(code), { code }))];
    for (const error of failing) expect(noResponse(error)).toBe(error);
  });

  it('a connection reset before the headers is tried again in the invocation', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      if (sockets.length === 1) socket.destroy();
      else socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}');
    });
    const port = await listen(server);
    try {
      const { fetchDeps } = deps(new HttpFileDownloader(2_000));
      expect(await fetchFile(fetchDeps, message(`http://127.0.0.1:${port}`))).toMatchObject({ outcome: 'fetched', file: { bytes: 2 } });
      // The schema reset, then the schema and the data file.
      expect(sockets).toHaveLength(3);
    } finally {
      for (const socket of sockets) socket.destroy();
      await close(server);
    }
  });

  it('a host that accepts and never answers: another attempt only if it fits the invocation, else the message comes back later', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => void sockets.push(socket));
    const port = await listen(server);
    try {
      const { fetchDeps } = deps(new HttpFileDownloader(200));
      const outcome = await fetchFile(fetchDeps, message(`http://127.0.0.1:${port}`), { remainingMs: () => RETRY_RESERVE_MS - 1 });
      expect(outcome).toEqual({ outcome: 'retry-later', retryAfterSeconds: 30 });
      expect(sockets).toHaveLength(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await close(server);
    }
  });
});

describe('fetch: re-listing a file whose page token Ring refuses', () => {
  it('lists again from the first page to the file (INVALID_NEXT_PAGE), as the reference says', async () => {
    const tokens: (string | undefined)[] = [];
    const pages: Record<string, RecordsPage> = {
      first: { records: Array.from({ length: 250 }, (_, i) => ({ file: `http://127.0.0.1:9/fresh/${i}.json`, schema: `http://127.0.0.1:9/fresh/${i}.schema.json` })), nextPageToken: 'T1.new' },
      'T1.new': { records: Array.from({ length: 10 }, (_, i) => ({ file: `http://127.0.0.1:9/fresh/${250 + i}.json`, schema: `http://127.0.0.1:9/fresh/${250 + i}.schema.json` })), pageToken: 'T1.new' },
    };
    const intake = {
      listPage: (_connection: unknown, _queryId: string, page: { pageToken?: string }) => {
        tokens.push(page.pageToken);
        if (page.pageToken === 'T1.old') return Promise.reject(new RingApiError(400, 'BAD_REQUEST', 'INVALID_NEXT_PAGE', 'Invalid next page token', 'relist'));
        return Promise.resolve(pages[page.pageToken ?? 'first']);
      },
    };
    const opened: string[] = [];
    const downloader: FileDownloader = { open: (url) => Promise.reject(new RingApiError(403, 'S3', 'AccessDenied', `opened ${(opened.push(url), 'stop')}`, 'fail')) };
    const { fetchDeps } = deps(downloader, intake);
    const stale = message('http://127.0.0.1:9', { n: 253, pageToken: 'T1.old', pageIndex: 3, listedAt: new Date(NOW - 5 * 60_000).toISOString() });
    await expect(fetchFile(fetchDeps, stale)).rejects.toThrow('opened stop');
    expect(tokens).toEqual(['T1.old', undefined, 'T1.new']);
    expect(opened).toEqual(['http://127.0.0.1:9/fresh/253.schema.json']);
  });
});
