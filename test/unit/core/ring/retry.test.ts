import { RetryLaterError, RingApiError } from '../../../../lambdas/core/ring/errors';
import { withRetries } from '../../../../lambdas/core/ring/retry';

function fakeClock() {
  let now = 0;
  const sleeps: number[] = [];
  return { sleeps, clock: { now: () => now, sleep: (ms: number) => { sleeps.push(ms); now += ms; return Promise.resolve(); } } };
}

const retryable = (error: unknown) => ({
  retry: error instanceof RingApiError && error.decision === 'retry',
  retryAfterSeconds: error instanceof RingApiError ? error.retryAfterSeconds : undefined,
});
const throttled = (retryAfter?: string) => RingApiError.fromResponse(429, { category: 'TOO_MANY_REQUESTS', type: 'TOO_MANY_REQUESTS' }, retryAfter);

describe('withRetries', () => {
  it('waits 1, 2, 4, 10, 30 s (no jitter) and then gives up with the last error', async () => {
    const { clock, sleeps } = fakeClock();
    let calls = 0;
    await expect(withRetries(() => { calls++; return Promise.reject(throttled()); }, retryable, { clock, jitter: 0 })).rejects.toMatchObject({ type: 'TOO_MANY_REQUESTS' });
    expect(calls).toBe(6);
    expect(sleeps).toEqual([1_000, 2_000, 4_000, 10_000, 30_000]);
  });

  it('spreads waits with jitter within ±20 %', async () => {
    const { clock, sleeps } = fakeClock();
    await expect(withRetries(() => Promise.reject(throttled()), retryable, { clock, random: () => 1 })).rejects.toBeInstanceOf(RingApiError);
    expect(sleeps).toEqual([1_200, 2_400, 4_800, 12_000, 36_000]);
  });

  it('never waits less than Retry-After', async () => {
    const { clock, sleeps } = fakeClock();
    let calls = 0;
    const result = await withRetries(() => (++calls < 3 ? Promise.reject(throttled('5')) : Promise.resolve('ok')), retryable, { clock, jitter: 0 });
    expect(result).toBe('ok');
    expect(sleeps).toEqual([5_000, 5_000]);
  });

  it('does not retry a final error', async () => {
    const { clock, sleeps } = fakeClock();
    const fatal = RingApiError.fromResponse(403, { type: 'APP_NOT_ALLOWLISTED' });
    await expect(withRetries(() => Promise.reject(fatal), retryable, { clock })).rejects.toBe(fatal);
    expect(sleeps).toEqual([]);
  });

  it('returns a RetryLaterError instead of sleeping past the invocation’s remaining time', async () => {
    const { clock, sleeps } = fakeClock();
    let remaining = 20_000;
    const attempt = () => Promise.reject(throttled());
    const error = await withRetries(attempt, retryable, { clock, jitter: 0, remainingMs: () => remaining - clock.now() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryLaterError);
    expect((error as RetryLaterError).retryAfterSeconds).toBe(10);
    expect(sleeps).toEqual([1_000, 2_000, 4_000]);
    remaining = 0;
  });
});
