import type { CustomerProgress } from './demo';

const MiB = 1024 * 1024;

/** One line of the progress block: `of` undefined while it is not known yet. */
export interface ProgressLine {
  readonly name: string;
  readonly done: number;
  readonly of?: number;
  readonly unit: '' | 'MiB' | 'share';
}

/**
 * The progress block's lines, summed over the customers. `import` is the share of the work
 * done (bytes fetched and records loaded), so it moves from the first file on instead of
 * jumping from 0 to 1 when a query is DONE; a total the ground truth has not given yet is
 * unknown rather than 0.
 */
export function progressLines(progress: readonly CustomerProgress[]): ProgressLine[] {
  const sum = (pick: (customer: CustomerProgress) => number) => progress.reduce((total, customer) => total + pick(customer), 0);
  const known = progress.length > 0 && progress.every((customer) => customer.truthKnown);
  const listedAll = progress.length > 0 && progress.every((customer) => customer.truthKnown || customer.files.listed > 0);
  return [
    { name: 'import', done: sum((c) => c.share), of: progress.length, unit: 'share' },
    { name: 'files fetched', done: sum((c) => c.files.fetched), of: listedAll ? sum((c) => c.files.expected) : undefined, unit: '' },
    { name: 'bytes', done: sum((c) => c.bytes.fetched), of: known ? sum((c) => c.bytes.expected) : undefined, unit: 'MiB' },
    { name: 'files loaded', done: sum((c) => c.files.loaded), of: listedAll ? sum((c) => c.files.expected) : undefined, unit: '' },
    { name: 'records', done: sum((c) => c.records.loaded), of: known ? sum((c) => c.records.expected) : undefined, unit: '' },
  ];
}

/** Where the customers' queries stand, e.g. `1 LOADING, 2 DONE`. */
export function stageSummary(progress: readonly CustomerProgress[]): string {
  const stages = new Map<string, number>();
  for (const customer of progress) stages.set(customer.stage, (stages.get(customer.stage) ?? 0) + 1);
  return [...stages.entries()].map(([stage, count]) => `${count} ${stage}`).join(', ');
}

/** Progress bars on a terminal; a plain line every few seconds otherwise (CI logs). */
export class ProgressView {
  private drawn = 0;
  private lastLine = 0;

  constructor(private readonly tty: boolean) {}

  render(progress: CustomerProgress[]): void {
    const lines = progressLines(progress);
    const stages = stageSummary(progress);
    if (this.tty) {
      if (this.drawn > 0) process.stdout.write(`\x1b[${this.drawn}A`);
      for (const line of lines) process.stdout.write(`\x1b[2K${line.name.padEnd(14)} ${bar(line.done, line.of)} ${text(line)}${line.unit === 'share' ? `  (${stages})` : ''}\n`);
      this.drawn = lines.length;
      return;
    }
    if (Date.now() - this.lastLine < 5_000) return;
    this.lastLine = Date.now();
    console.log(`${lines.map((line) => `${line.name} ${text(line).replaceAll(' / ', '/')}`).join(', ')} (${stages})`);
  }

  finish(): void {
    if (!this.tty) console.log('import done');
    console.log('');
  }

  /** Prints a line of its own; the progress block is drawn again below it. */
  interrupt(line: string): void {
    console.log(line);
    this.drawn = 0;
  }
}

function text(line: ProgressLine): string {
  if (line.unit === 'share') return `${line.of ? Math.floor((line.done / line.of) * 100) : 0} %`;
  return `${amount(line.done, line.unit)} / ${line.of === undefined ? '?' : amount(line.of, line.unit)}`;
}

function bar(done: number, of: number | undefined): string {
  const width = 30;
  const filled = of ? Math.min(width, Math.round((done / of) * width)) : 0;
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

export function amount(value: number, unit: string): string {
  return unit === 'MiB' ? `${(value / MiB).toFixed(1)} MiB` : String(value);
}

/**
 * An import's records, in parts that add up: valid records are new, unchanged or repeated in
 * the file (the same record twice, stored once); rejected ones are counted apart.
 */
export function importTotals(totals: Record<string, number>): string {
  const repeated = totals.duplicates ? `, ${totals.duplicates} repeated in the files` : '';
  return `${totals.records} records (${totals.recordsNew} new, ${totals.recordsUnchanged} unchanged${repeated}; ${totals.rejected} rejected)`;
}
