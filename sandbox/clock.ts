/**
 * The sandbox's notion of time. Everything time-dependent (token and code expiry, 5-minute
 * URLs and response cache, the 20-minute and daily rate windows, the 1-hour list window,
 * query completion, notification retries) reads `now()` and schedules through `schedule()`,
 * so a test can `advance()` past any of them instead of waiting.
 */
export class SandboxClock {
  private offsetMs = 0;
  private nextId = 1;
  private readonly tasks = new Map<number, { at: number; run: () => void }>();
  private timer: NodeJS.Timeout | undefined;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves time forward and runs everything that became due, in order. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += ms;
    this.runDue();
  }

  /** Runs `run` once `delayMs` of sandbox time has passed. Returns a cancel function. */
  schedule(delayMs: number, run: () => void): () => void {
    const id = this.nextId++;
    this.tasks.set(id, { at: this.now() + Math.max(0, delayMs), run });
    return () => this.tasks.delete(id);
  }

  /** Starts checking for due tasks in real time (every 20 ms). */
  start(): void {
    this.timer ??= setInterval(() => this.runDue(), 20);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.tasks.clear();
  }

  private runDue(): void {
    for (;;) {
      const now = this.now();
      const due = [...this.tasks.entries()].filter(([, task]) => task.at <= now).sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
      if (due.length === 0) return;
      for (const [id, task] of due) {
        this.tasks.delete(id);
        task.run();
      }
    }
  }
}
