import type { QueryRecord } from '../lambdas/core/queries/model';
import type { Logger } from '../lambdas/core/ports';
import type { Counter, MetricName } from '../lambdas/shared/metrics';
import type { SandboxEvent } from '../sandbox/observer';
import type { Invocation } from './engine';
import type { RingCall } from './ring-tap';

export const HOUR_MS = 3_600_000;
/** Invocations named so are the simulation's own work, not a handler's. */
export const SIMULATION_WORK = 'simulation:';
export const DAY_MS = 86_400_000;

/** What the simulation knows of one connection while it runs. */
export interface ConnectionTrack {
  readonly customerId: string;
  readonly connectedAt: number;
  revokedAt?: number;
  /** When the product marked it RELINK_REQUIRED, and how many Ring calls had been made by then (all customers'). */
  relinked?: { readonly at: number; readonly afterCall: number };
  /** createdAt of the queries Ring completed for it (successful imports), in order. */
  readonly successes: number[];
  /** Ring calls it made after its consent was revoked: when, what, and the call's number among all. */
  readonly callsAfterRevocation: { at: number; operation: string; status: number; call: number }[];
}

/** Per-invocation work of one handler or task, its maximum and total. */
export interface WorkStats {
  runs: number;
  maxOperations: number;
  maxRingCalls: number;
  maxVirtualMs: number;
  totalOperations: number;
  /** The largest value of each count the handler reported (dispatched, refreshed, probed…). */
  readonly maxReported: Record<string, number>;
}

/** A freshness sample: how old the connections' last successful imports are at one moment. */
export interface FreshnessSample {
  readonly at: number;
  /** Connections with a consent in force at that moment. */
  readonly connections: number;
  readonly neverImported: number;
  readonly oldestAgeDays: number;
  readonly medianAgeDays: number;
  readonly p95AgeDays: number;
}

/**
 * Everything the simulation observes as it runs: every Ring call (the product's wire), every
 * answer and why (the sandbox's observers), every invocation's work, every query Ring
 * completed as the product learnt of it, the product's own metrics and log lines. Results are
 * computed from it at the end (results.ts).
 */
export class Recorder {
  readonly connections = new Map<string, ConnectionTrack>();
  /** createDataQuery answers per hour, by outcome. */
  readonly hourly = { created: [] as number[], fault: [] as number[], rateLimited: [] as number[], refused: [] as number[] };
  /** Per simulated day. */
  readonly daily = {
    createCalls: [] as number[],
    created: [] as number[],
    injected: [] as number[],
    /** The smallest backlog a dispatcher run reported that day (undefined: no run). */
    minBacklog: [] as (number | undefined)[],
    dispatched: [] as number[],
  };
  readonly samples: FreshnessSample[] = [];
  readonly answers = {
    createDataQuery: new Map<string, number>(),
    listDataQueryRecords: new Map<string, number>(),
    token: new Map<string, number>(),
  };
  /** Refusals for a rate limit, which only the product's own pacing can cause (injected ones are faults). */
  readonly ownRateLimited: { at: number; operation: string; error: string; customerId?: string }[] = [];
  /** Refresh tokens refused as expired while their consent was in force. */
  readonly lapsedTokens: { at: number; customerId?: string }[] = [];
  /** Injected createDataQuery faults not yet followed by another createDataQuery call of the same customer. */
  readonly unretriedFaults = new Map<string, { at: number; error: string }>();
  injectedFaults = 0;
  injectedFaultsRetried = 0;
  refreshes = 0;
  readonly work = new Map<string, WorkStats>();
  readonly productMetrics = new Map<string, number>();
  readonly logLines = new Map<string, number>();
  readonly ringCalls = new Map<string, number>();

  constructor(
    readonly start: number,
    readonly end: number,
  ) {}

  connected(customerId: string, at: number): void {
    this.connections.set(customerId, { customerId, connectedAt: at, successes: [], callsAfterRevocation: [] });
  }

  revoked(customerId: string, at: number): void {
    const track = this.connections.get(customerId);
    if (track) track.revokedAt = at;
  }

  /** A query Ring completed, as the product learnt of it (notification or polling). */
  succeeded(query: QueryRecord): void {
    const successes = this.connections.get(query.customerId)?.successes;
    if (!successes) return;
    const createdAt = Date.parse(query.createdAt);
    let at = successes.length;
    while (at > 0 && successes[at - 1] > createdAt) at--;
    successes.splice(at, 0, createdAt);
  }

  /** The product marked a connection RELINK_REQUIRED. */
  relinked(customerId: string, at: number): void {
    const track = this.connections.get(customerId);
    if (track && !track.relinked) track.relinked = { at, afterCall: this.calls };
  }

  /** Ring calls so far. */
  calls = 0;

  ringCall(call: RingCall): void {
    this.calls++;
    this.ringCalls.set(call.operation, (this.ringCalls.get(call.operation) ?? 0) + 1);
    if (call.customerId === undefined) return;
    const track = this.connections.get(call.customerId);
    if (track?.revokedAt !== undefined && call.at >= track.revokedAt) track.callsAfterRevocation.push({ at: call.at, operation: call.operation, status: call.status, call: this.calls });
  }

