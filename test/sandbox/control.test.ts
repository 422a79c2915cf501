import type { Sandbox } from '../../sandbox/sandbox';
import { connect, control, intake, startSandbox } from './support';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ queryDelayMs: 100 });
});
afterAll(() => sandbox.stop());

describe('control API', () => {
  it('describes itself with the endpoint templates to configure', async () => {
    expect(await control(sandbox, 'GET', '/')).toMatchObject({
      baseUrl: sandbox.baseUrl,
      endpoints: {
        ring: { oauthBaseUrl: `${sandbox.baseUrl}/ring/oauth`, intakeBaseUrl: `${sandbox.baseUrl}/ring/intake/{region}` },
        blink: { oauthBaseUrl: `${sandbox.baseUrl}/blink/oauth`, intakeBaseUrl: `${sandbox.baseUrl}/blink/intake/{region}` },
      },
      limits: { createPerSecond: 5, createPerWindow: 20, createWindowMs: 1_200_000, listPerSecond: 10, listPerDay: 100_000 },
    });
  });

  it('logs received calls with codes, tokens, secrets and signatures redacted', async () => {
    await control(sandbox, 'DELETE', '/calls');
    const { tokens } = await connect(sandbox);
    const { body } = await intake(sandbox, 'POST', '/data-portability/data-queries', { token: tokens.access_token });
    await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
    const list = await intake(sandbox, 'GET', `/data-portability/data-queries/${String(body.id)}/records`, { token: tokens.access_token });
    await (await fetch((list.body.records as { file: string }[])[0].file)).arrayBuffer();

    const calls = await control<{ method: string; path: string; status: number }[]>(sandbox, 'GET', '/calls');
    expect(calls.map((call) => `${call.method} ${call.path.split('?')[0]} ${call.status}`)).toEqual([
      'GET /ring/oauth/v2/authorize 302',
      'POST /ring/oauth/oauth/token 200',
      'POST /ring/intake/eu-west-1/data-portability/data-queries 201',
      `GET /ring/intake/eu-west-1/data-portability/data-queries/${String(body.id)}/records 200`,
      expect.stringMatching(/^GET \/ring\/files\/.* 200$/),
    ]);
    const logged = JSON.stringify(calls);
    expect(logged).not.toContain(tokens.access_token);
    expect(logged).toContain('code_challenge=[redacted]');
    expect(logged).toContain('X-Amz-Signature=[redacted]');
  });

  it('answers a bad request with 400 naming the field', async () => {
    const response = await fetch(`${sandbox.baseUrl}/__sandbox/customers`, { method: 'POST', body: JSON.stringify({ brand: 'nest' }) });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: expect.stringContaining('brand') });
    expect((await fetch(`${sandbox.baseUrl}/__sandbox/faults`, { method: 'PUT', body: JSON.stringify({ rules: [{ operation: 'token' }] }) })).status).toBe(400);
    expect((await fetch(`${sandbox.baseUrl}/__sandbox/nothing-here`)).status).toBe(404);
  });

  it('changes a customer’s data for the queries created afterwards: the ground truth shows the new and changed records', async () => {
    const { customer, tokens } = await connect(sandbox, { customer: { datasets: { 'Ring.EventManager.Events': 200, 'Ring.Alarm.AuditLog': 100 }, recordsPerFile: 1_000 } });
    type Truth = { datasets: Record<string, { records: number; uniqueRecords: number; changes: { before: number; added: number; changed: number }[] }>; files: { sha256: string }[] };
    const query = async () => {
      const { body } = await intake(sandbox, 'POST', '/data-portability/data-queries', { token: tokens.access_token });
      // Past the intake's 5-minute answer cache: the next POST creates another query.
      await control(sandbox, 'POST', '/clock/advance', { minutes: 6 });
      return control<Truth & { queryId: string }>(sandbox, 'GET', `/queries/${String(body.id)}/ground-truth`);
    };
    const first = await query();
    const second = await query();
    expect(second.queryId).not.toBe(first.queryId);
    expect(second).toEqual({ ...first, queryId: second.queryId });

    await control(sandbox, 'POST', `/customers/${customer.id}/data-changes`, { changePercent: 0 }, 400);
    expect(await control(sandbox, 'POST', `/customers/${customer.id}/data-changes`, { addPercent: 5, changePercent: 1 }, 201)).toEqual({ customerId: customer.id, changes: [{ addPercent: 5, changePercent: 1 }] });
    const changed = await query();
    expect(changed.datasets['Ring.EventManager.Events']).toEqual({ files: 1, records: 210, uniqueRecords: 210, changes: [{ before: 200, added: 10, changed: 2 }] });
    expect(changed.datasets['Ring.Alarm.AuditLog']).toMatchObject({ records: 105, changes: [{ before: 100, added: 5, changed: 1 }] });
    expect(changed.files.map((file) => file.sha256)).not.toEqual(first.files.map((file) => file.sha256));
  });

  it('answers other requests while it measures a large query’s ground truth, and measures it once for callers that ask meanwhile', async () => {
    const { tokens } = await connect(sandbox, { customer: { datasets: { 'Ring.EventManager.Events': 40_000 }, recordsPerFile: 1_000 } });
    const { body } = await intake(sandbox, 'POST', '/data-portability/data-queries', { token: tokens.access_token });
    await control(sandbox, 'POST', '/clock/advance', { minutes: 6 });
    const path = `/queries/${String(body.id)}/ground-truth`;
    let measured = false;
    const truths = Promise.all([control<{ files: unknown[] }>(sandbox, 'GET', path), control<{ files: unknown[] }>(sandbox, 'GET', path)]).finally(() => (measured = true));
    // One request after another while the 40 files are generated and hashed: each must be answered before the measuring ends.
    let answeredMeanwhile = 0;
    while (!measured && answeredMeanwhile < 3) {
      await control(sandbox, 'GET', '/clock');
      if (!measured) answeredMeanwhile++;
    }
    expect(answeredMeanwhile).toBe(3);
    const [first, second] = await truths;
    expect(first.files).toHaveLength(40);
    expect(second).toEqual(first);
  });

  it('moves the clock only forward', async () => {
    const before = await control<{ epochMs: number }>(sandbox, 'GET', '/clock');
    const after = await control<{ epochMs: number }>(sandbox, 'POST', '/clock/advance', { hours: 2 });
    expect(after.epochMs - before.epochMs).toBeGreaterThanOrEqual(2 * 3_600_000);
    await control(sandbox, 'POST', '/clock/advance', { ms: -1 }, 400);
  });
});

