import { ringWorld, type RingWorld } from './support/ring-world';

/**
 * Concurrent callers through the shared DynamoDB limiter against the sandbox's limits, in
 * virtual time: the sandbox's clock moves only when every caller waits, so a request is never
 * in flight while time passes and the outcome does not depend on the machine's speed. Each
 * test has a world of its own (its own sandbox, table and rate-limit keys).
 */
let world: RingWorld;
afterEach(() => world.stop());

const callsAtSandbox = () => world.control<{ status: number; at: string }[]>('GET', '/calls');
const throttledAtSandbox = async () => (await callsAtSandbox()).filter((call) => call.status === 429).length;
const connections = (count: number) => Promise.all(Array.from({ length: count }, async () => (await world.connect()).connection));

/** The most calls the sandbox saw in any `windowMs` (arrival times, sandbox clock). */
async function busiestWindow(windowMs: number): Promise<number> {
  const times = (await callsAtSandbox()).map((call) => Date.parse(call.at)).sort((a, b) => a - b);
  return Math.max(0, ...times.map((start, i) => times.slice(i).filter((at) => at < start + windowMs).length));
}

describe('shared rate limiter (DynamoDB) in front of the sandbox', () => {
  beforeEach(async () => {
    world = await ringWorld();
  });

  it('20 concurrent createDataQuery callers: all succeed, none is throttled by Ring (5/s, 20 per 20 minutes)', async () => {
    const connected = await connections(20);
    await world.control('DELETE', '/calls');
    const started = world.clock.now();

    const results = await world.together(connected.map((connection) => () => world.intake.createDataQuery(connection)));

    expect(results.every((result) => typeof result.queryId === 'string')).toBe(true);
    expect(await throttledAtSandbox()).toBe(0);
    expect(await busiestWindow(1_000)).toBe(5);
    // 20 calls at 5 a second need at least 3 s of (sandbox) time.
    expect(world.clock.now() - started).toBeGreaterThanOrEqual(3_000);
  });

  it('a 21st createDataQuery within 20 minutes waits for the window instead of being throttled', async () => {
    const connected = await connections(21);
    for (const connection of connected.slice(0, 20)) await world.intake.createDataQuery(connection);
    await world.control('DELETE', '/calls');

    const error = await world.intake.createDataQuery(connected[20]).catch((caught: unknown) => caught);
    // The wait is far longer than one invocation should sleep: the work is re-queued.
    expect(error).toMatchObject({ name: 'RetryLaterError' });
    expect((error as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(60);
    expect(await callsAtSandbox()).toEqual([]);

    world.sandbox.clock.advance(20 * 60_000 + 1_000);
    await expect(world.intake.createDataQuery(connected[20])).resolves.toEqual({ queryId: expect.any(String) });
    expect(await throttledAtSandbox()).toBe(0);
  });

  it('30 concurrent listDataQueryRecords callers stay under 10 a second', async () => {
    const [connection] = await connections(1);
    const { queryId } = await world.intake.createDataQuery(connection);
    world.sandbox.clock.advance(1_000);
    await world.control('DELETE', '/calls');
    const started = world.clock.now();

    const pages = await world.together(Array.from({ length: 30 }, () => () => world.intake.listPage(connection, queryId)));

    expect(pages).toHaveLength(30);
    expect(await throttledAtSandbox()).toBe(0);
    expect(await busiestWindow(1_000)).toBe(10);
    expect(world.clock.now() - started).toBeGreaterThanOrEqual(2_000);
  });
});

describe("shared rate limiter (DynamoDB), Amazon's createDataQuery variant: 1/s, no window, a daily quota", () => {
  const PER_DAY = 5;
  const DAY_MS = 86_400_000;
  beforeEach(async () => {
    // The sandbox enforces the same variant: any call over it would be a 429 at the sandbox.
    world = await ringWorld({
      sandbox: { limits: { createPerSecond: 1, createPerWindow: null, createPerDay: PER_DAY } },
      settings: { rateLimits: { createDataQuery: { perSecond: 1, perWindow: null, perDay: PER_DAY } } },
    });
  });

  it('never exceeds the daily quota, answers a wait that ends at the next UTC midnight, and goes on the next day', async () => {
    const connected = await connections(8);
    await world.control('DELETE', '/calls');

    const results = await world.together(connected.map((connection) => () => world.intake.createDataQuery(connection).catch((error: unknown) => error)));

    const refusals = results.filter((result) => result instanceof Error);
    expect(results.length - refusals.length).toBe(PER_DAY);
    expect(refusals.map((error) => error.name)).toEqual(Array(results.length - PER_DAY).fill('RetryLaterError'));
    expect(await callsAtSandbox()).toHaveLength(PER_DAY);
    expect(await throttledAtSandbox()).toBe(0);
    expect(await busiestWindow(1_000)).toBe(1);

    // Over the quota: wait exactly until the next UTC midnight (no window to wait for first).
    const midnight = (Math.floor(world.clock.now() / DAY_MS) + 1) * DAY_MS;
    expect(await world.limiter.acquire('createDataQuery', 'ring', connected[0].customerId)).toEqual({ go: false, waitMs: midnight - world.clock.now() });
    const refused = await world.intake.createDataQuery(connected[PER_DAY]).catch((error: unknown) => error);
    expect(refused).toMatchObject({ name: 'RetryLaterError', retryAfterSeconds: Math.ceil((midnight - world.clock.now()) / 1_000) });
    world.sandbox.clock.advanceTo(midnight - 1);
    expect(await world.limiter.acquire('createDataQuery', 'ring', connected[0].customerId)).toEqual({ go: false, waitMs: 1 });

    world.sandbox.clock.advanceTo(midnight);
    await world.control('DELETE', '/calls');
    await expect(world.intake.createDataQuery(connected[PER_DAY])).resolves.toEqual({ queryId: expect.any(String) });
    expect(await throttledAtSandbox()).toBe(0);
  });
});
