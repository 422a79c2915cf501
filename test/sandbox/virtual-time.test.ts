import { SandboxClock } from '../../sandbox/clock';
import { VirtualTime } from '../support/virtual-time';

const START = Date.parse('2031-02-03T04:05:06Z');
const manual = () => new SandboxClock({ startAt: START, mode: 'manual' });

describe('virtual time (the integration tests’ clock)', () => {
  it('refuses a clock that flows by itself', () => {
    expect(() => new VirtualTime(new SandboxClock({ startAt: START }))).toThrow(/manual/);
  });

  it('moves at once for a lone sleeper', async () => {
    const time = new VirtualTime(manual());
    await time.sleep(1_500);
    expect(time.now()).toBe(START + 1_500);
  });

  it('moves only when every actor sleeps, to the earliest wake-up, waking those due in the order they slept', async () => {
    const time = new VirtualTime(manual());
    const woke: string[] = [];
    let release!: () => void;
    const busy = new Promise<void>((resolve) => (release = resolve));
    const running = time.together([
      async () => {
        await time.sleep(1_000);
        woke.push(`a@${time.now() - START}`);
      },
      async () => {
        await time.sleep(1_000);
        woke.push(`b@${time.now() - START}`);
      },
      async () => {
        await busy; // "I/O": time must not move meanwhile
        woke.push(`c saw ${time.now() - START}`);
        await time.sleep(300);
        woke.push(`c@${time.now() - START}`);
      },
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(time.now()).toBe(START);
    release();
    await running;
    expect(woke).toEqual(['c saw 0', 'c@300', 'a@1000', 'b@1000']);
  });

  it('keeps counting right when an actor fails: the others wake on time, then together() rejects', async () => {
    const time = new VirtualTime(manual());
    const woke: number[] = [];
    const outcome = time.together([
      () => Promise.reject(new Error('crashed')),
      async () => {
        await time.sleep(2_000);
        woke.push(time.now() - START);
      },
    ]);
    await expect(outcome).rejects.toThrow('crashed');
    expect(woke).toEqual([2_000]);
    await time.sleep(10);
    expect(time.now()).toBe(START + 2_010);
  });

  it('tells those waiting when the sandbox fails what fell due, and still wakes later sleepers', async () => {
    const clock = manual();
    const time = new VirtualTime(clock);
    clock.schedule(500, () => {
      throw new Error('sandbox task failed');
    });
    let later = false;
    const outcome = time.together([
      () => time.sleep(500),
      async () => {
        await time.sleep(900);
        later = true;
      },
    ]);
    await expect(outcome).rejects.toThrow('sandbox task failed');
    expect(later).toBe(true);
    expect(time.now()).toBe(START + 900);
  });
});
