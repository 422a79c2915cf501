import fc from 'fast-check';
import type { Clock, RateLimitStore, RateLog } from '../../../../lambdas/core/ports';
import { createDataQueryPace, RateLimiter, type Permit } from '../../../../lambdas/core/ring/rate-limiter';
import { parseSettings, type SettingsInput } from '../../../../lambdas/core/settings';

const DAY_MS = 86_400_000;
const MIDDAY = Date.parse('2026-03-10T12:00:00Z');

type CreateLimits = NonNullable<NonNullable<SettingsInput['rateLimits']>['createDataQuery']>;

/**
 * The control table's contract in memory: versioned logs and bounded counters. Every call
 * yields once, so concurrent acquires interleave between a read and its conditional write as
 * they do against DynamoDB.
 */
class MemoryRateLimitStore implements RateLimitStore {
  readonly logs = new Map<string, RateLog>();
  readonly counters = new Map<string, number>();

  readLog(key: string): Promise<RateLog> {
    const log = this.logs.get(key);
    return Promise.resolve({ times: [...(log?.times ?? [])], version: log?.version ?? 0 });
  }

  writeLog(key: string, times: readonly number[], expectedVersion: number): Promise<boolean> {
    if ((this.logs.get(key)?.version ?? 0) !== expectedVersion) return Promise.resolve(false);
    this.logs.set(key, { times: [...times], version: expectedVersion + 1 });
    return Promise.resolve(true);
  }

  incrementBelow(key: string, limit: number): Promise<boolean> {
    const count = this.counters.get(key) ?? 0;
    if (count >= limit) return Promise.resolve(false);
    this.counters.set(key, count + 1);
    return Promise.resolve(true);
  }

  /** Entries of the sliding log named `name` (`second`, `window`). */
  entries(name: string): number[] {
    return [...this.logs.entries()].filter(([key]) => key.endsWith(`#${name}`)).flatMap(([, log]) => log.times);
  }
}

function limiterWith(createDataQuery: CreateLimits, startAt = MIDDAY) {
  let now = startAt;
  const clock: Clock = { now: () => now, sleep: () => Promise.resolve() };
  const store = new MemoryRateLimitStore();
  const settings = parseSettings({ rateLimits: { createDataQuery } }).rateLimits;
  const limiter = new RateLimiter(store, settings, clock);
  return {
    store,
    settings,
    create: (brand = 'ring'): Promise<Permit> => limiter.acquire('createDataQuery', brand, 'customer-1'),
    at: (time: number) => void (now = time),
    advance: (ms: number) => void (now += ms),
    now: () => now,
  };
}

describe('createDataQueryPace', () => {
  it("spaces calls one window/20 apart under Ring's reference limits (5/s, 20 per 20 minutes): 1,439 a day", () => {
    const pace = createDataQueryPace(parseSettings({}).rateLimits.createDataQuery);
    expect(pace).toEqual({ intervalMs: 60_013, perDay: 1_439 });
  });

  it("spaces calls a 1,500th of a day apart, with 0.1 % in hand, under Amazon's variant (1/s, 1,500 a UTC day): 1,498 a day", () => {
    const pace = createDataQueryPace(parseSettings({ rateLimits: { createDataQuery: { perSecond: 1, perWindow: null, perDay: 1_500 } } }).rateLimits.createDataQuery);
    expect(pace).toEqual({ intervalMs: 57_658, perDay: 1_498 });
  });

  it('counts the per-second window as the limiter does, margin included, when nothing slower binds', () => {
    const limits = parseSettings({ rateLimits: { createDataQuery: { perSecond: 1, perWindow: null } } }).rateLimits.createDataQuery;
    expect(createDataQueryPace(limits)).toEqual({ intervalMs: 1_250, perDay: 69_120 });
    expect(createDataQueryPace(limits, 0)).toEqual({ intervalMs: 1_000, perDay: 86_400 });
  });

  it('never paces faster than the limiter allows: every call at the pace goes', async () => {
    for (const limits of [{}, { perSecond: 1, perWindow: null, perDay: 1_500 }, { perSecond: 2, perWindow: 7, windowSeconds: 60 }, { perSecond: 2, perWindow: null }]) {
      const { create, advance, settings } = limiterWith(limits, Date.parse('2026-03-10T00:00:00Z'));
      const { intervalMs, perDay } = createDataQueryPace(settings.createDataQuery);
      for (let call = 0; call < Math.min(perDay, 2_000); call++) {
        expect(await create()).toEqual({ go: true });
        advance(intervalMs);
      }
    }
  });
});

