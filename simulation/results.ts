import { createDataQueryPace } from '../lambdas/core/ring/rate-limiter';
import { DAY_MS, HOUR_MS, quantile, type FreshnessSample, type WorkStats } from './recorder';
import type { World } from './world';

/** One "done means" criterion: what was measured, against what, and whether it holds. */
export interface Check {
  readonly name: string;
  readonly pass: boolean;
  readonly value: string;
  readonly expected: string;
}

export interface DayResult {
  readonly day: number;
  readonly date: string;
  /** createDataQuery calls Ring answered (any answer). */
  readonly createCalls: number;
  readonly created: number;
  readonly injected: number;
  /** Queries Ring completed that day (successful imports). */
  readonly completed: number;
  readonly minBacklog: number | null;
  /** Connections were waiting at every dispatcher run of the whole day. */
  readonly backlogAllDay: boolean;
  /** createCalls against the capacity, as a fraction (0.004 = 0.4 % over). */
  readonly deviation: number;
}

export interface Results {
  readonly config: Record<string, unknown>;
  readonly capacity: { readonly intervalMs: number; readonly perDay: number; readonly perHour: number; readonly idealRoundRobinDays: number; readonly connectionsWithConsent: number };
  readonly checks: Check[];
  readonly createDataQuery: {
    readonly answers: Record<string, number>;
    readonly calls: number;
    readonly created: number;
    readonly ownPacingRefusals: number;
    readonly ownPacingRefusalSamples: unknown[];
    readonly injected: { readonly total: number; readonly retried: number; readonly notRetried: { customerId: string; at: string; error: string; why: string }[] };
  };
  readonly listDataQueryRecords: { readonly answers: Record<string, number>; readonly ownPacingRefusals: number };
  readonly tokens: { readonly answers: Record<string, number>; readonly refreshes: number; readonly lapsedWhileConsentValid: number; readonly lapsed: unknown[] };
  readonly revocations: {
    readonly revoked: number;
    readonly relinked: number;
    readonly notAttemptedYet: number;
    readonly maxCreateDataQueryCallsBeforeRelink: number;
    readonly maxRingCallsBeforeRelink: number;
    readonly ringCallsAfterRelink: number;
    readonly violations: unknown[];
    readonly connections: unknown[];
  };
  readonly importsPerDay: {
    readonly capacityPerDay: number;
    readonly days: DayResult[];
    readonly backlogDays: number;
    readonly maxDeviationOnBacklogDays: number;
    readonly completedShareOfCapacityOnBacklogDays: number;
  };
  readonly freshness: {
    readonly atEnd: { readonly oldestDays: number; readonly medianDays: number; readonly p95Days: number; readonly connections: number };
    readonly idealDays: number;
    readonly oldestToIdeal: number;
    readonly neverImported: number;
    readonly maxGapDays: number;
    readonly p95MaxGapDays: number;
    readonly histogram: { readonly binDays: number; readonly counts: number[] };
    readonly samples: FreshnessSample[];
  };
  readonly hourly: { readonly created: number[]; readonly fault: number[]; readonly rateLimited: number[]; readonly refused: number[] };
  readonly work: Record<string, WorkStats & { readonly maxVirtualSeconds: number }>;
  readonly queues: Record<string, { readonly sent: number; readonly deadLetters: number; readonly left: number }>;
  readonly notifications: Record<string, number>;
  readonly sandboxQueries: Record<string, number>;
  readonly ringCalls: Record<string, number>;
  readonly productMetrics: Record<string, number>;
  readonly logLines: Record<string, number>;
  readonly failures: { name: string; at: string; error: string }[];
  readonly process: { wallSeconds: number; setupSeconds: number; peakRssMiB: number; heapUsedMiB: number };
}

/** An injected fault this close to the end may not have been retried yet: the retry waits for the connection's next slot. */
const RETRY_HORIZON_MS = 3 * HOUR_MS;

/** Ages are reported to the hour: the histogram's bins. */
const BIN_DAYS = 0.25;

