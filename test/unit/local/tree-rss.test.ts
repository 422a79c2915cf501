import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { cpuBetween, sampleTreeCpu, sampleTreeRss, TreeRssPeak } from '../../../local/tree-rss';

const MiB = 1024 * 1024;

/**
 * The report's peak memory is the whole tree's (local/tree-rss.ts): a child's memory must be
 * counted, or a run whose emulator child grows without bound would look fine.
 */
describe('tree RSS', () => {
  it('counts a child process: the sum grows by what the child holds', async () => {
    const before = sampleTreeRss();
    // A child that touches 100 MB (filled, so the pages are resident) and waits until stdin closes.
    const child = spawn(process.execPath, ['-e', 'const b = Buffer.alloc(100 * 1024 * 1024, 1); console.log("ready", b.length); process.stdin.resume(); process.stdin.on("end", () => process.exit(0));'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      expect(line).toBe(`ready ${100 * MiB}`);
      const peak = new TreeRssPeak();
      const during = peak.sample();
      const own = during.processes.get(child.pid!);
      expect(own?.bytes).toBeGreaterThanOrEqual(100 * MiB);
      expect(own?.command).toContain(process.execPath);
      // The main process alone did not grow by 100 MB; the tree did, by the child.
      expect(during.totalBytes - before.totalBytes).toBeGreaterThanOrEqual(90 * MiB);
      expect(peak.peakBytes).toBe(during.totalBytes);
      expect(peak.processes().map((entry) => entry.pid)).toContain(child.pid);
    } finally {
      child.stdin.end();
      await once(child, 'exit');
    }
  });

  it('keeps the peak of the sum and of each process over samples', () => {
    const peak = new TreeRssPeak();
    const first = peak.sample();
    expect(peak.peakBytes).toBe(first.totalBytes);
    expect(peak.processes()[0].pid).toBeGreaterThan(0);
    expect(first.processes.get(process.pid)?.bytes).toBeGreaterThan(0);
  });

  it('measures the CPU time of each process of the tree between two samples, a child’s included', async () => {
    // A child that does a fixed amount of work once told to, then says so and waits until stdin closes.
    const child = spawn(
      process.execPath,
      ['-e', 'console.log("ready"); process.stdin.once("data", () => { let x = 0; for (let i = 0; i < 3e8; i++) x = (x + i) % 7; console.log("done", x); }); process.stdin.on("end", () => process.exit(0));'],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      expect((await lines.next()).value).toBe('ready');
      const before = sampleTreeCpu();
      expect(before.get(child.pid!)?.command).toContain(process.execPath);
      child.stdin.write('go\n');
      expect((await lines.next()).value).toMatch(/^done/);
      const used = cpuBetween(before, sampleTreeCpu());
      const own = used.find((entry) => entry.pid === child.pid);
      // 3e8 iterations take tens of clock ticks on any machine; the child was idle before.
      expect(own?.cpuSeconds).toBeGreaterThan(0.05);
      expect(used.map((entry) => entry.pid)).toContain(process.pid);
      expect(used.map((entry) => entry.cpuSeconds)).toEqual([...used.map((entry) => entry.cpuSeconds)].sort((a, b) => b - a));
    } finally {
      child.stdin.end();
      await once(child, 'exit');
    }
  });
});
