import { z } from 'zod';
import { INTAKE_ERROR_NAMES, OAUTH_ERRORS } from './errors';
import { Rng } from './random';

export const FAULT_OPERATIONS = ['authorize', 'token', 'createDataQuery', 'listDataQueryRecords', 'download', 'notification'] as const;
export type FaultOperation = (typeof FAULT_OPERATIONS)[number];

/** S3 errors a download can fail with. */
export const DOWNLOAD_ERRORS = ['InternalError', 'SlowDown', 'ServiceUnavailable', 'AccessDenied'] as const;

export const FaultRule = z
  .strictObject({
    operation: z.enum(FAULT_OPERATIONS),
    /** Fire on these call numbers of the operation (1 = its first call after the rule was set). */
    nth: z.array(z.number().int().positive()).optional(),
    /** Fire with this probability (seeded, so a run is repeatable). */
    probability: z.number().min(0).max(1).optional(),
    /** Stop after firing this many times. */
    times: z.number().int().positive().optional(),
    /** Intake error name from the reference's table (createDataQuery, listDataQueryRecords). */
    error: z.enum(INTAKE_ERROR_NAMES as [string, ...string[]]).optional(),
    /** OAuth error (authorize redirects with it, token answers it). */
    oauthError: z.enum(OAUTH_ERRORS).optional(),
    /** S3-style error for a download. */
    downloadError: z.enum(DOWNLOAD_ERRORS).optional(),
    latencyMs: z.number().int().min(0).max(120_000).optional(),
    /** Intake: send this Retry-After (seconds) with the injected error. */
    retryAfterSeconds: z.number().int().min(0).max(86_400).optional(),
    /** Download: close the connection after this many body bytes. */
    cutAfterBytes: z.number().int().min(0).optional(),
    /** Notification: sent, but lost on the way (the app never receives it, and listing opens as usual). */
    drop: z.boolean().optional(),
    /** Notification: sent twice with the same MessageId. */
    duplicate: z.boolean().optional(),
    /** Notification: sent this much (sandbox) time later. */
    delayMs: z.number().int().min(0).optional(),
    /** Notification: held back until the next one has been sent. */
    reorder: z.boolean().optional(),
  })
  .refine((rule) => rule.nth !== undefined || rule.probability !== undefined, {
    message: 'a fault rule needs `nth` or `probability`',
  });
export type FaultRule = z.infer<typeof FaultRule>;

/**
 * What the injected faults did, by kind, since the rules were last set: what a run's summary
 * reports, counted where each fault takes effect rather than when its rule fires (a cut after
 * 4 KiB of a 1 KiB file cuts nothing; a notification lost is one the app never saw).
 */
export interface FaultCounts {
  /** Calls of each operation the fault rules were consulted on (a download's data or schema file, an intake call, a notification sent). */
  readonly calls: Partial<Record<FaultOperation, number>>;
  /** Intake and token calls answered with an injected error, per operation, by HTTP status. */
  readonly api: Partial<Record<FaultOperation, Record<string, number>>>;
  /** Authorize requests redirected back with an injected OAuth error, by error code. */
  readonly authorize: Record<string, number>;
  readonly downloads: {
    /** Connections closed in the middle of the body. */
    cut: number;
    /** Downloads answered with an injected S3 error instead of the file, by S3 error code. */
    readonly refused: Record<string, number>;
  };
  readonly notifications: {
    /** Sent, never delivered: the app must poll for them. */
    lost: number;
    /** Delivered a second time with the same MessageId. */
    duplicated: number;
    /** Sent later than the query ended. */
    delayed: number;
    /** Held back until the next notification had been answered. */
    reordered: number;
  };
}

function noFaults(): FaultCounts {
  return { calls: {}, api: {}, authorize: {}, downloads: { cut: 0, refused: {} }, notifications: { lost: 0, duplicated: 0, delayed: 0, reordered: 0 } };
}

/** Decides, per call, which fault rules fire. Deterministic for a given seed and call order. */
export class FaultInjector {
  private rules: { rule: FaultRule; fired: number }[] = [];
  private readonly calls = new Map<FaultOperation, number>();
  private rng: Rng;
  private tally = noFaults();

  constructor(private readonly seed: string) {
    this.rng = new Rng(seed);
  }

  set(rules: FaultRule[]): void {
    this.rules = rules.map((rule) => ({ rule, fired: 0 }));
    this.calls.clear();
    this.rng = new Rng(this.seed);
    this.tally = noFaults();
  }

  /** A copy of what the injected faults did since the rules were last set. */
  counts(): FaultCounts {
    return { ...structuredClone(this.tally), calls: Object.fromEntries(this.calls) };
  }

  /** An intake or token call answered with an injected error. */
  countApiError(operation: FaultOperation, status: number): void {
    const byStatus = (this.tally.api[operation] ??= {});
    byStatus[status] = (byStatus[status] ?? 0) + 1;
  }

  countAuthorizeError(code: string): void {
    this.tally.authorize[code] = (this.tally.authorize[code] ?? 0) + 1;
  }

  countDownloadCut(): void {
    this.tally.downloads.cut++;
  }

  countDownloadRefused(code: string): void {
    this.tally.downloads.refused[code] = (this.tally.downloads.refused[code] ?? 0) + 1;
  }

  countNotification(effect: keyof FaultCounts['notifications']): void {
    this.tally.notifications[effect]++;
  }

  list(): (FaultRule & { fired: number })[] {
    return this.rules.map(({ rule, fired }) => ({ ...rule, fired }));
  }

  /** Counts a call of `operation` and returns the rules that fire on it, merged (a later rule's effect wins). */
  next(operation: FaultOperation): Omit<FaultRule, 'operation' | 'nth' | 'probability' | 'times'> | undefined {
    const call = (this.calls.get(operation) ?? 0) + 1;
    this.calls.set(operation, call);
    let merged: Omit<FaultRule, 'operation' | 'nth' | 'probability' | 'times'> | undefined;
    for (const entry of this.rules) {
      const { rule } = entry;
      if (rule.operation !== operation) continue;
      if (rule.times !== undefined && entry.fired >= rule.times) continue;
      const fires = (rule.nth?.includes(call) ?? false) || (rule.probability !== undefined && this.rng.chance(rule.probability));
      if (!fires) continue;
      entry.fired++;
      const { operation: _o, nth: _n, probability: _p, times: _t, ...effect } = rule;
      // A download is either refused or cut, never both: a later rule's outcome replaces an
      // earlier one's, so a rule listed last wins however the earlier ones fired.
      if (merged && (effect.downloadError !== undefined || effect.cutAfterBytes !== undefined)) {
        const { downloadError: _e, cutAfterBytes: _c, ...rest } = merged;
        merged = rest;
      }
      merged = { ...merged, ...effect };
    }
    return merged;
  }
}
