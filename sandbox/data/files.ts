import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { hash32, mix32, Rng } from '../random';
import { DATASET_NAMES, DATASETS, schemaFor, type DatasetName } from './datasets';

/** What a query's data is generated from: fixed when the query is created. */
export interface DataSpec {
  /** The customer's seed: the same seed, window and counts always give the same bytes. */
  readonly seed: string;
  /** History window chosen by the customer, epoch ms. */
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly counts: Partial<Record<DatasetName, number>>;
  /** Changes to the customer's data made before the query was created, oldest first. */
  readonly changes?: readonly DataChange[];
  readonly recordsPerFile: number;
  /** Datasets whose first file has an object missing its closing `},` (as the reference's HistoryLog sample). */
  readonly malformed: readonly DatasetName[];
}

/**
 * A change to every dataset of a customer's data: `addPercent` % of the records there are get
 * added (at new points of the window: existing records keep their eventDates), and
 * `changePercent` % of them get new content (same eventDate). Counts are rounded to whole
 * records; which records change is seeded, so the same changes always give the same data.
 */
export interface DataChange {
  readonly addPercent: number;
  readonly changePercent: number;
}

/** How many records a dataset has, how many each change added and which it changed. */
export interface DatasetHistory {
  readonly base: number;
  readonly total: number;
  /** Per change: records before it, records it added, records it changed. */
  readonly steps: readonly { readonly before: number; readonly added: number; readonly changed: number; readonly shift: number }[];
}

export function historyOf(spec: DataSpec, dataset: DatasetName): DatasetHistory {
  const base = spec.counts[dataset] ?? 0;
  let total = base;
  const steps = (spec.changes ?? []).map((change, g) => {
    const before = total;
    const step = { before, added: Math.round((before * change.addPercent) / 100), changed: Math.round((before * change.changePercent) / 100), shift: hash32(`${spec.seed}|${dataset}|change ${g}`) % Math.max(1, before) };
    total += step.added;
    return step;
  });
  return { base, total, steps };
}

/** The last change that gave record `i` new content, or -1: `changed` records spread evenly from a seeded start. */
function lastChangeOf(history: DatasetHistory, i: number): number {
  for (let g = history.steps.length - 1; g >= 0; g--) {
    const { before, changed, shift } = history.steps[g];
    if (i >= before || changed === 0) continue;
    const r = (i - shift + before) % before;
    const j = Math.ceil((r * changed) / before);
    if (j < changed && Math.floor((j * before) / changed) === r) return g;
  }
  return -1;
}

export interface DataFile {
  /** `<dataset>/<index>`, unique within a query. */
  readonly id: string;
  readonly dataset: DatasetName;
  readonly index: number;
  readonly firstRecord: number;
  readonly recordCount: number;
  readonly malformed: boolean;
}

export interface FileStats {
  readonly bytes: number;
  readonly sha256: string;
  readonly records: number;
}

const BATCH = 64;

export function planFiles(spec: DataSpec): DataFile[] {
  const files: DataFile[] = [];
  for (const dataset of DATASET_NAMES) {
    const count = historyOf(spec, dataset).total;
    for (let first = 0, index = 0; first < count; first += spec.recordsPerFile, index++) {
      files.push({
        id: `${dataset}/${index}`,
        dataset,
        index,
        firstRecord: first,
        recordCount: Math.min(spec.recordsPerFile, count - first),
        malformed: index === 0 && spec.malformed.includes(dataset),
      });
    }
  }
  return files;
}

/** Locations and device names shared by a customer's datasets, so they cross-reference. */
function customerWorld(seed: string): { locationIds: string[]; deviceNames: string[] } {
  const rng = new Rng(`${seed}|world`);
  return {
    locationIds: Array.from({ length: rng.int(1, 3) }, () => rng.uuid()),
    deviceNames: Array.from({ length: rng.int(2, 6) }, (_, i) => ['Front Door Camera', 'Backyard Camera', 'Driveway Camera', 'Garage Cam', 'Porch Light Camera', 'Living Room Cam'][i]),
  };
}

