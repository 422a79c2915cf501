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
  readonly recordsPerFile: number;
  /** Datasets whose first file has an object missing its closing `},` (as the reference's HistoryLog sample). */
  readonly malformed: readonly DatasetName[];
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
    const count = spec.counts[dataset] ?? 0;
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
): Record<string, unknown> {
  const rng = new Rng(mix32(datasetSeed + Math.imul(i + 1, 0x9e3779b9)));
  const count = spec.counts[dataset] ?? 1;
  const span = Math.max(0, spec.windowEnd - spec.windowStart);
  // Spread records evenly over the window, each at a jittered point of its own slot.
  const at = spec.windowStart + Math.floor(((i + rng.next()) / count) * span);
  const eventDate = new Date(Math.min(at, spec.windowEnd)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return DATASETS[dataset].generate({ rng, eventDate, ...world });
}

/** The data file as a stream of bytes, generated batch by batch as it is read. */
export function fileStream(spec: DataSpec, file: DataFile): Readable {
  const world = customerWorld(spec.seed);
  const datasetSeed = hash32(`${spec.seed}|${file.dataset}`);
  let next = 0;
  let started = false;
  return new Readable({
    highWaterMark: 64 * 1024,
    read() {
      let text = started ? '' : '[\n';
      started = true;
      const end = Math.min(file.recordCount, next + BATCH);
      for (; next < end; next++) {
        let json = JSON.stringify(recordAt(spec, file.dataset, file.firstRecord + next, world, datasetSeed));
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
  for (let i = 0; i < file.recordCount; i++) {
    const record = recordAt(spec, file.dataset, file.firstRecord + i, world, datasetSeed);
    into.add(createHash('sha256').update(canonicalJson(record)).digest('base64').slice(0, 16));
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
