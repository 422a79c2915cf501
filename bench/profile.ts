/**
 * Where the load stage's CPU goes, per record: a V8 CPU profile (`node --cpu-prof`) of one
 * bench worker, summed by function over its self time. The worker is an esbuild bundle, so a
 * function is named with the source module esbuild wrote above it (`// lambdas/…/load.ts`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileEntry {
  readonly name: string;
  readonly module: string;
  readonly selfMs: number;
  readonly share: number;
  readonly usPerRecord: number;
}

/** The `top` functions by self time in the one .cpuprofile written to `dir`. */
export function topSelfTime(dir: string, records: number, top: number): ProfileEntry[] {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const moduleOf = modulesByLine();
  const selfUs = new Map<string, { name: string; module: string; us: number }>();
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    // timeDeltas[i] is the time before sample i: it belongs to the sample before it.
    const us = profile.timeDeltas[index + 1] ?? 0;
    const frame = byId.get(id)!.callFrame;
    const module = frame.url ? moduleOf(frame.url, frame.lineNumber) : '';
    const name = frame.functionName || '(anonymous)';
    const key = `${name}\u0000${module}`;
    const entry = selfUs.get(key) ?? { name, module, us: 0 };
    entry.us += us;
    selfUs.set(key, entry);
    totalUs += us;
  });
  return [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((entry) => ({ name: entry.name, module: entry.module, selfMs: entry.us / 1000, share: entry.us / totalUs, usPerRecord: entry.us / Math.max(1, records) }));
}

/** Maps a line of a bundle to the module esbuild put there; other files keep their own name. */
function modulesByLine(): (url: string, line: number) => string {
  const bundles = new Map<string, { line: number; module: string }[]>();
  return (url, line) => {
    if (!url.startsWith('file://') || !url.endsWith('.js') || !url.includes('/.build/')) return url;
    let starts = bundles.get(url);
    if (!starts) {
      starts = [];
      readFileSync(fileURLToPath(url), 'utf8')
        .split('\n')
        .forEach((text, index) => {
          const match = /^\/\/ ((?:lambdas|bench|local|node_modules)\/\S+)$/.exec(text);
          if (match) starts!.push({ line: index, module: match[1] });
        });
      bundles.set(url, starts);
    }
    let module = path.basename(fileURLToPath(url));
    for (const start of starts) {
      if (start.line > line) break;
      module = start.module;
    }
    return module;
  };
}

export function printProfile(entries: readonly ProfileEntry[], records: number): void {
  console.log(`\nload stage ('parse' task), top self time over ${records} records`);
  console.log(`  ${'µs/record'.padStart(9)} ${'share'.padStart(6)}  function (module)`);
  for (const entry of entries) console.log(`  ${entry.usPerRecord.toFixed(2).padStart(9)} ${`${(entry.share * 100).toFixed(1)}%`.padStart(6)}  ${entry.name} (${entry.module})`);
}
