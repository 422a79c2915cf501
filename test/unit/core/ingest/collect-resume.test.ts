/**
 * Collect's place in a long listing, against a scripted Ring and the in-memory control table:
 * what a continuation, a retry or a refused page token does with it (the integration tests in
 * test/integration/collect.test.ts run the same paths against the sandbox and dynalite). An
 * outside review wrote most of these.
 */
import { collectQuery, type CollectDeps, type CollectFrom } from '../../../../lambdas/core/ingest/collect';
import { RetryLaterError, RingApiError } from '../../../../lambdas/core/ring/errors';
import type { IntakeClient, RecordsPage } from '../../../../lambdas/core/ring/intake-client';
import { MemoryCollectStore } from '../../../../local/memory/query-stores';
import { MemoryTable, PK, SK } from '../../../../local/memory/table';

const QUERY = 'q-1';
const message = { queryId: QUERY, customerId: 'c-1', brand: 'ring', region: 'eu-west-1', completedAt: '2026-01-01T00:00:00Z' };
const listed = (i: number) => ({ file: `https://ring.example/f/${QUERY}/Ring.Alarm.HubData/${i}.json?X-Amz-Signature=s${i}`, schema: `https://ring.example/f/${i}.schema.json` });
const invalidNextPage = () => new RingApiError(400, 'BAD_REQUEST', 'INVALID_NEXT_PAGE', 'Invalid next page token', 'relist');

/**
 * A Ring whose pages are `sizes` long (files numbered on across pages); its tokens name the
 * page and a session, so a test can make the tokens of earlier sessions refused.
 */
function ring(sizes: number[], refuse: (token: string | undefined, call: number) => Error | undefined = () => undefined) {
  let call = 0;
  let session = 0;
  const intake = {
    listPage: (_connection: unknown, _queryId: string, page: { pageToken?: string }): Promise<RecordsPage> => {
      const error = refuse(page.pageToken, ++call);
      if (error) return Promise.reject(error);
      const index = page.pageToken === undefined ? 0 : Number(/^T(\d+)/.exec(page.pageToken)![1]);
      const first = sizes.slice(0, index).reduce((a, b) => a + b, 0);
      const records = Array.from({ length: sizes[index] }, (_, i) => listed(first + i));
      return Promise.resolve({ records, pageToken: page.pageToken, nextPageToken: index + 1 < sizes.length ? `T${index + 1}.s${session}` : undefined });
    },
  };
  return { intake: intake as unknown as IntakeClient, calls: () => call, newSession: () => void session++, session: () => session };
}

function world(intake: IntakeClient) {
  const table = new MemoryTable();
  table.put({ [PK]: `QUERY#${QUERY}`, [SK]: 'QUERY', queryId: QUERY, status: 'COMPLETED' });
  const sent: number[] = [];
  const imports: unknown[] = [];
  const warnings: string[] = [];
  let failSend: (n: number) => boolean = () => false;
  const deps: CollectDeps = {
    store: new MemoryCollectStore(table),
    connections: { get: () => Promise.resolve({ customerId: 'c-1', brand: 'ring', region: 'eu-west-1', secretId: 's', status: 'ACTIVE' }) } as unknown as CollectDeps['connections'],
    intake,
    files: {
      send: (body) => {
        const { n } = body as { n: number };
        if (failSend(n)) return Promise.reject(new Error('SQS unavailable (injected)'));
        sent.push(n);
        return Promise.resolve();
      },
    },
    imports: { send: (body) => Promise.resolve(void imports.push(body)) },
    clock: { now: () => Date.parse('2026-01-01T00:00:00Z'), sleep: () => Promise.resolve() },
    logger: { debug: () => undefined, info: () => undefined, warn: (text: string) => void warnings.push(text), error: () => undefined },
  };
  const query = () => table.get(`QUERY#${QUERY}`, 'QUERY')!;
  return { deps, sent, imports, warnings, query, saved: () => query().collectFrom as CollectFrom | undefined, failSends: (when: (n: number) => boolean) => void (failSend = when) };
}

const upTo = (count: number) => Array.from({ length: count }, (_, i) => i);