export function computeResults(world: World, timing: { wallSeconds: number; setupSeconds: number }): Results {
  const { recorder, settings, options, sandbox, engine, end } = world;
  const pace = createDataQueryPace(settings.rateLimits.createDataQuery);
  const intervalDays = settings.schedules.importIntervalMinutes / (24 * 60);

  // What Ring completed, from its own records (ground truth for "successful imports"), by day.
  const sandboxQueries: Record<string, number> = {};
  const completedPerDay: number[] = [];
  for (const query of sandbox.state.queries.values()) {
    sandboxQueries[query.status] = (sandboxQueries[query.status] ?? 0) + 1;
    if (query.status === 'COMPLETED' && query.completedAt !== undefined) {
      const day = Math.floor((query.completedAt - recorder.start) / DAY_MS);
      completedPerDay[day] = (completedPerDay[day] ?? 0) + 1;
    }
  }

  const tracks = [...recorder.connections.values()];
  const withConsent = tracks.filter((track) => track.revokedAt === undefined || track.revokedAt > end);
  const idealDays = Math.max(withConsent.length / pace.perDay, intervalDays);

  // Imports per day, against the capacity on the days connections waited all day long.
  const dayCount = Math.ceil((end - recorder.start) / DAY_MS);
  const days: DayResult[] = Array.from({ length: dayCount }, (_, day) => {
    const createCalls = recorder.daily.createCalls[day] ?? 0;
    const minBacklog = recorder.daily.minBacklog[day];
    return {
      day,
      date: new Date(recorder.start + day * DAY_MS).toISOString().slice(0, 10),
      createCalls,
      created: recorder.daily.created[day] ?? 0,
      injected: recorder.daily.injected[day] ?? 0,
      completed: completedPerDay[day] ?? 0,
      minBacklog: minBacklog === undefined || !Number.isFinite(minBacklog) ? null : minBacklog,
      backlogAllDay: minBacklog !== undefined && Number.isFinite(minBacklog) && minBacklog > 0,
      deviation: createCalls / pace.perDay - 1,
    };
  });
  const backlogDays = days.filter((day) => day.backlogAllDay);
  const maxDeviation = backlogDays.reduce((worst, day) => Math.max(worst, Math.abs(day.deviation)), 0);
  const completedShare = backlogDays.length === 0 ? 0 : backlogDays.reduce((sum, day) => sum + day.completed, 0) / (backlogDays.length * pace.perDay);

  // Freshness at the end, and each connection's longest wait between successful imports.
  const atEnd = recorder.samples.at(-1) ?? { at: end, connections: 0, neverImported: 0, oldestAgeDays: 0, medianAgeDays: 0, p95AgeDays: 0 };
  const ages: number[] = [];
  const maxGaps: number[] = [];
  for (const track of withConsent) {
    const last = track.successes.at(-1);
    ages.push((end - (last ?? track.connectedAt)) / DAY_MS);
    let previous = track.connectedAt;
    let maxGap = 0;
    for (const at of track.successes) {
      maxGap = Math.max(maxGap, at - previous);
      previous = at;
    }
    maxGaps.push(maxGap / DAY_MS);
  }
  ages.sort((a, b) => a - b);
  maxGaps.sort((a, b) => a - b);
  const histogram = Array.from({ length: Math.max(1, Math.ceil((ages.at(-1) ?? 0) / BIN_DAYS) + 1) }, () => 0);
  for (const age of ages) histogram[Math.floor(age / BIN_DAYS)]++;

  // Revoked consents: RELINK_REQUIRED within one import attempt, and no Ring call after it.
  const revokedTracks = tracks.filter((track) => track.revokedAt !== undefined);
  const revocationRows = revokedTracks.map((track) => {
    const relinked = track.relinked !== undefined && track.relinked.at >= track.revokedAt! ? track.relinked : undefined;
    const before = relinked ? track.callsAfterRevocation.filter((call) => call.call <= relinked.afterCall) : track.callsAfterRevocation;
    const after = relinked ? track.callsAfterRevocation.filter((call) => call.call > relinked.afterCall) : [];
    return {
      customerId: track.customerId,
      revokedAt: iso(track.revokedAt!),
      relinkedAt: relinked ? iso(relinked.at) : null,
      createDataQueryCallsBeforeRelink: before.filter((call) => call.operation === 'createDataQuery').length,
      ringCallsBeforeRelink: before.length,
      ringCallsAfterRelink: after.length,
    };
  });
  const violations = revocationRows.filter((row) => row.createDataQueryCallsBeforeRelink > 1 || row.ringCallsAfterRelink > 0 || (row.relinkedAt === null && row.ringCallsBeforeRelink > 0));

  // Injected faults: each must have been followed by another createDataQuery call of that customer.
  const notRetried = [...recorder.unretriedFaults.entries()].map(([customerId, fault]) => {
    const track = recorder.connections.get(customerId);
    const why =
      track?.revokedAt !== undefined && track.revokedAt >= fault.at
        ? 'consent revoked before the retry'
        : end - fault.at < RETRY_HORIZON_MS
          ? 'the run ended before the retry'
          : 'NOT RETRIED';
    return { customerId, at: iso(fault.at), error: fault.error, why };
  });

  const createAnswers = Object.fromEntries(recorder.answers.createDataQuery);
  const ownCreate = recorder.ownRateLimited.filter((refusal) => refusal.operation === 'createDataQuery');
  const ownList = recorder.ownRateLimited.filter((refusal) => refusal.operation === 'listDataQueryRecords');
  const work = Object.fromEntries([...recorder.work.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, stats]) => [name, { ...stats, maxVirtualSeconds: stats.maxVirtualMs / 1000 }]));
  const deliveries = sandbox.notifications.deliveries.filter((delivery) => delivery.type === 'Notification');
  const rss = process.resourceUsage().maxRSS * 1024;

  const checks: Check[] = [
    check("createDataQuery refused for a rate limit (the product's own pacing)", ownCreate.length === 0, ownCreate.length, '0'),
    check('listDataQueryRecords refused for a rate limit', ownList.length === 0, ownList.length, '0'),
    check('injected createDataQuery faults (500/429) retried', notRetried.every((row) => row.why !== 'NOT RETRIED'), `${recorder.injectedFaultsRetried} of ${recorder.injectedFaults} retried; ${notRetried.length} not (${notRetried.filter((row) => row.why === 'NOT RETRIED').length} unexplained)`, 'every one, unless revoked or at the end'),
    check('refresh tokens lapsed while the consent was valid', recorder.lapsedTokens.length === 0, recorder.lapsedTokens.length, '0'),
    check(
      'revoked consents: RELINK_REQUIRED within one import attempt, no Ring call after',
      violations.length === 0,
      `${revocationRows.filter((row) => row.relinkedAt).length} of ${revocationRows.length} relinked; at most ${Math.max(0, ...revocationRows.map((row) => row.createDataQueryCallsBeforeRelink))} createDataQuery before; ${revocationRows.reduce((sum, row) => sum + row.ringCallsAfterRelink, 0)} calls after`,
      '≤ 1 attempt, 0 calls after',
    ),
    check(
      'createDataQuery calls per day vs capacity, on days with a backlog all day',
      maxDeviation <= 0.01,
      backlogDays.length === 0 ? 'no day with a backlog all day: capacity was never the bound' : `worst ${(maxDeviation * 100).toFixed(2)} % over ${backlogDays.length} day(s) (capacity ${pace.perDay}/day)`,
      'within 1 %',
    ),
    check('oldest successful-import age at the end vs the ideal round robin', atEnd.oldestAgeDays <= 1.2 * idealDays, `${atEnd.oldestAgeDays.toFixed(2)} d = ${(atEnd.oldestAgeDays / idealDays).toFixed(3)} × ${idealDays.toFixed(2)} d`, '≤ 1.2 ×'),
    check('connections with a valid consent never imported', atEnd.neverImported === 0, atEnd.neverImported, '0'),
    check('unexpected invocation failures', engine.failures.length === 0, engine.failures.length, '0'),
    check('messages in a dead-letter queue', world.queues.imports.deadLetters.length + world.queues.completed.deadLetters.length === 0, world.queues.imports.deadLetters.length + world.queues.completed.deadLetters.length, '0'),
  ];

  return {
    config: {
      connections: options.connections,
      days: options.days,
      limits: options.limits,
      seed: options.seed,
      start: iso(recorder.start),
      end: iso(end),
      importIntervalMinutes: settings.schedules.importIntervalMinutes,
      queryDelaySeconds: options.queryDelaySeconds ?? 120,
      rateLimits: settings.rateLimits.createDataQuery,
      sandboxLimits: sandbox.options.limits,
      refreshTokenIdleDays: sandbox.options.refreshTokenIdleMs / DAY_MS,
      refreshTokenMaxAgeDays: settings.schedules.refreshTokenMaxAgeDays,
      faults: world.faults,
    },
    capacity: { intervalMs: pace.intervalMs, perDay: pace.perDay, perHour: HOUR_MS / pace.intervalMs, idealRoundRobinDays: idealDays, connectionsWithConsent: withConsent.length },
    checks,
    createDataQuery: {
      answers: createAnswers,
      calls: Object.values(createAnswers).reduce((sum, n) => sum + n, 0),
      created: createAnswers['201'] ?? 0,
      ownPacingRefusals: ownCreate.length,
      ownPacingRefusalSamples: ownCreate.slice(0, 10).map((refusal) => ({ ...refusal, at: iso(refusal.at) })),
      injected: { total: recorder.injectedFaults, retried: recorder.injectedFaultsRetried, notRetried },
    },
    listDataQueryRecords: { answers: Object.fromEntries(recorder.answers.listDataQueryRecords), ownPacingRefusals: ownList.length },
    tokens: {
      answers: Object.fromEntries(recorder.answers.token),
      refreshes: recorder.refreshes,
      lapsedWhileConsentValid: recorder.lapsedTokens.length,
      lapsed: recorder.lapsedTokens.slice(0, 20).map((lapse) => ({ ...lapse, at: iso(lapse.at) })),
    },
    revocations: {
      revoked: revocationRows.length,
      relinked: revocationRows.filter((row) => row.relinkedAt).length,
      notAttemptedYet: revocationRows.filter((row) => !row.relinkedAt && row.ringCallsBeforeRelink === 0).length,
      maxCreateDataQueryCallsBeforeRelink: Math.max(0, ...revocationRows.map((row) => row.createDataQueryCallsBeforeRelink)),
      maxRingCallsBeforeRelink: Math.max(0, ...revocationRows.map((row) => row.ringCallsBeforeRelink)),
      ringCallsAfterRelink: revocationRows.reduce((sum, row) => sum + row.ringCallsAfterRelink, 0),
      violations,
      connections: revocationRows,
    },
    importsPerDay: { capacityPerDay: pace.perDay, days, backlogDays: backlogDays.length, maxDeviationOnBacklogDays: maxDeviation, completedShareOfCapacityOnBacklogDays: completedShare },
    freshness: {
      atEnd: { oldestDays: atEnd.oldestAgeDays, medianDays: atEnd.medianAgeDays, p95Days: atEnd.p95AgeDays, connections: atEnd.connections },
      idealDays,
      oldestToIdeal: atEnd.oldestAgeDays / idealDays,
      neverImported: atEnd.neverImported,
      maxGapDays: maxGaps.at(-1) ?? 0,
      p95MaxGapDays: quantile(maxGaps, 0.95),
      histogram: { binDays: BIN_DAYS, counts: histogram },
      samples: recorder.samples,
    },
    hourly: recorder.hourly,
    work,
    queues: Object.fromEntries(Object.entries(world.queues).map(([name, queue]) => [name, { sent: queue.sent, deadLetters: queue.deadLetters.length, left: queue.size }])),
    notifications: {
      sent: deliveries.length,
      dropped: deliveries.filter((delivery) => delivery.dropped).length,
      delivered: deliveries.filter((delivery) => delivery.delivered).length,
      retried: deliveries.filter((delivery) => delivery.attempts.length > 1).length,
    },
    sandboxQueries,
    ringCalls: Object.fromEntries(recorder.ringCalls),
    productMetrics: Object.fromEntries([...recorder.productMetrics.entries()].sort(([a], [b]) => a.localeCompare(b))),
    logLines: Object.fromEntries([...recorder.logLines.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)),
    failures: engine.failures.slice(0, 20).map((failure) => ({ name: failure.name, at: iso(failure.at), error: failure.error instanceof Error ? `${failure.error.name}: ${failure.error.message}` : String(failure.error) })),
    process: { ...timing, peakRssMiB: Math.round(rss / 2 ** 20), heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20) },
  };
}

function check(name: string, pass: boolean, value: string | number, expected: string): Check {
  return { name, pass, value: String(value), expected };
}

function iso(at: number): string {
  return new Date(at).toISOString();
}
