import type { ConnectionRecord, LastImport } from '../../../../lambdas/core/connections/model';
import type { WorkQueue } from '../../../../lambdas/core/ports';
import { admitImport, dispatchImports, releaseImport, settleDispatch } from '../../../../lambdas/core/queries/admission';
import { parseSettings, type SettingsInput } from '../../../../lambdas/core/settings';
import { MemoryImportScheduleStore } from '../../../../local/memory/import-schedule';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const DAY = 86_400_000;

/** A world of N ring connections on a manual clock, the dispatcher run every minute. */
function world(n: number, settings: SettingsInput = {}) {
  let now = Date.parse('2026-01-01T00:00:00.000Z');
  const clock = { now: () => now, sleep: () => Promise.resolve() };
  const schedule = new MemoryImportScheduleStore();
  const records = new Map<string, ConnectionRecord>();
  const connections = {
    get: (customerId: string) => Promise.resolve(records.get(customerId)),
    recordImport: (_customerId: string, _last: LastImport) => Promise.resolve(),
  };
  const sent: { customerId: string; ticket: string; at: number; reason: string }[] = [];
  const imports: WorkQueue = { send: (body, options) => Promise.resolve(void sent.push({ ...(body as { customerId: string; ticket: string; reason: string }), at: now + (options?.delaySeconds ?? 0) * 1000 })) };
  const parsed = parseSettings({ brands: ['ring'], ...settings });
  const deps = { settings: parsed, schedule, connections, imports, clock, logger: quiet };
  const connect = async (customerId: string) => {
    records.set(customerId, { customerId, brand: 'ring', region: 'eu-west-1', scopeId: 's', status: 'ACTIVE', secretId: customerId, connectedAt: new Date(now).toISOString() });
    await admitImport({ schedule, clock, logger: quiet }, { customerId, brand: 'ring', reason: 'connected', requestedAt: new Date(now).toISOString() });
  };
  return {
    deps,
    schedule,
    sent,
    records,
    connect,
    advance: (ms: number) => void (now += ms),
    now: () => now,
    /** Every dispatched import succeeds at once (its query created at its slot). */
    async succeedAll() {
      for (const message of sent.splice(0)) {
        await settleDispatch({ schedule, clock, logger: quiet }, message.customerId, message.ticket, { outcome: 'requested', queryId: `q-${message.ticket}` });
        await releaseImport({ schedule, clock, logger: quiet, intervalMs: parsed.schedules.importIntervalMinutes * 60_000 }, message.customerId, { queryId: `q-${message.ticket}`, createdAt: new Date(message.at).toISOString(), succeeded: true });
      }
    },
    n,
  };
}

describe('dispatchImports', () => {
  it('paces the reference limits to one import every 60 s: 1,439 a day, never 21 in any 20 minutes', async () => {
    const w = world(3_000);
    for (let i = 0; i < w.n; i++) await w.connect(`c${i}`);
    const times: number[] = [];
    for (let minute = 0; minute < 24 * 60; minute++) {
      await dispatchImports(w.deps);
      times.push(...w.sent.map((message) => message.at));
      await w.succeedAll();
      w.advance(60_000);
    }
    expect(times.length).toBeGreaterThanOrEqual(1_438);
    expect(times.length).toBeLessThanOrEqual(1_440);
    // Delays are whole seconds: at most a second of rounding, which the rate limiter's own check absorbs.
    for (let i = 20; i < times.length; i++) expect(times[i] - times[i - 20]).toBeGreaterThanOrEqual(20 * 60_000 - 1_000);
  });

  it('paces the 1/s + 1,500/day variant under its daily quota', async () => {
    const w = world(3_000, { rateLimits: { createDataQuery: { perSecond: 1, perWindow: null, perDay: 1_500 } } });
    for (let i = 0; i < w.n; i++) await w.connect(`c${i}`);
    const perDay = new Map<number, number>();
    for (let minute = 0; minute < 2 * 24 * 60; minute++) {
      await dispatchImports(w.deps);
      for (const message of w.sent) perDay.set(Math.floor(message.at / DAY), (perDay.get(Math.floor(message.at / DAY)) ?? 0) + 1);
      await w.succeedAll();
      w.advance(60_000);
    }
    for (const count of perDay.values()) expect(count).toBeLessThanOrEqual(1_500);
    expect(Math.max(...perDay.values())).toBeGreaterThanOrEqual(1_485);
  });

  it('serves first imports first, then requests, then recurring ones oldest successful import first; nobody twice while another waits', async () => {
    const w = world(0, { schedules: { importIntervalMinutes: 60 } });
    for (const id of ['a', 'b', 'c']) await w.connect(id);
    for (let minute = 0; minute < 3; minute++) {
      await dispatchImports(w.deps);
      await w.succeedAll();
      w.advance(60_000);
    }
    w.advance(2 * 3_600_000); // all three due again, a first
    await w.connect('new');
    await admitImport({ schedule: w.schedule, clock: w.deps.clock, logger: quiet }, { customerId: 'c', brand: 'ring', reason: 'requested', requestedAt: new Date(w.now()).toISOString() });
    const order: string[] = [];
    for (let minute = 0; minute < 5; minute++) {
      await dispatchImports(w.deps);
      order.push(...w.sent.map((message) => message.customerId));
      await w.succeedAll();
      w.advance(60_000);
    }
    expect(order).toEqual(['new', 'c', 'a', 'b']);
  });

  it('a refused attempt waits again in its place, not before its retry time', async () => {
    const w = world(0);
    for (const id of ['a', 'b']) await w.connect(id);
    await dispatchImports(w.deps);
    const [first] = w.sent.splice(0);
    expect(first.customerId).toBe('a');
    await settleDispatch({ schedule: w.schedule, clock: w.deps.clock, logger: quiet }, 'a', first.ticket, { outcome: 'retry', retryAt: w.now() + 90_000 });
    w.advance(60_000);
    await dispatchImports(w.deps);
    expect(w.sent.splice(0).map((message) => message.customerId)).toEqual(['b']);
    w.advance(60_000);
    await dispatchImports(w.deps);
    expect(w.sent.map((message) => message.customerId)).toEqual(['a']);
  });

  it('reports the backlog and the oldest import age, and drops connections that no longer import', async () => {
    const w = world(0);
    for (const id of ['a', 'b', 'c']) await w.connect(id);
    w.records.set('b', { ...w.records.get('b')!, status: 'REVOKED' });
    w.advance(3_600_000);
    const result = await dispatchImports(w.deps);
    expect(result).toMatchObject({ dispatched: 1, backlog: { ring: 2 } });
    expect(result.oldestImportAgeHours).toBeCloseTo(1, 5);
    w.advance(60_000);
    expect(await dispatchImports(w.deps)).toMatchObject({ dispatched: 0, backlog: { ring: 1 } });
    expect(await w.schedule.get('b')).toBeUndefined();
  });
});