describe('collect: where a long listing goes on', () => {
  it('an empty page with a next token: every file once, numbered on, counted right', async () => {
    const w = world(ring([2, 0, 0, 3]).intake);
    expect(await collectQuery(w.deps, message)).toEqual({ outcome: 'collected', files: 5 });
    expect(w.sent).toEqual(upTo(5));
    expect(w.query()).toMatchObject({ status: 'LOADING', files: 5 });
  });

  it('a rate limit before the first page saves no place and loses nothing', async () => {
    let limited = true;
    const w = world(ring([3, 3], () => (limited ? new RetryLaterError(5, 'listDataQueryRecords is over its rate limit') : undefined)).intake);
    expect(await collectQuery(w.deps, message)).toEqual({ outcome: 'retry-later', retryAfterSeconds: 5 });
    expect(w.saved()).toBeUndefined();
    limited = false;
    expect(await collectQuery(w.deps, message)).toEqual({ outcome: 'collected', files: 6 });
    expect(w.sent).toEqual(upTo(6));
  });

  it('a failed send saves the file it failed on; the retry sends it and the rest, each once', async () => {
    const w = world(ring([4, 4]).intake);
    w.failSends((n) => n === 5);
    await expect(collectQuery(w.deps, message)).rejects.toThrow('SQS unavailable');
    expect(w.saved()).toEqual({ n: 5, pageToken: 'T1.s0', pageIndex: 1 });
    w.failSends(() => false);
    expect(await collectQuery(w.deps, message)).toEqual({ outcome: 'collected', files: 8 });
    expect(w.sent).toEqual(upTo(8));
  });

  it('a token of the same invocation refused once: listing starts over from page 1, each file sent once; refused twice: the query fails, saying why', async () => {
    const once = world(ring([3, 3, 2], (token, call) => (token !== undefined && call === 2 ? invalidNextPage() : undefined)).intake);
    expect(await collectQuery(once.deps, message)).toEqual({ outcome: 'collected', files: 8 });
    expect(once.sent).toEqual(upTo(8));

    const twice = world(ring([3, 3], (token) => (token !== undefined ? invalidNextPage() : undefined)).intake);
    expect(await collectQuery(twice.deps, message)).toEqual({ outcome: 'skipped', reason: 'INVALID_NEXT_PAGE while listing' });
    expect(twice.query()).toMatchObject({ status: 'FAILED', statusReason: 'INVALID_NEXT_PAGE while listing' });
    expect(twice.imports).toEqual([expect.objectContaining({ reason: 'recheck', endedQueryId: QUERY })]);
  });

  it('every saved token refused in turn (tokens that do not outlive an invocation) and 100 ms a file: each continuation passes over the files before its place without a call, and the listing finishes', async () => {
    const r = ring([250, 250, 250, 250], (token) => (token !== undefined && !token.endsWith(`.s${r.session()}`) ? invalidNextPage() : undefined));
    const w = world(r.intake);
    const places: number[] = [];
    for (let invocation = 0; invocation < 30; invocation++) {
      r.newSession();
      let used = 0;
      const result = await collectQuery(w.deps, message, { remainingMs: () => 95_000 - (used += 100) });
      if (result.outcome !== 'continue') {
        expect(result).toEqual({ outcome: 'collected', files: 1000 });
        break;
      }
      places.push(result.from.n);
    }
    expect(places.length).toBeLessThan(3 * 4);
    expect(places).toEqual([...places].sort((a, b) => a - b));
    expect(w.sent).toEqual(upTo(1000));
    expect(w.query()).toMatchObject({ status: 'LOADING', files: 1000 });
  });

  it('a pass-over that runs short of time (30 s a listing call) goes on later from the page it reached, and never lists with less than the reserve left', async () => {
    let remaining = 95_000;
    const listedAt: number[] = [];
    const r = ring([250, 250, 250, 250], (token) => {
      listedAt.push(remaining);
      remaining -= 30_000;
      return token?.endsWith('.s0') && r.session() > 0 ? invalidNextPage() : undefined;
    });
    const w = world(r.intake);
    expect(await collectQuery(w.deps, message, { remainingMs: () => (w.sent.length < 751 ? Number.POSITIVE_INFINITY : 1_000) })).toMatchObject({ outcome: 'continue', from: { n: 751 } });
    r.newSession();
    listedAt.length = 0;
    remaining = 95_000;
    // The saved token refused: page 1 and page 2 passed over, then out of time with a fresh token and the mark.
    expect(await collectQuery(w.deps, message, { remainingMs: () => remaining })).toEqual({ outcome: 'continue', from: { n: 500, pageToken: 'T2.s1', sent: 751 } });
    expect(listedAt).toEqual([95_000, 65_000, 35_000]);
    remaining = 95_000;
    listedAt.length = 0;
    // The fresh token taken, pages 3 and 4: files from 751 on.
    expect(await collectQuery(w.deps, message, { remainingMs: () => remaining })).toEqual({ outcome: 'collected', files: 1000 });
    expect(listedAt).toEqual([95_000, 65_000]);
    expect(w.sent).toEqual(upTo(1000));
  });

  it('a refused token and a listing that now ends before the files already sent: the query fails, saying the listing changed, and a new import is asked for', async () => {
    const sizes = [250, 250, 250, 250];
    const r = ring(sizes, (token) => (token?.endsWith('.s0') && r.session() > 0 ? invalidNextPage() : undefined));
    const w = world(r.intake);
    await collectQuery(w.deps, message, { remainingMs: () => (w.sent.length < 751 ? Number.POSITIVE_INFINITY : 1_000) });
    r.newSession();
    sizes.splice(2, 2, 100);
    expect(await collectQuery(w.deps, message)).toEqual({ outcome: 'skipped', reason: 'the listing changed' });
    expect(w.query()).toMatchObject({ status: 'FAILED', statusReason: 'the listing ended at 600 files, before the 751 already sent' });
    expect(w.imports).toEqual([expect.objectContaining({ reason: 'recheck', endedQueryId: QUERY })]);
  });

  it('a saved place whose page now lists fewer files: a warning, and listing starts over from page 1 with every file checked', async () => {
    const sizes = [4, 6, 2];
    const w = world(ring(sizes).intake);
    expect(await collectQuery(w.deps, message, { remainingMs: () => (w.sent.length < 9 ? 300_000 : 1_000) })).toEqual({ outcome: 'continue', from: { n: 9, pageToken: 'T1.s0', pageIndex: 5 } });
    sizes[1] = 3;
    expect(await collectQuery(w.deps, message)).toEqual({ outcome: 'collected', files: 9 });
    expect(w.warnings).toEqual(['page lists 3 files, fewer than when this place was saved; listing again from the first page']);
    expect(w.query()).toMatchObject({ status: 'LOADING', files: 9 });
  });

  it('random page sizes, Ring errors, refused tokens, failed sends, short time and two invocations at once: a saved place never passes an unsent file, and a listing that finishes counts every file', async () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const ends = { LOADING: 0, FAILED: 0, other: 0 };
    for (let round = 0; round < 300; round++) {
      const sizes = Array.from({ length: 1 + Math.floor(random() * 5) }, () => Math.floor(random() * 8));
      const total = sizes.reduce((a, b) => a + b, 0);
      const failure = (token: string | undefined) =>
        random() < 0.1 ? (token !== undefined && random() < 0.3 ? invalidNextPage() : random() < 0.5 ? new RetryLaterError(1, 'limit') : new RingApiError(500, undefined, 'INTERNAL_SERVER_ERROR', undefined, 'retry')) : undefined;
      const w = world(ring(sizes, failure).intake);
      w.failSends(() => random() < 0.1);
      for (let invocation = 0; invocation === 0 || (invocation < 400 && w.query().status === 'COLLECTING'); invocation++) {
        const remainingMs = () => (random() < 0.2 ? 1_000 : 300_000);
        await Promise.allSettled([collectQuery(w.deps, message, { remainingMs }), collectQuery(w.deps, message, { remainingMs })]);
        const place = w.saved();
        if (place) expect(upTo(place.n).filter((n) => !w.sent.includes(n))).toEqual([]);
      }
      const status = w.query().status as string;
      if (status === 'LOADING') {
        ends.LOADING++;
        expect(w.query().files).toBe(total);
        expect(upTo(total).filter((n) => !w.sent.includes(n))).toEqual([]);
      } else if (status === 'FAILED') ends.FAILED++;
      else ends.other++;
    }
    expect(ends.other).toBe(0);
    expect(ends.LOADING).toBeGreaterThan(250);
  });
});
