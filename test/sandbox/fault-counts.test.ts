import type { FaultCounts } from '../../sandbox/faults';
import type { Sandbox } from '../../sandbox/sandbox';
import { connect, control, createApp, eventually, intake, Receiver, startSandbox, tokenRequest } from './support';

let sandbox: Sandbox;
let endpoint: Receiver;
beforeAll(async () => {
  sandbox = await startSandbox({ queryDelayMs: 100 });
  endpoint = await new Receiver().start();
});
afterAll(async () => {
  await endpoint.stop();
  await sandbox.stop();
});
beforeEach(() => control(sandbox, 'DELETE', '/faults'));

const counts = () => control<FaultCounts>(sandbox, 'GET', '/faults/counts');

/** A query created and completed for a new customer of `app`: its listed files. */
async function listedQuery(app: Awaited<ReturnType<typeof createApp>>) {
  const { tokens } = await connect(sandbox, { app, customer: { datasets: { 'Ring.EventManager.Events': 500 } } });
  const { body } = await intake(sandbox, 'POST', '/data-portability/data-queries', { token: tokens.access_token });
  await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
  const list = await intake(sandbox, 'GET', `/data-portability/data-queries/${String(body.id)}/records`, { token: tokens.access_token });
  return { tokens, queryId: String(body.id), files: ((list.body.records ?? []) as { file: string }[]).map((record) => record.file) };
}

describe('fault counts (GET /__sandbox/faults/counts)', () => {
  it('counts what the injected faults did, by kind: API errors by status, downloads cut or refused, notifications lost, duplicated, delayed, reordered', async () => {
    const app = await createApp(sandbox, { notificationUrl: endpoint.url });
    await eventually(() => (endpoint.received.length >= 6 ? true : undefined), 'six subscription confirmations');
    for (const message of endpoint.messages()) expect((await fetch(message.SubscribeURL)).status).toBe(200);
    const { tokens, files } = await listedQuery(app);

    await control(sandbox, 'PUT', '/faults', {
      rules: [
        { operation: 'createDataQuery', nth: [1], error: 'INTERNAL_SERVER_ERROR' },
        { operation: 'listDataQueryRecords', nth: [1, 2], error: 'TOO_MANY_REQUESTS', retryAfterSeconds: 1 },
        { operation: 'token', nth: [1], oauthError: 'temporarily_unavailable' },
        // The first cut falls inside the file; the second is past its end and cuts nothing.
        { operation: 'download', nth: [1], cutAfterBytes: 1000 },
        { operation: 'download', nth: [2], cutAfterBytes: 100_000_000 },
        { operation: 'download', nth: [3], downloadError: 'SlowDown' },
        { operation: 'download', nth: [4], downloadError: 'InternalError' },
        { operation: 'notification', nth: [1], drop: true },
        { operation: 'notification', nth: [2], duplicate: true },
        { operation: 'notification', nth: [3], delayMs: 1_000 },
        { operation: 'notification', nth: [4], reorder: true },
      ],
    });
    expect(await counts()).toEqual({ calls: {}, api: {}, authorize: {}, downloads: { cut: 0, refused: {} }, notifications: { lost: 0, duplicated: 0, delayed: 0, reordered: 0 } });

    expect((await intake(sandbox, 'POST', '/data-portability/data-queries', { token: tokens.access_token })).status).toBe(500);
    for (let i = 0; i < 2; i++) expect((await intake(sandbox, 'GET', `/data-portability/data-queries/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/records?maxResults=${i + 1}`, { token: tokens.access_token })).status).toBe(429);
    expect((await tokenRequest(sandbox, 'ring', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).status).toBe(503);
    // A refusal of the sandbox's own (a bad token) is no injected fault.
    expect((await intake(sandbox, 'POST', '/data-portability/data-queries', { token: 'not-a-token' })).status).toBe(403);

    await expect(fetch(files[0]).then((response) => response.arrayBuffer())).rejects.toThrow();
    expect((await fetch(files[0]).then((response) => response.arrayBuffer())).byteLength).toBeGreaterThan(1000);
    expect((await fetch(files[0])).status).toBe(503);
    expect((await fetch(files[0])).status).toBe(500);

    // Four queries, four notifications: lost, duplicated, delayed, then held back (released 10 s later at the latest).
    for (let i = 0; i < 4; i++) await listedQuery(app);
    await control(sandbox, 'POST', '/clock/advance', { seconds: 10 });

    expect(await counts()).toEqual({
      // Ours, then four customers' connect (authorize, token), query and listing each; the refused token's createDataQuery counts as a call.
      calls: { authorize: 4, token: 5, createDataQuery: 6, listDataQueryRecords: 6, download: 4, notification: 4 },
      api: { createDataQuery: { '500': 1 }, listDataQueryRecords: { '429': 2 }, token: { '503': 1 } },
      authorize: {},
      downloads: { cut: 1, refused: { SlowDown: 1, InternalError: 1 } },
      notifications: { lost: 1, duplicated: 1, delayed: 1, reordered: 1 },
    });

    // Counted since the rules were set: new rules start from nothing.
    await control(sandbox, 'PUT', '/faults', { rules: [] });
    expect(await counts()).toEqual({ calls: {}, api: {}, authorize: {}, downloads: { cut: 0, refused: {} }, notifications: { lost: 0, duplicated: 0, delayed: 0, reordered: 0 } });
  });
});
