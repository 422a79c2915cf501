import { ringWorld, type RingWorld } from './support/ring-world';

let world: RingWorld;
beforeAll(async () => {
  // Real time: the limiter's budget must hold against Ring's clock while requests are in
  // flight. 20 calls at 5/s and 30 at 10/s take a few seconds.
  world = await ringWorld({ sleep: 'real' });
});
afterAll(() => world.stop());

const throttledAtSandbox = async () => (await world.control<{ status: number }[]>('GET', '/calls')).filter((call) => call.status === 429).length;

describe('shared rate limiter (DynamoDB) in front of the sandbox', () => {
  it('20 concurrent createDataQuery callers: all succeed, none is throttled by Ring (5/s, 20 per 20 minutes)', async () => {
    const connections = await Promise.all(Array.from({ length: 20 }, () => world.connect()));
    await world.control('DELETE', '/calls');
    const started = world.clock.now();

    const results = await Promise.all(connections.map(({ connection }) => world.intake.createDataQuery(connection)));

    expect(results.every((result) => typeof result.queryId === 'string')).toBe(true);
    expect(await throttledAtSandbox()).toBe(0);
    // 20 calls at 5 a second need at least 3 s of (sandbox) time.
    expect(world.clock.now() - started).toBeGreaterThanOrEqual(3_000);
  });

  it('a 21st createDataQuery within 20 minutes waits for the window instead of being throttled', async () => {
    const { connection } = await world.connect();
    await world.control('DELETE', '/calls');
    const error = await world.intake.createDataQuery(connection).catch((caught: unknown) => caught);
    // The wait is far longer than one invocation should sleep: the work is re-queued.
    expect(error).toMatchObject({ name: 'RetryLaterError' });
    expect((error as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(60);
    expect(await throttledAtSandbox()).toBe(0);
    expect((await world.control<unknown[]>('GET', '/calls')).length).toBe(0);

    world.sandbox.clock.advance(20 * 60_000 + 1_000);
    await expect(world.intake.createDataQuery(connection)).resolves.toEqual({ queryId: expect.any(String) });
  });

  it('30 concurrent listDataQueryRecords callers stay under 10 a second', async () => {
    const { connection } = await world.connect();
    world.sandbox.clock.advance(20 * 60_000 + 1_000);
    const { queryId } = await world.intake.createDataQuery(connection);
    world.sandbox.clock.advance(1_000);
    await world.control('DELETE', '/calls');

    const pages = await Promise.all(Array.from({ length: 30 }, () => world.intake.listPage(connection, queryId)));

    expect(pages).toHaveLength(30);
    expect(await throttledAtSandbox()).toBe(0);
  });
});
