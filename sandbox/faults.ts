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

/** Decides, per call, which fault rules fire. Deterministic for a given seed and call order. */
export class FaultInjector {
  private rules: { rule: FaultRule; fired: number }[] = [];
  private readonly calls = new Map<FaultOperation, number>();
  private rng: Rng;

  constructor(private readonly seed: string) {
    this.rng = new Rng(seed);
  }

  set(rules: FaultRule[]): void {
    this.rules = rules.map((rule) => ({ rule, fired: 0 }));
    this.calls.clear();
    this.rng = new Rng(this.seed);
  }

  list(): (FaultRule & { fired: number })[] {
    return this.rules.map(({ rule, fired }) => ({ ...rule, fired }));
  }

  /** Counts a call of `operation` and returns the rules that fire on it, merged. */
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
      merged = { ...merged, ...effect };
    }
    return merged;
  }
}