describe('RateLimiter: createDataQuery daily quota', () => {
  it('goes up to the quota, then answers a wait that ends at the next UTC midnight, and goes again on the new day', async () => {
    const { create, advance, at, now } = limiterWith({ perSecond: 1, perWindow: null, perDay: 3 });
    for (let call = 0; call < 3; call++) {
      expect(await create()).toEqual({ go: true });
      advance(1_250);
    }
    const midnight = Math.ceil(now() / DAY_MS) * DAY_MS;
    expect(await create()).toEqual({ go: false, waitMs: midnight - now() });
    at(midnight - 1);
    expect(await create()).toEqual({ go: false, waitMs: 1 });
    at(midnight);
    expect(await create()).toEqual({ go: true });
  });

  it('counts each brand (its own app at Ring) on its own', async () => {
    const { create, advance } = limiterWith({ perSecond: 1, perWindow: null, perDay: 1 });
    expect(await create('ring')).toEqual({ go: true });
    advance(1_250);
    expect(await create('ring')).toMatchObject({ go: false });
    expect(await create('blink')).toEqual({ go: true });
  });

  it('has no window when perWindow is null: 30 calls in 40 s all go', async () => {
    const { create, advance } = limiterWith({ perSecond: 1, perWindow: null });
    for (let call = 0; call < 30; call++) {
      expect(await create()).toEqual({ go: true });
      advance(1_250);
    }
  });

  it('a call the daily quota refuses gives back the window and second slots it took, so the new day starts with them free', async () => {
    const { store, create, at } = limiterWith({ perSecond: 5, perWindow: 3, windowSeconds: 1_200, perDay: 2 }, Date.parse('2026-03-10T23:40:00Z'));
    expect(await create()).toEqual({ go: true });
    at(Date.parse('2026-03-10T23:41:00Z'));
    expect(await create()).toEqual({ go: true });
    const refusedAt = [50, 55, 59].map((minute) => Date.parse(`2026-03-10T23:${minute}:00Z`));
    for (const time of refusedAt) {
      at(time);
      expect(await create()).toMatchObject({ go: false });
    }
    expect(store.entries('window')).toEqual([Date.parse('2026-03-10T23:40:00Z'), Date.parse('2026-03-10T23:41:00Z')]);
    expect(store.entries('second')).not.toContain(refusedAt[2]);
    // Without the give-back a refused call's window entry would hold the third slot until 00:19.
    at(Date.parse('2026-03-11T00:00:00Z'));
    expect(await create()).toEqual({ go: true });
  });

  it('a call the window refuses takes nothing from the daily quota', async () => {
    const { store, create, advance } = limiterWith({ perSecond: 5, perWindow: 2, windowSeconds: 60, perDay: 10 });
    expect(await create()).toEqual({ go: true });
    expect(await create()).toEqual({ go: true });
    for (let attempt = 0; attempt < 5; attempt++) expect(await create()).toMatchObject({ go: false });
    expect([...store.counters.values()]).toEqual([2]);
    expect(store.entries('second')).toHaveLength(2);
    advance(60_250);
    expect(await create()).toEqual({ go: true });
  });

  it('never lets concurrent callers exceed any configured limit, and every refusal says how long to wait', async () => {
    const limits = fc.record({
      perSecond: fc.integer({ min: 1, max: 5 }),
      perWindow: fc.option(fc.integer({ min: 1, max: 8 }), { nil: null }),
      windowSeconds: fc.integer({ min: 1, max: 120 }),
      perDay: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
    });
    // Rounds of concurrent callers, each round some time after the last (up to a few hours, so
    // days turn over).
    const rounds = fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 4 * 3_600_000 }), callers: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(limits, rounds, async (createLimits, schedule) => {
        const { create, advance, now } = limiterWith(createLimits, Date.parse('2026-03-10T20:00:00Z'));
        const granted: number[] = [];
        for (const { gapMs, callers } of schedule) {
          advance(gapMs);
          const permits = await Promise.all(Array.from({ length: callers }, () => create()));
          for (const permit of permits) {
            if (permit.go) granted.push(now());
            else expect(permit.waitMs).toBeGreaterThan(0);
          }
        }
        const most = (windowMs: number) => Math.max(0, ...granted.map((start) => granted.filter((time) => time >= start && time < start + windowMs).length));
        expect(most(1_000)).toBeLessThanOrEqual(createLimits.perSecond);
        if (createLimits.perWindow !== null) expect(most(createLimits.windowSeconds * 1_000)).toBeLessThanOrEqual(createLimits.perWindow);
        if (createLimits.perDay !== undefined) {
          const perDay = new Map<number, number>();
          for (const time of granted) perDay.set(Math.floor(time / DAY_MS), (perDay.get(Math.floor(time / DAY_MS)) ?? 0) + 1);
          expect(Math.max(0, ...perDay.values())).toBeLessThanOrEqual(createLimits.perDay);
        }
      }),
      { numRuns: 200 },
    );
  });
});
