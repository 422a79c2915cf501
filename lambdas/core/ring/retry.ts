import type { Clock } from '../ports';
import { RetryLaterError } from './errors';

/** The reference's example schedule: 1, 2, 4, 10 and 30 seconds. */
export const RETRY_SCHEDULE_SECONDS = [1, 2, 4, 10, 30] as const;

export interface RetryOptions {
  readonly clock: Clock;
  readonly scheduleSeconds?: readonly number[];
  /** Spread of each wait: 0.2 = ±20 %. */
  readonly jitter?: number;
  readonly random?: () => number;
  /** Upper bound on the total time spent waiting. @default the schedule's sum */
  readonly maxTotalSeconds?: number;
  /**
   * Milliseconds this invocation may still run (Lambda's getRemainingTimeInMillis). A wait that
   * would not fit is not slept: a RetryLaterError tells the caller to re-queue instead.
   */
  readonly remainingMs?: () => number;
  /** Time kept free at the end of the invocation. @default 5 s */
  readonly safetyMs?: number;
}

export interface RetryVerdict {
  readonly retry: boolean;
  /** A wait the server asked for (Retry-After), in seconds. */
  readonly retryAfterSeconds?: number;
}

/**
 * Calls `operation` until it succeeds, `classify` says an error is final, or the schedule is
 * used up (the last error is thrown). Waits follow the schedule with jitter, never shorter
 * than a Retry-After, and never past the invocation's remaining time.
 */
export async function withRetries<T>(operation: (attempt: number) => Promise<T>, classify: (error: unknown) => RetryVerdict, options: RetryOptions): Promise<T> {
  const schedule = options.scheduleSeconds ?? RETRY_SCHEDULE_SECONDS;
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  const maxTotalMs = Math.round((options.maxTotalSeconds ?? schedule.reduce((sum, seconds) => sum + seconds, 0)) * 1000 * (1 + jitter));
  const safetyMs = options.safetyMs ?? 5_000;
  let waitedMs = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const verdict = classify(error);
      if (!verdict.retry || attempt >= schedule.length) throw error;
      const scheduled = Math.round(schedule[attempt] * 1000 * (1 - jitter + 2 * jitter * random()));
      const waitMs = Math.max(scheduled, (verdict.retryAfterSeconds ?? 0) * 1000);
      const remaining = options.remainingMs?.();
      if (waitedMs + waitMs > maxTotalMs || (remaining !== undefined && waitMs > remaining - safetyMs)) {
        throw new RetryLaterError(Math.ceil(waitMs / 1000), 'the retry wait does not fit in this invocation', error);
      }
      await options.clock.sleep(waitMs);
      waitedMs += waitMs;
    }
  }
}
