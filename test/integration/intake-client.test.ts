import { DECISIONS, RetryLaterError, RingApiError } from '../../lambdas/core/ring/errors';
import { INTAKE_ERROR_NAMES, INTAKE_ERRORS } from '../../sandbox/errors';
import { ringWorld, type RingWorld } from './support/ring-world';

let world: RingWorld;
beforeAll(async () => {
  // No retries here: each injected error must come back as what it is. Many queries are
  // created, so the 20-per-20-minutes window is raised on both sides.
  world = await ringWorld({
    retry: { scheduleSeconds: [] },
    sandbox: { limits: { createPerWindow: 1_000 } },
    settings: { rateLimits: { createDataQuery: { perWindow: 1_000 } } },
  });
});
afterAll(() => world.stop());
beforeEach(() => world.control('DELETE', '/faults'));

describe('intake client against the sandbox', () => {
  it('creates a query and lists every page of a completed query', async () => {
    const { connection } = await world.connect({ customer: { datasets: { 'Ring.EventManager.Events': 9, 'Ring.Alarm.HubData': 3 }, recordsPerFile: 1 } });
    const { queryId } = await world.intake.createDataQuery(connection);
    await world.control('POST', '/clock/advance', { seconds: 1 });
    const pages = [];
    for await (const page of world.intake.listDataQueryRecords(connection, queryId, { maxResults: 5 })) pages.push(page);
    expect(pages.map((page) => page.records.length)).toEqual([5, 5, 2]);
    expect(pages[1].pageToken).toBe(pages[0].nextPageToken);
    expect(pages.flatMap((page) => page.records).every((record) => record.file.includes('X-Amz-Expires=300'))).toBe(true);
  });

  it.each(['eu-west-1', 'us-east-1', 'us-west-2'] as const)('talks to the intake of the connection’s region (%s) and brand', async (region) => {
    const { connection } = await world.connect({ brand: 'blink', region });
    const { queryId } = await world.intake.createDataQuery(connection);
    const query = await world.control<{ region: string; brand: string }>('GET', `/queries/${queryId}`);
    expect(query).toMatchObject({ region, brand: 'blink' });
  });

  it.each(INTAKE_ERROR_NAMES.filter((name) => name !== 'ACCESS_DENIED'))('turns %s into a typed error with its decision', async (name) => {
    const { connection } = await world.connect();
    await world.control('PUT', '/faults', { rules: [{ operation: 'createDataQuery', nth: [1], error: name }] });
    const error = await world.intake.createDataQuery(connection).catch((caught: unknown) => caught);
    const [status, category, type, message] = INTAKE_ERRORS[name];
    expect(error).toBeInstanceOf(RingApiError);
    expect(error).toMatchObject({ status, category, type, ringMessage: message, decision: DECISIONS[type] });
  });

  it('refreshes once and retries when a cached access token is refused (ACCESS_DENIED)', async () => {
    const { connection } = await world.connect();
    await world.control('PUT', '/faults', { rules: [{ operation: 'createDataQuery', nth: [1], error: 'ACCESS_DENIED' }] });
    await world.control('DELETE', '/calls');
    await expect(world.intake.createDataQuery(connection)).resolves.toEqual({ queryId: expect.any(String) });
    expect(await world.tokenCalls()).toBe(1);
  });

  it('decides stop-connection when a freshly refreshed token is refused too (account on hold)', async () => {
    const { connection, sandboxCustomer } = await world.connect();
    await world.control('POST', `/customers/${sandboxCustomer.id}/hold`, { onHold: true });
    await expect(world.intake.createDataQuery(connection)).rejects.toMatchObject({ type: 'ACCESS_DENIED', decision: 'stop-connection' });
  });

  it('waits (409) while a query is in progress, recreates after the 1-hour list window, relists a bad page token', async () => {
    const { connection } = await world.connect();
    const { queryId } = await world.intake.createDataQuery(connection);
    await expect(world.intake.createDataQuery({ ...connection, region: 'us-east-1' })).rejects.toMatchObject({ type: 'REQUEST_CONFLICT', decision: 'wait' });
    await expect(world.intake.listPage(connection, queryId)).rejects.toMatchObject({ type: 'QUERY_NOT_COMPLETED', decision: 'wait' });
    await world.control('POST', '/clock/advance', { seconds: 1 });
    await expect(world.intake.listPage(connection, queryId, { pageToken: 'forged' })).rejects.toMatchObject({ type: 'INVALID_NEXT_PAGE', decision: 'relist' });
    await world.control('POST', '/clock/advance', { minutes: 61 });
    await expect(world.intake.listPage(connection, queryId)).rejects.toMatchObject({ type: 'ACCESS_TIME_ELAPSED', decision: 'recreate' });
  });
});

describe('retries', () => {
  let retrying: RingWorld;
  beforeAll(async () => {
    retrying = await ringWorld({ retry: { jitter: 0 } });
  });
  afterAll(() => retrying.stop());

  it('retries a 429 storm on the documented schedule: 1, 2, 4, 10 s', async () => {
    const { connection } = await retrying.connect();
    await retrying.control('PUT', '/faults', { rules: [{ operation: 'createDataQuery', nth: [1, 2, 3, 4], error: 'TOO_MANY_REQUESTS' }] });
    retrying.sleeps.splice(0);
    await expect(retrying.intake.createDataQuery(connection)).resolves.toEqual({ queryId: expect.any(String) });
    expect(retrying.sleeps.filter((ms) => ms >= 1_000)).toEqual([1_000, 2_000, 4_000, 10_000]);
  });

  it('honours Retry-After', async () => {
    const { connection } = await retrying.connect();
    await retrying.control('PUT', '/faults', { rules: [{ operation: 'listDataQueryRecords', nth: [1], error: 'INTEGRATION_TIMEOUT', retryAfterSeconds: 7 }] });
    const { queryId } = await retrying.intake.createDataQuery(connection);
    await retrying.control('POST', '/clock/advance', { seconds: 1 });
    retrying.sleeps.splice(0);
    await retrying.intake.listPage(connection, queryId);
    expect(retrying.sleeps.filter((ms) => ms >= 1_000)).toEqual([7_000]);
  });

  it('re-queues instead of sleeping past the invocation’s remaining time', async () => {
    const { connection } = await retrying.connect();
    await retrying.control('PUT', '/faults', { rules: [{ operation: 'createDataQuery', nth: [1, 2, 3, 4, 5, 6], error: 'INTERNAL_SERVER_ERROR' }] });
    const error = await retrying.intake.createDataQuery(connection, { remainingMs: () => 8_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetryLaterError);
  });
});
