import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock } from '../lambdas/core/ports';
import type { SandboxClock } from '../sandbox/clock';

/** One run of a handler (a Lambda invocation) or of the simulation's own work, and what it did. */
export interface Invocation {
  readonly name: string;
  readonly startedAt: number;
  /** Store operations (reads and writes of the in-memory AWS stores) it made. */
  operations: number;
  /** Calls to Ring (token endpoint and intake) it made. */
  ringCalls: number;
  /** Set while it sleeps on the clock: until when. */
  sleepingUntil?: number;
}

interface Sleeper {
  readonly at: number;
  readonly order: number;
  readonly wake: () => void;
  readonly invocation?: Invocation;
}

interface Timer {
  readonly at: number;
  readonly order: number;
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

/** A binary min-heap. */
export class Heap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.before(items[left], items[smallest])) smallest = left;
        if (right < items.length && this.before(items[right], items[smallest])) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest], items[i]];
        i = smallest;
      }
    }
    return top;
  }
}

const earlier = (a: { at: number; order: number }, b: { at: number; order: number }) => a.at < b.at || (a.at === b.at && a.order < b.order);

/** How long (real time) the engine waits without any store or Ring call before it says which work is stuck. */
const STUCK_AFTER_MS = 120_000;

/**
 * Discrete-event time for the simulation, on the sandbox's manual clock: the product's `Clock`
 * and the sandbox's are the same clock. Work runs as invocations (`spawn`); time stands still
 * while any of them is doing something (a store call, an HTTP call to the sandbox) and moves
 * only when every one is done or asleep, and then straight to the next thing due: a timer
 * (`at`), a sleeper's wake-up, or a task of the sandbox's own (a query completing, a
 * notification retry). Nothing waits in real time, and the outcome does not depend on the
 * machine's speed.
 *
 * Like test/support/virtual-time.ts, with timers of its own and no caller outside an
 * invocation: every piece of work must be spawned, and one invocation sleeps at most once at a
 * time (the product's retries, budget waits and lease polls do).
 */
export class Engine {
  private readonly context = new AsyncLocalStorage<Invocation>();
  private readonly running = new Set<Invocation>();
  private readonly sleepers = new Heap<Sleeper>(earlier);
  private readonly timers = new Heap<Timer>(earlier);
  private order = 0;
  private whenQuiet?: () => void;
  /** When (performance.now) an invocation last called a store or Ring. */
  private lastProgress = 0;
  /** Invocations that threw (a handler's uncaught error: on AWS a failed invocation). */
  readonly failures: { name: string; at: number; error: unknown }[] = [];
  /** Told when an invocation ends, with what it did. */
  onEnd?: (invocation: Invocation, endedAt: number) => void;

  /** The clock the product is given. */
  readonly clock: Clock;

  constructor(private readonly sandboxClock: SandboxClock) {
    if (sandboxClock.mode !== 'manual') throw new Error('the simulation needs the sandbox clock in manual mode');
    this.clock = { now: () => this.sandboxClock.now(), sleep: (ms) => this.sleep(ms) };
  }

  now(): number {
    return this.sandboxClock.now();
  }

  /** The invocation the caller runs in, if any. */
  current(): Invocation | undefined {
    // Every store call and Ring call asks: that is progress, whatever the machine's speed.
    this.lastProgress = performance.now();
    return this.context.getStore();
  }

  /** Runs `run` as an invocation once time reaches `at`. */
  at(at: number, name: string, run: () => Promise<unknown>): void {
    this.timers.push({ at: Math.max(at, this.now()), order: this.order++, name, run });
  }

  /** Runs `run` every `periodMs` from `firstAt`, each run its own invocation (EventBridge does not wait for the previous one). */
  every(firstAt: number, periodMs: number, name: string, run: () => Promise<unknown>): void {
    const tick = (at: number) =>
      this.at(at, name, () => {
        tick(at + periodMs);
        return run();
      });
    tick(firstAt);
  }

  /** Starts `run` now as an invocation; resolves when it ends (failures are recorded, not thrown). */
  spawn(name: string, run: () => Promise<unknown>): Promise<void> {
    const invocation: Invocation = { name, startedAt: this.now(), operations: 0, ringCalls: 0 };
    this.running.add(invocation);
    return this.context.run(invocation, async () => {
      try {
        await run();
      } catch (error) {
        this.failures.push({ name, at: this.now(), error });
      } finally {
        this.running.delete(invocation);
        this.onEnd?.(invocation, this.now());
        this.checkQuiet();
      }
    });
  }

  /**
   * Moves time forward, event by event, until `end` (or until nothing is left to happen): each
   * step waits until every invocation is done or asleep, then jumps to the earliest of the next
   * timer, wake-up and sandbox task.
   */
  async runUntil(end: number): Promise<void> {
    for (;;) {
      await this.quiet();
      const next = min(this.timers.peek()?.at, this.sleepers.peek()?.at, this.sandboxClock.nextDueAt());
      if (next === undefined || next > end) break;
      try {
        // Runs the sandbox's own tasks due by then, each at its own time (next is never past one).
        this.sandboxClock.advanceTo(next);
      } catch (error) {
        this.failures.push({ name: 'sandbox', at: this.now(), error });
      }
      while ((this.sleepers.peek()?.at ?? Number.POSITIVE_INFINITY) <= next) {
        const sleeper = this.sleepers.pop()!;
        if (sleeper.invocation) sleeper.invocation.sleepingUntil = undefined;
        sleeper.wake();
      }
      while ((this.timers.peek()?.at ?? Number.POSITIVE_INFINITY) <= next) {
        const timer = this.timers.pop()!;
        void this.spawn(timer.name, timer.run);
      }
    }
    if (this.now() < end) this.sandboxClock.advanceTo(end);
  }

  /** Invocations still running (asleep, when the run has ended): what a run that stops leaves behind. */
  unfinished(): Invocation[] {
    return [...this.running];
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((wake) => {
      const invocation = this.current();
      const at = this.now() + Math.max(0, ms);
      if (invocation) invocation.sleepingUntil = at;
      this.sleepers.push({ at, order: this.order++, wake, invocation });
      this.checkQuiet();
    });
  }

  private isQuiet(): boolean {
    return this.running.size === this.sleepers.size;
  }

  private quiet(): Promise<void> {
    if (this.isQuiet()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.lastProgress = performance.now();
      const stuck = setInterval(() => {
        if (performance.now() - this.lastProgress < STUCK_AFTER_MS) return;
        clearInterval(stuck);
        const busy = [...this.running].filter((invocation) => invocation.sleepingUntil === undefined).map((invocation) => `${invocation.name} (since ${new Date(invocation.startedAt).toISOString()})`);
        reject(new Error(`the simulation is stuck: ${busy.length} invocation(s) neither finish nor sleep: ${busy.slice(0, 10).join(', ')}`));
      }, 1_000);
      this.whenQuiet = () => {
        clearInterval(stuck);
        resolve();
      };
    });
  }

  private checkQuiet(): void {
    if (this.whenQuiet && this.isQuiet()) {
      const resolve = this.whenQuiet;
      this.whenQuiet = undefined;
      resolve();
    }
  }
}

function min(...values: (number | undefined)[]): number | undefined {
  let least: number | undefined;
  for (const value of values) if (value !== undefined && (least === undefined || value < least)) least = value;
  return least;
}
