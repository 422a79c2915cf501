import type { Clock } from '../../lambdas/core/ports';
import type { SandboxClock } from '../../sandbox/clock';

interface Sleeper {
  readonly at: number;
  readonly order: number;
  readonly wake: () => void;
  readonly fail: (error: unknown) => void;
}

/**
 * Time for tests, on the sandbox's manual clock: it moves only when every actor is asleep, and
 * then straight to the earliest wake-up. While any actor is doing I/O, time stands still, so a
 * request is never "in flight" across a rate window, a lease never expires under a busy holder
 * and a query never completes early: the outcome does not depend on the machine's speed.
 *
 * The test's own flow is the one actor until `together()` runs several at once. Outside it, a
 * sleep moves the clock at once (as if the wait had happened). Concurrent work that should
 * not see time pass under it must run through `together()`; an actor that waits on another
 * without sleeping, or abandons a sleep, breaks the count.
 */
export class VirtualTime implements Clock {
  private actors = 1;
  private order = 0;
  private sleepers: Sleeper[] = [];

  constructor(private readonly clock: SandboxClock) {
    if (clock.mode !== 'manual') throw new Error('virtual time needs a sandbox clock in manual mode');
  }

  now = (): number => this.clock.now();

  sleep = (ms: number): Promise<void> =>
    new Promise((wake, fail) => {
      this.sleepers.push({ at: this.clock.now() + Math.max(0, ms), order: this.order++, wake, fail });
      this.step();
    });

  /** Runs the tasks as concurrent actors; resolves with every result, or rejects with the first failure once all have ended. */
  async together<T>(tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
    // The caller waits for them: it is not an actor meanwhile.
    this.actors += tasks.length - 1;
    const settled = await Promise.allSettled(
      tasks.map(async (task) => {
        try {
          return await task();
        } finally {
          this.actors--;
          this.step();
        }
      }),
    );
    this.actors++;
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
  }

  private step(): void {
    if (this.sleepers.length === 0 || this.sleepers.length < this.actors) return;
    const at = Math.min(...this.sleepers.map((sleeper) => sleeper.at));
    const due = this.sleepers.filter((sleeper) => sleeper.at === at).sort((a, b) => a.order - b.order);
    this.sleepers = this.sleepers.filter((sleeper) => sleeper.at !== at);
    try {
      this.clock.advanceTo(at);
    } catch (error) {
      // The sandbox failed doing what fell due: those waiting for that time hear of it.
      for (const sleeper of due) sleeper.fail(error);
      return;
    }
    for (const sleeper of due) sleeper.wake();
  }
}

const DAY_MS = 86_400_000;

/**
 * Where tests start the sandbox's manual clock: noon UTC of the real day. Near the real date
 * (emulators stamp real time), and half a day from midnight UTC, where daily quotas reset, so
 * no test's outcome depends on the time of day it runs.
 */
export function middayToday(): number {
  return Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS / 2;
}
