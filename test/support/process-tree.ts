import { readdirSync, readFileSync } from 'node:fs';

/** `pid` and every process under it, from /proc's children lists. */
export function processTree(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) children.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  } catch {
    // It ended while we looked.
  }
  return [pid, ...children.flatMap(processTree)];
}

/** Running, as opposed to gone or a zombie waiting for a parent that already left (it holds no socket). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
