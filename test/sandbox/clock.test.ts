import { performance } from 'node:perf_hooks';
import { SandboxClock } from '../../sandbox/clock';

const START = Date.parse('2031-02-03T04:05:06Z');

/** Lets a little real time pass without a timer (this is what the clock must or must not follow). */
function letRealTimePass(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('sandbox clock', () => {
  it('starts where it is told, in either mode', () => {
    expect(new SandboxClock({ startAt: START, mode: 'manual' }).now()).toBe(START);
    expect(new SandboxClock({ startAt: START }).now() - START).toBeLessThan(60_000);
  });

  it('stands still in manual mode, and moves only by advance()', () => {
    const clock = new SandboxClock({ startAt: START, mode: 'manual' });
    letRealTimePass(15);
    expect(clock.now()).toBe(START);
    clock.advance(1_500);
    expect(clock.now()).toBe(START + 1_500);
    clock.advanceTo(START + 1_000);
    expect(clock.now()).toBe(START + 1_500);
    clock.advanceTo(START + 4_000);
    expect(clock.now()).toBe(START + 4_000);
  });

  it('flows with real time in real mode', () => {
    const clock = new SandboxClock({ startAt: START });
    const before = clock.now();
    letRealTimePass(15);
    expect(clock.now()).toBeGreaterThanOrEqual(before + 10);
  });

  it('runs scheduled work when time reaches it, in order, and not before', () => {
    const clock = new SandboxClock({ startAt: START, mode: 'manual' });
    const ran: string[] = [];
    clock.schedule(2_000, () => ran.push('b'));
    clock.schedule(1_000, () => ran.push('a'));
    const cancel = clock.schedule(1_500, () => ran.push('canceled'));
    cancel();
    clock.advance(999);
    expect(ran).toEqual([]);
    clock.advance(5_000);
    expect(ran).toEqual(['a', 'b']);
  });

  it('says when its earliest task falls due, so a driver can advance exactly to it', () => {
    const clock = new SandboxClock({ startAt: START, mode: 'manual' });
    expect(clock.nextDueAt()).toBeUndefined();
    clock.schedule(2_000, () => undefined);
    const cancel = clock.schedule(500, () => undefined);
    expect(clock.nextDueAt()).toBe(START + 500);
    cancel();
    expect(clock.nextDueAt()).toBe(START + 2_000);
    clock.advanceTo(START + 2_000);
    expect(clock.nextDueAt()).toBeUndefined();
  });

  it('runs every due task even when one throws, then rethrows its error', () => {
    const clock = new SandboxClock({ startAt: START, mode: 'manual' });
    const ran: string[] = [];
    clock.schedule(100, () => {
      throw new Error('broken task');
    });
    clock.schedule(200, () => ran.push('after'));
    expect(() => clock.advance(1_000)).toThrow('broken task');
    expect(ran).toEqual(['after']);
  });

  it('refuses to go back or to start at a non-time', () => {
    expect(() => new SandboxClock({ mode: 'manual' }).advance(-1)).toThrow(RangeError);
    expect(() => new SandboxClock({ startAt: Number.NaN })).toThrow(/startAt/);
  });
});
