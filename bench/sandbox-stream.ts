/**
 * Streams a large file from the sandbox and reports the sandbox process's memory, to show it
 * never holds a file in memory. Runs the sandbox in a child process (so its RSS is its own),
 * samples VmRSS while downloading, and reads VmHWM (the kernel's peak RSS) at the end.
 *
 *   npm run bench -- --size 1GB
 *
 * Prints the baseline (idle sandbox) and the peak during the stream, and their ratio.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { parseArgs } from 'node:util';
import { BYTES_PER_EVENT, listedEventsFile, MiB, parseSize, startSandboxProcess } from './sandbox-process';

function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { size: { type: 'string', default: '1GB' } } });
  const target = parseSize(values.size);

  // The bundle `npm run sandbox` runs (built by `npm run bench` first), not tsx: its own memory.
  const sandbox = await startSandboxProcess((process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean));
  const { child } = sandbox;
  try {
    const listed = await listedEventsFile(sandbox.baseUrl, Math.max(1, Math.round(target / BYTES_PER_EVENT)));
    const baseline = memory(child.pid!);
    let peakSampled = baseline.rss;
    const sampler = setInterval(() => {
      peakSampled = Math.max(peakSampled, memory(child.pid!).rss);
    }, 100);
    const started = Date.now();
    // The first request measures the file (one generation pass) before it streams it.
    const { bytes, sha256 } = await new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
      get(listed.file, (response) => {
        const hash = createHash('sha256');
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          hash.update(chunk);
        });
        response.on('end', () => resolve({ bytes: received, sha256: hash.digest('hex') }));
        response.on('error', reject);
      }).on('error', reject);
    });
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    const after = memory(child.pid!);
    const peak = Math.max(after.hwm, peakSampled);

    console.log(`sandbox stream benchmark (${values.size} requested, Ring.EventManager.Events in one file)`);
    console.log(`  streamed          ${(bytes / MiB).toFixed(1)} MiB, sha256 ${sha256.slice(0, 16)}…`);
    console.log(`  time              ${seconds.toFixed(1)} s for measure + stream (${((2 * bytes) / MiB / seconds).toFixed(1)} MiB/s generated)`);
    console.log(`  baseline RSS      ${(baseline.rss / MiB).toFixed(1)} MiB (idle sandbox, same process)`);
    console.log(`  peak RSS          ${(peak / MiB).toFixed(1)} MiB (VmHWM)`);
    console.log(`  peak / baseline   ${(peak / baseline.rss).toFixed(2)}×; peak / file size ${(peak / bytes).toFixed(3)}`);
  } finally {
    sandbox.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
