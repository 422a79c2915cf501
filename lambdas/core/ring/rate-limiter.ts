import type { Clock, RateLimitStore } from '../ports';
import type { Settings } from '../settings';

export type RingOperation = 'createDataQuery' | 'listDataQueryRecords';

export type Permit = { readonly go: true } | { readonly go: false; readonly waitMs: number };

/** One limit's answer; `at` is the time a sliding log recorded, for giving it back. */
type Taken = { readonly go: true; readonly at?: number } | { readonly go: false; readonly waitMs: number };

interface SlidingLimit {
  readonly kind: 'sliding';
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
}

interface DailyLimit {
  readonly kind: 'daily';
  readonly name: string;
  readonly limit: number;
}

const DAY_MS = 86_400_000;
const WRITE_ATTEMPTS = 8;
const DEFAULT_MARGIN_MS = 250;

/**
 * Ring's published limits, shared by every Lambda through the control table. createDataQuery:
 * per second, per sliding window and per UTC day, each as configured (Ring's reference: 5/s
 * and 20 per 20 minutes; Amazon's API reference: 1/s and 1,500 a UTC day, no window);
 * listDataQueryRecords: 10/s and 100,000 a UTC day. Per app or per customer as configured.
 * Sliding windows are exact logs of call times (Ring counts "within a 20-minute interval"),
 * kept a margin wider than Ring's so clock skew cannot cause a 429. It answers go or wait: work
 * over budget waits, it is never dropped.
 */
export class RateLimiter {
  private readonly limits: Record<RingOperation, readonly (SlidingLimit | DailyLimit)[]>;

  constructor(
    private readonly store: RateLimitStore,
    private readonly settings: Settings['rateLimits'],
    private readonly clock: Clock,
    private readonly options: { marginMs?: number; keyPrefix?: string } = {},
  ) {
    const { createDataQuery: create, listDataQueryRecords: list } = settings;
    // A daily counter cannot be given back, so it comes last: it is taken only once every
    // sliding limit before it has said go (see `acquire`).
    this.limits = {
      createDataQuery: [
        { kind: 'sliding', name: 'second', limit: create.perSecond, windowMs: 1_000 },
        ...(create.perWindow === null ? [] : [{ kind: 'sliding', name: 'window', limit: create.perWindow, windowMs: create.windowSeconds * 1_000 } as const]),
        ...(create.perDay === undefined ? [] : [{ kind: 'daily', name: 'day', limit: create.perDay } as const]),
      ],
      listDataQueryRecords: [
        { kind: 'sliding', name: 'second', limit: list.perSecond, windowMs: 1_000 },
        { kind: 'daily', name: 'day', limit: list.perDay },
      ],
    };
  }

  /**
   * Takes one call's budget for `operation`, or says how long to wait for it. Each brand is its
   * own app at Ring (its own client id), so each has its own budget. A call that has to wait
   * should leave no trace: the sliding-window entries it took before a later limit said no are
   * given back (a refused call would otherwise hold a window slot for up to 20 minutes, into
   * the next day when the daily quota refused it). The daily counter, which cannot be given
   * back, is taken last, only when every other limit has said go.
   */
  async acquire(operation: RingOperation, brand: string, customerId: string): Promise<Permit> {
    const scope = this.settings.scope === 'customer' ? `customer#${customerId}` : 'app';
    const taken: { key: string; limit: SlidingLimit; at: number }[] = [];
    for (const limit of this.limits[operation]) {
      const key = `RATE#${this.options.keyPrefix ?? ''}${brand}#${operation}#${scope}#${limit.name}`;
      const permit = limit.kind === 'sliding' ? await this.takeSliding(key, limit) : await this.takeDaily(key, limit);
      if (!permit.go) {
        for (const entry of taken) await this.giveBack(entry.key, entry.limit, entry.at);
        return permit;
      }
      if (limit.kind === 'sliding' && permit.at !== undefined) taken.push({ key, limit, at: permit.at });
    }
    return { go: true };
  }

  private get marginMs(): number {
    return this.options.marginMs ?? DEFAULT_MARGIN_MS;
  }

  private async takeSliding(key: string, limit: SlidingLimit): Promise<Taken> {
    const windowMs = limit.windowMs + this.marginMs;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const now = this.clock.now();
      const log = await this.store.readLog(key);
      const live = log.times.filter((at) => at > now - windowMs);
      if (live.length >= limit.limit) {
        const oldest = Math.min(...live);
        return { go: false, waitMs: Math.max(1, oldest + windowMs - now) };
      }
      if (await this.store.writeLog(key, [...live, now], log.version, Math.ceil((now + windowMs) / 1000) + 60)) return { go: true, at: now };
    }
    // Many writers at once: step back briefly rather than spin.
    return { go: false, waitMs: 50 };
  }

  /**
   * Removes one entry `at` from a sliding log: the call it stood for will not be made. Only
   * ever makes room for a call that did not happen, so it cannot let a limit be exceeded; when
   * other writers keep winning, the entry stays and merely expires (a slot lost, not a 429).
   */
  private async giveBack(key: string, limit: SlidingLimit, at: number): Promise<void> {
    const windowMs = limit.windowMs + this.marginMs;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const log = await this.store.readLog(key);
      const index = log.times.indexOf(at);
      if (index === -1) return;
      const times = log.times.filter((_, i) => i !== index);
      if (await this.store.writeLog(key, times, log.version, Math.ceil((this.clock.now() + windowMs) / 1000) + 60)) return;
    }
  }

  private async takeDaily(key: string, limit: DailyLimit): Promise<Taken> {
    const now = this.clock.now();
    const day = Math.floor(now / DAY_MS);
    const ok = await this.store.incrementBelow(`${key}#${day}`, limit.limit, Math.ceil(((day + 2) * DAY_MS) / 1000));
    return ok ? { go: true } : { go: false, waitMs: (day + 1) * DAY_MS - now };
  }
}

/**
 * The even spacing between createDataQuery calls that trips none of the configured limits, as
 * this limiter counts them (sliding windows `marginMs` wider than Ring's), and the calls a UTC
 * day that spacing allows: what one brand's app can start in imports a day. The daily term
 * keeps 0.1 % in hand so a late timer cannot push a day's count over the quota.
 */
export function createDataQueryPace(limits: Settings['rateLimits']['createDataQuery'], marginMs = DEFAULT_MARGIN_MS): { intervalMs: number; perDay: number } {
  const spacings = [(1_000 + marginMs) / limits.perSecond];
  if (limits.perWindow !== null) spacings.push((limits.windowSeconds * 1_000 + marginMs) / limits.perWindow);
  if (limits.perDay !== undefined) spacings.push((DAY_MS / limits.perDay) * 1.001);
  const intervalMs = Math.ceil(Math.max(...spacings));
  const perDay = Math.floor(DAY_MS / intervalMs);
  return { intervalMs, perDay: limits.perDay === undefined ? perDay : Math.min(perDay, limits.perDay) };
}
