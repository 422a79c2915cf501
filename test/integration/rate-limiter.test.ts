import { ringWorld, type RingWorld } from './support/ring-world';

/**
 * Concurrent callers through the shared DynamoDB limiter against the sandbox's limits, in
 * virtual time: the sandbox's clock moves only when every caller waits, so a request is never
 * in flight while time passes and the outcome does not depend on the machine's speed. Each
 * test has a world of its own (its own sandbox, table and rate-limit keys).
 */
let world: RingWorld;
beforeEach(async () => {
  world = await ringWorld();
});
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