/** Record `i` of a dataset: a pure function of the spec, so any file can be regenerated alone. */
export function recordAt(
  spec: DataSpec,
  dataset: DatasetName,
  i: number,
  world = customerWorld(spec.seed),
  datasetSeed = hash32(`${spec.seed}|${dataset}`),
  history = historyOf(spec, dataset),
): Record<string, unknown> {
  const rng = new Rng(mix32(datasetSeed + Math.imul(i + 1, 0x9e3779b9)));
  // Spread records evenly over the window, each at a jittered point of its own slot; records a
  // change added have slots of their own, so earlier records keep their dates.
  const added = history.steps.find((step) => i >= step.before && i < step.before + step.added);
  const [slot, slots] = added ? [i - added.before, added.added] : [i, history.base || 1];
  const span = Math.max(0, spec.windowEnd - spec.windowStart);
  const at = spec.windowStart + Math.floor(((slot + rng.next()) / slots) * span);
  const eventDate = new Date(Math.min(at, spec.windowEnd)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const change = lastChangeOf(history, i);
  const content = change < 0 ? rng : new Rng(mix32(hash32(`${spec.seed}|${dataset}|change ${change}`) + Math.imul(i + 1, 0x9e3779b9)));
  return DATASETS[dataset].generate({ rng: content, eventDate, ...world });
}

/** The data file as a stream of bytes, generated batch by batch as it is read. */
export function fileStream(spec: DataSpec, file: DataFile): Readable {
  const world = customerWorld(spec.seed);
  const datasetSeed = hash32(`${spec.seed}|${file.dataset}`);
  const history = historyOf(spec, file.dataset);
  let next = 0;
  let started = false;
  return new Readable({
    highWaterMark: 64 * 1024,
    read() {
      let text = started ? '' : '[\n';
      started = true;
      const end = Math.min(file.recordCount, next + BATCH);
      for (; next < end; next++) {
        let json = JSON.stringify(recordAt(spec, file.dataset, file.firstRecord + next, world, datasetSeed, history));
        const last = next === file.recordCount - 1;
        if (file.malformed && next === Math.min(1, file.recordCount - 1)) {
          // The reference's HistoryLog sample: an object without its closing `},`.
          json = json.slice(0, -1);
          text += `${json}\n`;
          continue;
        }
        text += last ? `${json}\n` : `${json},\n`;
      }
      if (next >= file.recordCount) {
        this.push(`${text}]\n`);
        this.push(null);
      } else {
        this.push(text);
      }
    },
  });
}

export function schemaText(dataset: DatasetName): string {
  return `${JSON.stringify(schemaFor(dataset), null, 2)}\n`;
}

/** Generates the file once to measure it: bytes, sha256, records. Memory stays flat. */
export async function fileStats(spec: DataSpec, file: DataFile): Promise<FileStats> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fileStream(spec, file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex'), records: file.recordCount };
}

/**
 * Adds a short hash of each record's canonical JSON to `into`, to count distinct records
 * across files. Holds one entry per distinct record: for ground truth, not for streaming.
 */
export function addRecordHashes(spec: DataSpec, file: DataFile, into: Set<string>): void {
  const world = customerWorld(spec.seed);
  const datasetSeed = hash32(`${spec.seed}|${file.dataset}`);
  const history = historyOf(spec, file.dataset);
  for (let i = 0; i < file.recordCount; i++) {
    const record = recordAt(spec, file.dataset, file.firstRecord + i, world, datasetSeed, history);
    // 72 bits (a collision in 6 million records, 2 GB, has odds of about 4e-9): under 13
    // characters V8 copies the slice, where a longer one keeps the whole digest alive.
    into.add(createHash('sha256').update(canonicalJson(record)).digest('base64').slice(0, 12));
  }
}

/** JSON with object keys sorted at every level: equal records give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