  sandboxEvent(event: SandboxEvent): void {
    if (event.kind === 'token') {
      bump(this.answers.token, event.error ?? String(event.status));
      if (event.status === 200 && event.grantType === 'refresh_token') this.refreshes++;
      if (event.refreshRefusal === 'expired' && event.consentActive) this.lapsedTokens.push({ at: event.at, customerId: event.customerId });
      return;
    }
    if (!event.operation) return;
    bump(this.answers[event.operation], event.error ?? String(event.status));
    if (event.origin === 'rate-limit') this.ownRateLimited.push({ at: event.at, operation: event.operation, error: event.error!, customerId: event.customerId });
    if (event.operation !== 'createDataQuery') return;
    const hour = this.index(event.at, HOUR_MS);
    const day = this.index(event.at, DAY_MS);
    add(this.daily.createCalls, day);
    if (event.customerId !== undefined && this.unretriedFaults.delete(event.customerId)) this.injectedFaultsRetried++;
    if (event.origin === 'fault') {
      this.injectedFaults++;
      add(this.hourly.fault, hour);
      add(this.daily.injected, day);
      if (event.customerId !== undefined) this.unretriedFaults.set(event.customerId, { at: event.at, error: event.error! });
    } else if (event.origin === 'rate-limit') add(this.hourly.rateLimited, hour);
    else if (event.error) add(this.hourly.refused, hour);
    else {
      add(this.hourly.created, hour);
      add(this.daily.created, day);
    }
  }

  invocationEnded(invocation: Invocation, endedAt: number): void {
    // The simulation's own work (connecting customers, polling queues, sampling) is not the product's.
    if (invocation.name.startsWith(SIMULATION_WORK)) return;
    const stats = this.statsOf(invocation.name);
    stats.runs++;
    stats.maxOperations = Math.max(stats.maxOperations, invocation.operations);
    stats.maxRingCalls = Math.max(stats.maxRingCalls, invocation.ringCalls);
    stats.maxVirtualMs = Math.max(stats.maxVirtualMs, endedAt - invocation.startedAt);
    stats.totalOperations += invocation.operations;
  }

  /** What a scheduled task's handler answered: the largest of each count, and the dispatcher's backlog. */
  taskResult(task: string, result: Record<string, unknown>, at: number): void {
    const stats = this.statsOf(task);
    for (const [name, value] of Object.entries(result)) {
      if (typeof value === 'number') stats.maxReported[name] = Math.max(stats.maxReported[name] ?? 0, value);
    }
    if (task === 'dispatch-imports') {
      const day = this.index(at, DAY_MS);
      const backlog = Object.values((result.backlog ?? {}) as Record<string, number>).reduce((sum, n) => sum + n, 0);
      this.daily.minBacklog[day] = Math.min(this.daily.minBacklog[day] ?? Number.POSITIVE_INFINITY, backlog);
      add(this.daily.dispatched, day, typeof result.dispatched === 'number' ? result.dispatched : 0);
    }
  }

  /** How old every connection's last successful import is now (consents in force only). */
  sample(at: number): void {
    const ages: number[] = [];
    let neverImported = 0;
    for (const track of this.connections.values()) {
      if (track.revokedAt !== undefined && track.revokedAt <= at) continue;
      const last = lastBefore(track.successes, at);
      if (last === undefined) neverImported++;
      ages.push((at - (last ?? track.connectedAt)) / DAY_MS);
    }
    ages.sort((a, b) => a - b);
    this.samples.push({
      at,
      connections: ages.length,
      neverImported,
      oldestAgeDays: ages.at(-1) ?? 0,
      medianAgeDays: quantile(ages, 0.5),
      p95AgeDays: quantile(ages, 0.95),
    });
  }

  /** The product's metrics, summed as CloudWatch would. */
  readonly counter: Counter = {
    count: (name: MetricName, value = 1) => {
      this.productMetrics.set(name, (this.productMetrics.get(name) ?? 0) + value);
    },
  };

  /** The product's log lines, counted by level and message (none printed). */
  readonly logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => bump(this.logLines, `WARN ${message}`),
    error: (message) => bump(this.logLines, `ERROR ${message}`),
  };

  private statsOf(name: string): WorkStats {
    let stats = this.work.get(name);
    if (!stats) this.work.set(name, (stats = { runs: 0, maxOperations: 0, maxRingCalls: 0, maxVirtualMs: 0, totalOperations: 0, maxReported: {} }));
    return stats;
  }

  private index(at: number, size: number): number {
    return Math.max(0, Math.floor((at - this.start) / size));
  }
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function add(series: number[], index: number, value = 1): void {
  for (let i = series.length; i <= index; i++) series.push(0);
  series[index] += value;
}

function lastBefore(sorted: readonly number[], at: number): number | undefined {
  for (let i = sorted.length - 1; i >= 0; i--) if (sorted[i] <= at) return sorted[i];
  return undefined;
}

/** The value below which `q` of the sorted values lie (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
