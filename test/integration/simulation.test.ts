import { MAX_DISPATCH_PER_RUN } from '../../lambdas/core/queries/admission';
import { POLL_BATCH, TOKEN_KEEPER_BATCH } from '../../lambdas/core/queries/schedule';
import type { Results } from '../../simulation/results';
import { simulate } from '../../simulation/simulate';
import type { LimitProfile } from '../../simulation/limits';

/**
 * The product's real handlers against the sandbox on virtual time (simulation/, README:
 * "Simulating a month at scale"), at 1,000 connections: each wants an import every 12 hours,
 * more than Ring's limits allow (about 1,440 a day), so a backlog lasts the whole run and the
 * pacing is measured at capacity. `npm run simulate` runs the month at 10,000.
 */
const CONNECTIONS = 1_000;

// A bound, not an expectation: about a minute per run on a 2-core machine.
const BOUND_MS = 300_000;

function failedChecks(results: Results): string[] {
  return results.checks.filter((check) => !check.pass).map((check) => `${check.name}: ${check.value} (expected ${check.expected})`);
}

describe.each<[LimitProfile, number]>([
  ['reference', 7],
  // Shorter: the same product code under the other limits; three quota days are enough to see the daily cap held.
  ['amazon-daily', 3],
])('%s limits: 1,000 connections for %i days', (limits, days) => {
  let results: Results;
  beforeAll(async () => {
    results = await simulate({ connections: CONNECTIONS, days, limits, seed: 7, importIntervalMinutes: 12 * 60 });
  }, BOUND_MS);

  it('meets every "done means" check', () => {
    expect(failedChecks(results)).toEqual([]);
  });

  it("gets no rate-limit refusal of its own making, and retries every injected 500/429", () => {
    expect(results.createDataQuery.ownPacingRefusals).toBe(0);
    expect(results.listDataQueryRecords.ownPacingRefusals).toBe(0);
    // About 5 % of the calls were answered by an injected fault, and each was asked again.
    expect(results.createDataQuery.injected.total).toBeGreaterThan(0.03 * results.createDataQuery.calls);
    expect(results.createDataQuery.injected.notRetried.filter((fault) => fault.why === 'NOT RETRIED')).toEqual([]);
  });

  it('lets no refresh token lapse while its consent is valid', () => {
    expect(results.tokens.lapsedWhileConsentValid).toBe(0);
  });

  it('takes every revoked consent to RELINK_REQUIRED within one import attempt, and calls Ring no more for it', () => {
    const { revocations } = results;
    expect(revocations.revoked).toBe(CONNECTIONS / 100);
    expect(revocations.violations).toEqual([]);
    expect(revocations.maxCreateDataQueryCallsBeforeRelink).toBeLessThanOrEqual(1);
    expect(revocations.ringCallsAfterRelink).toBe(0);
    // Those not yet relinked made no Ring call since they were revoked: their turn had not come.
    expect(revocations.relinked + revocations.notAttemptedYet).toBe(revocations.revoked);
  });

  it('calls createDataQuery at capacity, within 1 %, on every day with a backlog', () => {
    const { importsPerDay } = results;
    expect(importsPerDay.backlogDays).toBe(days);
    for (const day of importsPerDay.days) expect(Math.abs(day.deviation)).toBeLessThanOrEqual(0.01);
    // The injected faults (5 %) are the calls that do not complete.
    expect(importsPerDay.completedShareOfCapacityOnBacklogDays).toBeGreaterThan(0.9);
  });

  it('keeps the oldest import within 1.2 × the ideal round robin, and starves no connection', () => {
    const { freshness } = results;
    expect(freshness.oldestToIdeal).toBeLessThanOrEqual(1.2);
    expect(freshness.neverImported).toBe(0);
    expect(freshness.maxGapDays).toBeLessThanOrEqual(1.2 * freshness.idealDays);
  });

  it('bounds the work of each scheduled invocation', () => {
    expect(results.work['dispatch-imports'].maxReported.dispatched).toBeLessThanOrEqual(MAX_DISPATCH_PER_RUN);
    expect(results.work['token-keeper'].maxReported.checked ?? 0).toBeLessThanOrEqual(TOKEN_KEEPER_BATCH);
    expect(results.work['poll-overdue'].maxReported.probed ?? 0).toBeLessThanOrEqual(POLL_BATCH);
  });
});
