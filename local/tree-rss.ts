import { readdirSync, readFileSync } from 'node:fs';

/**
 * The resident memory of a process and all its descendants, from /proc (Linux): the local
 * system is more than one process (fauxqs runs in a child, esbuild's service in another), and
 * the peak that matters for "fits on this machine" is the sum of all of them at one moment, not
 * the main process's own. Elsewhere than Linux it counts the main process alone.
 */
export interface TreeRss {
  /** Sum of VmRSS over the tree at this sample, in bytes. */
  readonly totalBytes: number;
  /** Per process: pid → { command, bytes }. */
  readonly processes: ReadonlyMap<number, { readonly command: string; readonly bytes: number }>;
}

/** One sample of the tree under `root` (default: this process). */
export function sampleTreeRss(root = process.pid): TreeRss {
  const processes = new Map<number, { command: string; bytes: number }>();
  let totalBytes = 0;
  for (const pid of descendantsOf(root)) {
    const bytes = rssBytes(pid);
    if (bytes === undefined) continue; // gone between the walk and the read
    processes.set(pid, { command: commandOf(pid), bytes });
    totalBytes += bytes;
  }
  if (processes.size === 0) {
    const bytes = root === process.pid ? process.memoryUsage().rss : 0;
    processes.set(root, { command: 'self', bytes });
    totalBytes = bytes;
  }
  return { totalBytes, processes };
}

/** `root` and every process whose parent chain leads to it, from each /proc/<pid>/stat's ppid. */
function descendantsOf(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = parentOf(Number(entry));
    if (ppid === undefined) continue;
    const siblings = children.get(ppid) ?? [];
    siblings.push(Number(entry));
    children.set(ppid, siblings);
  }
  const tree: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    tree.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree.filter((pid) => pid === root || rssBytes(pid) !== undefined);
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command (field 2) is in parentheses and may hold spaces or parentheses itself.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

/**
 * The CPU time (user + system, all threads) each process of the tree under `root` has used so
 * far, from /proc/<pid>/stat: the local system's processes share two cores with whatever else
 * runs, so where the work goes is told by CPU time, which a busy machine skews far less than
 * wall time. Empty elsewhere than Linux.
 */
export function sampleTreeCpu(root = process.pid): Map<number, { command: string; seconds: number }> {
  const processes = new Map<number, { command: string; seconds: number }>();
  for (const pid of descendantsOf(root)) {
    const seconds = cpuSeconds(pid);
    if (seconds !== undefined) processes.set(pid, { command: commandOf(pid), seconds });
  }
  return processes;
}

/** What each process used between two samples of sampleTreeCpu, most first (a process born in between counts from 0). */
export function cpuBetween(
  before: ReadonlyMap<number, { readonly seconds: number }>,
  after: ReadonlyMap<number, { readonly command: string; readonly seconds: number }>,
): { pid: number; command: string; cpuSeconds: number }[] {
  return [...after]
    .map(([pid, { command, seconds }]) => ({ pid, command, cpuSeconds: Math.round((seconds - (before.get(pid)?.seconds ?? 0)) * 100) / 100 }))
    .sort((a, b) => b.cpuSeconds - a.cpuSeconds);
}

/** Clock ticks per second of /proc's utime and stime: 100 on Linux (USER_HZ). */
const TICKS_PER_SECOND = 100;

function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command: state is field 3, utime field 14, stime field 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    // A zombie has no VmRSS line: it holds no memory.
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 120);
  } catch {
    return '';
  }
}

/** Peaks of the tree's memory over many samples: of the sum, and of each process. */
export class TreeRssPeak {
  private peakTotal = 0;
  private readonly perProcess = new Map<number, { command: string; peakBytes: number }>();

  constructor(private readonly root = process.pid) {}

  /** Takes a sample; returns it. */
  sample(): TreeRss {
    const now = sampleTreeRss(this.root);
    this.peakTotal = Math.max(this.peakTotal, now.totalBytes);
    for (const [pid, { command, bytes }] of now.processes) {
      const seen = this.perProcess.get(pid);
      if (!seen || bytes > seen.peakBytes) this.perProcess.set(pid, { command: seen?.command || command, peakBytes: bytes });
    }
    return now;
  }

  /** The highest sum seen in one sample, in bytes. */
  get peakBytes(): number {
    return this.peakTotal;
  }

  /** Each process's own peak, highest first. */
  processes(): { pid: number; command: string; peakBytes: number }[] {
    return [...this.perProcess].map(([pid, peak]) => ({ pid, ...peak })).sort((a, b) => b.peakBytes - a.peakBytes);
  }
}
