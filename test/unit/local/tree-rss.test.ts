import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { sampleTreeRss, TreeRssPeak } from '../../../local/tree-rss';

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
});
