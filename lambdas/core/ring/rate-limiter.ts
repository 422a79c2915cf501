import type { Clock, RateLimitStore } from '../ports';
import type { Settings } from '../settings';

export type RingOperation = 'createDataQuery' | 'listDataQueryRecords';

export type Permit = { readonly go: true } | { readonly go: false; readonly waitMs: number };

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

/**
 * Ring's published limits, shared by every Lambda through the control table: createDataQuery
 * 5/s and 20 per 20 minutes, listDataQueryRecords 10/s and 100,000 a (UTC) day, per app or
 * per customer as configured. Sliding windows are exact logs of call times (Ring counts "within
 * a 20-minute interval"), kept a margin wider than Ring's so clock skew cannot cause a 429. It
 * answers go or wait: work over budget waits, it is never dropped.
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
    this.limits = {
      createDataQuery: [
        { kind: 'sliding', name: 'second', limit: create.perSecond, windowMs: 1_000 },
        { kind: 'sliding', name: 'window', limit: create.perWindow, windowMs: create.windowSeconds * 1_000 },
      ],
      listDataQueryRecords: [
        { kind: 'sliding', name: 'second', limit: list.perSecond, windowMs: 1_000 },
        { kind: 'daily', name: 'day', limit: list.perDay },
      ],
    };
  }

  /**
   * Takes one call's budget for `operation`, or says how long to wait for it. Each brand is its
   * own app at Ring (its own client id), so each has its own budget.
   */
  async acquire(operation: RingOperation, brand: string, customerId: string): Promise<Permit> {
    const scope = this.settings.scope === 'customer' ? `customer#${customerId}` : 'app';
    for (const limit of this.limits[operation]) {
      const key = `RATE#${this.options.keyPrefix ?? ''}${brand}#${operation}#${scope}#${limit.name}`;
      const permit = limit.kind === 'sliding' ? await this.takeSliding(key, limit) : await this.takeDaily(key, limit);
      if (!permit.go) return permit;
    }
    return { go: true };
  }

  private async takeSliding(key: string, limit: SlidingLimit): Promise<Permit> {
    const windowMs = limit.windowMs + (this.options.marginMs ?? 250);
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const now = this.clock.now();
      const log = await this.store.readLog(key);
      const live = log.times.filter((at) => at > now - windowMs);
      if (live.length >= limit.limit) {
        const oldest = Math.min(...live);
        return { go: false, waitMs: Math.max(1, oldest + windowMs - now) };
      }
      if (await this.store.writeLog(key, [...live, now], log.version, Math.ceil((now + windowMs) / 1000) + 60)) return { go: true };
    }
    // Many writers at once: step back briefly rather than spin.
    return { go: false, waitMs: 50 };
  }

  private async takeDaily(key: string, limit: DailyLimit): Promise<Permit> {
    const now = this.clock.now();
    const day = Math.floor(now / DAY_MS);
    const ok = await this.store.incrementBelow(`${key}#${day}`, limit.limit, Math.ceil(((day + 2) * DAY_MS) / 1000));
    return ok ? { go: true } : { go: false, waitMs: (day + 1) * DAY_MS - now };
  }
}

/**
 * The even spacing of createDataQuery calls that keeps every configured limit (the limiter
 * counts sliding windows `marginMs` wider than Ring's), and the calls a day it allows.
 */
export function createDataQueryPace(limits: Settings['rateLimits']['createDataQuery'], marginMs = 250): { intervalMs: number; perDay: number } {
  const candidates = [1000 / limits.perSecond];
  const window = limits as { perWindow?: number | null; windowSeconds: number; perDay?: number };
  if (window.perWindow) candidates.push((window.windowSeconds * 1000 + marginMs) / window.perWindow);
  if (window.perDay) candidates.push((DAY_MS / window.perDay) * 1.001);
  const intervalMs = Math.ceil(Math.max(...candidates));
  const perDay = Math.floor(DAY_MS / intervalMs);
  return { intervalMs, perDay: window.perDay ? Math.min(perDay, window.perDay) : perDay };
}
