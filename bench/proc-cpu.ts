import { readFileSync } from 'node:fs';

/** User + system CPU seconds of a process or one of its threads, from /proc (Linux; clock ticks of 10 ms). */
export function cpuSecondsOf(pid: number, thread?: string): number {
  const fields = readFileSync(`/proc/${pid}${thread ? `/task/${thread}` : ''}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
