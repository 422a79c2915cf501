import type { SandboxClock } from './clock';

/**
 * Counts calls in sliding windows of sandbox time. Each limit is checked before the call is
 * counted, so throttled calls do not use up budget.
 */
export class SlidingWindowLimiter {
  private readonly calls = new Map<string, number[]>();

  constructor(private readonly clock: SandboxClock) {}

  /** True when `key` has fewer than `limit` calls in the last `windowMs`. */
  allows(key: string, limit: number, windowMs: number): boolean {
    const now = this.clock.now();
    const recent = (this.calls.get(key) ?? []).filter((at) => at > now - windowMs);
    this.calls.set(key, recent);
    return recent.length < limit;
  }

  /** Every key's calls, for the sandbox's saved state. */
  entries(): [string, number[]][] {
    return [...this.calls.entries()];
  }

  /** Takes back the calls a saved state holds: a restart does not reset a rate window. */
  restore(entries: [string, number[]][]): void {
    for (const [key, list] of entries) this.calls.set(key, [...list]);
  }

  record(key: string): void {
    const list = this.calls.get(key) ?? [];
    list.push(this.clock.now());
    this.calls.set(key, list);
  }
}