describe('fault injection', () => {
  afterEach(() => control(sandbox, 'DELETE', '/faults'));

  it('fails authorize and token calls with OAuth errors on the Nth call', async () => {
    await control(sandbox, 'PUT', '/faults', {
      rules: [
        { operation: 'authorize', nth: [1], oauthError: 'temporarily_unavailable' },
        { operation: 'token', nth: [1], oauthError: 'server_error' },
      ],
    });
    await expect(connect(sandbox)).rejects.toThrow(/error=temporarily_unavailable/);
    await expect(connect(sandbox)).rejects.toThrow(/token exchange failed: 500 .*server_error/);
    await expect(connect(sandbox)).resolves.toMatchObject({ tokens: { token_type: 'Bearer' } });
  });

  it('fires by probability, repeatably for the same seed, and counts what fired', async () => {
    const run = async () => {
      await control(sandbox, 'PUT', '/faults', { rules: [{ operation: 'createDataQuery', probability: 0.5, error: 'INTERNAL_SERVER_ERROR' }] });
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await intake(sandbox, 'POST', '/data-portability/data-queries', { token: null })).status);
      return statuses;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    const injected = first.filter((status) => status === 500).length;
    expect(injected).toBeGreaterThan(10);
    expect(injected).toBeLessThan(30);
    expect(first.filter((status) => status !== 500).every((status) => status === 403)).toBe(true); // the rest: no Authorization header
    const { rules } = await control<{ rules: { fired: number }[] }>(sandbox, 'GET', '/faults');
    expect(rules[0].fired).toBe(injected);
  });

  it('adds latency', async () => {
    await control(sandbox, 'PUT', '/faults', { rules: [{ operation: 'createDataQuery', nth: [1], latencyMs: 300 }] });
    // Real latency (a lower bound, so a slow machine only adds to it), on the monotonic clock.
    const started = performance.now();
    await intake(sandbox, 'POST', '/data-portability/data-queries', { token: null });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });
});
