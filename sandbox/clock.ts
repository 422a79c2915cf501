import { performance } from 'node:perf_hooks';

export interface ClockInit {
  /** Sandbox time at construction, epoch ms. @default the real time then */
  readonly startAt?: number;
  /**
   * `real`: time flows with the machine's (monotonic) clock from `startAt`, as `npm start`
   * needs. `manual`: it stands still and moves only by `advance()`, so a test says exactly
   * when a query completes or a token expires, however slow the machine.
   * @default 'real'
   */
  readonly mode?: 'real' | 'manual';
}

/**
 * The sandbox's notion of time. Everything time-dependent (token and code expiry, 5-minute
 * URLs and response cache, the 20-minute and daily rate windows, the 1-hour list window,
 * query completion, notification retries, the signing certificate's validity) reads `now()`
 * and schedules through `schedule()`, so a test can `advance()` past any of them instead of
 * waiting, and pick where time starts instead of depending on the day it runs.
 */
export class SandboxClock {
  readonly mode: 'real' | 'manual';
  private readonly startAt: number;
  private readonly realStart = performance.now();
  private offsetMs = 0;
  private nextId = 1;
  private readonly tasks = new Map<number, { at: number; run: () => void }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(init: ClockInit = {}) {
    if (init.startAt !== undefined && !Number.isFinite(init.startAt)) throw new RangeError('clock startAt must be a finite epoch time in ms');
    this.startAt = init.startAt ?? Date.now();
    this.mode = init.mode ?? 'real';
  }

  now(): number {
    const flowed = this.mode === 'real' ? performance.now() - this.realStart : 0;
    return Math.floor(this.startAt + flowed + this.offsetMs);
  }

  /** Moves time forward and runs everything that became due, in order. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += ms;
    this.runDue();
  }

  /** Moves time forward to `at` (no-op if it is already there) and runs what became due. */
  advanceTo(at: number): void {
    this.advance(Math.max(0, at - this.now()));
  }

  /** Runs `run` once `delayMs` of sandbox time has passed. Returns a cancel function. */
  schedule(delayMs: number, run: () => void): () => void {
    const id = this.nextId++;
    this.tasks.set(id, { at: this.now() + Math.max(0, delayMs), run });
    return () => this.tasks.delete(id);
  }

  /**
   * When the earliest scheduled task falls due (epoch ms), or undefined when nothing is
   * scheduled: a driver of manual time (a discrete-event simulation) advances to it, so each
   * task runs at its own time rather than at the end of a longer jump.
   */
  nextDueAt(): number | undefined {
    let earliest: number | undefined;
    for (const task of this.tasks.values()) if (earliest === undefined || task.at < earliest) earliest = task.at;
    return earliest;
  }

  /** Starts checking for due tasks in real time (every 20 ms). */
  start(): void {
    this.timer ??= setInterval(() => {
      try {
        this.runDue();
      } catch (error) {
        console.error('sandbox: a scheduled task failed', error);
      }
    }, 20);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.tasks.clear();
  }

  /** Runs every due task, in order; one that throws does not stop the others, and its error is rethrown after. */
  private runDue(): void {
    const errors: unknown[] = [];
    for (;;) {
      const now = this.now();
      const due = [...this.tasks.entries()].filter(([, task]) => task.at <= now).sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
      if (due.length === 0) break;
      for (const [id, task] of due) {
        this.tasks.delete(id);
        try {
          task.run();
        } catch (error) {
          errors.push(error);
        }
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} sandbox tasks failed`);
  }
}
