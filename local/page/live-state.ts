import type { ConnectionView, ImportSummary, RingPortabilityClient } from '../../client/src';
import type { DatasetCounts, FileSummary } from '../../lambdas/core/ingest/complete';
import { IMPORT_COMPLETED, type ImportCompletedDetail } from '../../lambdas/core/events/model';
import type { RecordedEvent } from '../emulators/eventbridge';

/**
 * What the live page shows, read the way an integrator's backend reads it: connections and
 * imports from the product's API through the typed client (SigV4-signed), per-dataset counts
 * of a finished import from its `Import Completed` change event, and the last change events
 * from the bus. The API says how many files an import listed and loaded but not, while it
 * runs, how many were fetched or what each dataset counted so far: for an import under way the
 * page reads its file tasks in the control table too (the pipeline's own records, as
 * `npm start`'s progress bars do), which an integrator could not.
 */

/** Bounds, so one refresh never walks an unbounded set however many customers connect. */
export const LIVE_LIMITS = { connections: 50, importsPerConnection: 3, events: 20, finishedImportsKept: 500 } as const;

export interface LiveSources {
  readonly client: Pick<RingPortabilityClient, 'listConnections' | 'listImports'>;
  /** The change events kept on the product's bus, oldest first. */
  readonly events: () => readonly RecordedEvent[];
  /** An import's file tasks, as the load stage leaves them (lambdas/adapters/ingest-store.ts). */
  readonly fileTasks: (queryId: string) => AsyncIterable<FileSummary>;
}

export interface LiveCounts {
  readonly files: number;
  readonly filesFetched: number;
  readonly filesLoaded: number;
  readonly bytes: number;
  readonly records: number;
  readonly recordsNew: number;
  readonly recordsUnchanged: number;
  readonly duplicates: number;
  readonly rejected: number;
}

export interface LiveImport {
  readonly queryId: string;
  readonly status: ImportSummary['status'];
  readonly createdAt: string;
  readonly doneAt?: string;
  readonly failedAt?: string;
  readonly statusReason?: string;
  /** Files Ring listed (0 until collect has listed some). */
  readonly filesListed: number;
  /** Loaded ÷ listed, 0 to 1; 1 once DONE. */
  readonly progress: number;
  readonly totals: LiveCounts;
  readonly datasets: readonly ({ readonly dataset: string } & LiveCounts)[];
  /** Where the per-dataset counts come from: the change event, or the file tasks (under way). */
  readonly source: 'event' | 'file-tasks' | 'none';
}

export interface LiveConnection {
  readonly customerId: string;
  readonly brand: string;
  readonly region: string;
  readonly status: ConnectionView['status'];
  readonly statusReason?: string;
  readonly connectedAt: string;
  readonly imports: readonly LiveImport[];
}

export interface LiveEvent {
  readonly id: string;
  readonly time: string;
  readonly type: string;
  readonly customerId: string;
  readonly summary: string;
}

export interface LiveState {
  readonly generatedAt: string;
  readonly connections: readonly LiveConnection[];
  /** More connections than LIVE_LIMITS.connections exist. */
  readonly moreConnections: boolean;
  /** Newest first. */
  readonly events: readonly LiveEvent[];
}

const TERMINAL = new Set<ImportSummary['status']>(['DONE', 'FAILED', 'CANCELED']);
const ZERO: LiveCounts = { files: 0, filesFetched: 0, filesLoaded: 0, bytes: 0, records: 0, recordsNew: 0, recordsUnchanged: 0, duplicates: 0, rejected: 0 };

/**
 * Builds the page's state. Refreshes that arrive together share one read, and a finished
 * import's per-dataset counts are kept (they never change again), so a page polling every
 * second costs the API a handful of calls and the control table one query per import under way.
 */
export class LiveStateReader {
  private pending: Promise<LiveState> | undefined;
  private last: { readonly at: number; readonly state: LiveState } | undefined;
  private readonly finished = new Map<string, Pick<LiveImport, 'datasets' | 'totals' | 'source'>>();

  constructor(
    private readonly sources: LiveSources,
    /** A state this young is served again: several open pages cost what one does. */
    private readonly freshMs = 500,
  ) {}

  read(): Promise<LiveState> {
    if (this.last && performance.now() - this.last.at < this.freshMs) return Promise.resolve(this.last.state);
    this.pending ??= this.build()
      .then((state) => {
        this.last = { at: performance.now(), state };
        return state;
      })
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async build(): Promise<LiveState> {
    const page = await this.sources.client.listConnections({ limit: LIVE_LIMITS.connections });
    const events = this.sources.events();
    const completed = new Map<string, ImportCompletedDetail>();
    for (const event of events) if (event['detail-type'] === IMPORT_COMPLETED) completed.set(String(event.detail.queryId), event.detail as unknown as ImportCompletedDetail);
    const connections = await Promise.all(
      page.connections.map(async (connection): Promise<LiveConnection> => {
        const imports = await this.sources.client.listImports(connection.customerId, { limit: LIVE_LIMITS.importsPerConnection });
        return {
          customerId: connection.customerId,
          brand: connection.brand,
          region: connection.region,
          status: connection.status,
          ...(connection.statusReason ? { statusReason: connection.statusReason } : {}),
          connectedAt: connection.connectedAt,
          imports: await Promise.all(imports.imports.map((summary) => this.importOf(summary, completed.get(summary.queryId)))),
        };
      }),
    );
    return {
      generatedAt: new Date().toISOString(),
      connections,
      moreConnections: page.nextCursor !== undefined,
      events: events.slice(-LIVE_LIMITS.events).reverse().map(eventView),
    };
  }

  private async importOf(summary: ImportSummary, event: ImportCompletedDetail | undefined): Promise<LiveImport> {
    const done = summary.status === 'DONE';
    const counts = done ? (this.finished.get(summary.queryId) ?? (await this.countsOf(summary, event))) : await this.countsOf(summary, undefined);
    if (TERMINAL.has(summary.status) && counts.source !== 'none') this.keep(summary.queryId, counts);
    const filesListed = summary.files ?? counts.totals.files;
    const filesLoaded = done ? filesListed : Math.max(summary.filesLoaded ?? 0, counts.totals.filesLoaded);
    return {
      queryId: summary.queryId,
      status: summary.status,
      createdAt: summary.createdAt,
      ...optional({ doneAt: summary.doneAt, failedAt: summary.failedAt, statusReason: summary.statusReason }),
      filesListed,
      progress: done ? 1 : filesListed > 0 ? Math.min(1, filesLoaded / filesListed) : 0,
      totals: { ...counts.totals, files: filesListed, filesLoaded },
      datasets: counts.datasets,
      source: counts.source,
    };
  }

  /** Per-dataset counts: from the change event when the import has one, else its file tasks. */
  private async countsOf(summary: ImportSummary, event: ImportCompletedDetail | undefined): Promise<Pick<LiveImport, 'datasets' | 'totals' | 'source'>> {
    if (event) {
      const datasets = Object.entries(event.datasets).map(([dataset, counts]) => ({ dataset, ...fromEvent(counts) }));
      return { datasets: sortDatasets(datasets), totals: sum(datasets), source: 'event' };
    }
    if (summary.status === 'REQUESTED' || summary.status === 'COMPLETED' || summary.status === 'CANCELED') return { datasets: [], totals: ZERO, source: 'none' };
    const byDataset = new Map<string, LiveCounts>();
    for await (const file of this.sources.fileTasks(summary.queryId)) {
      const name = file.dataset ?? 'Unknown';
      const was = byDataset.get(name) ?? ZERO;
      const fetched = file.sha256 !== undefined;
      const loaded = file.status === 'LOADED' || file.status === 'MALFORMED';
      byDataset.set(name, {
        files: was.files + 1,
        filesFetched: was.filesFetched + (fetched ? 1 : 0),
        filesLoaded: was.filesLoaded + (loaded ? 1 : 0),
        bytes: was.bytes + (fetched ? (file.bytes ?? 0) : 0),
        records: was.records + (file.records ?? 0),
        recordsNew: was.recordsNew + (file.recordsNew ?? 0),
        recordsUnchanged: was.recordsUnchanged + (file.recordsUnchanged ?? 0),
        duplicates: was.duplicates + (file.duplicates ?? 0),
        rejected: was.rejected + (file.rejected ?? 0),
      });
    }
    const datasets = [...byDataset.entries()].map(([dataset, counts]) => ({ dataset, ...counts }));
    return { datasets: sortDatasets(datasets), totals: sum(datasets), source: datasets.length > 0 ? 'file-tasks' : 'none' };
  }

  private keep(queryId: string, counts: Pick<LiveImport, 'datasets' | 'totals' | 'source'>): void {
    if (this.finished.size >= LIVE_LIMITS.finishedImportsKept) this.finished.delete(this.finished.keys().next().value!);
    this.finished.set(queryId, counts);
  }
}

function fromEvent(counts: DatasetCounts): LiveCounts {
  return { ...counts, filesFetched: counts.files, filesLoaded: counts.files };
}

function sum(rows: readonly LiveCounts[]): LiveCounts {
  const total: Record<keyof LiveCounts, number> = { ...ZERO };
  for (const row of rows) for (const key of Object.keys(ZERO) as (keyof LiveCounts)[]) total[key] += row[key];
  return total;
}

/** Largest first: the datasets an import spends its time on stay at the top while it runs. */
function sortDatasets<T extends { dataset: string; records: number; files: number }>(rows: T[]): T[] {
  return rows.sort((a, b) => b.files - a.files || b.records - a.records || a.dataset.localeCompare(b.dataset));
}

/** One change event as one line: what the integrator's backend is told. */
function eventView(event: RecordedEvent): LiveEvent {
  const detail = event.detail;
  const text = (value: unknown) => (typeof value === 'number' ? value.toLocaleString('en-US') : typeof value === 'string' ? value : '');
  let summary: string;
  if (event['detail-type'] === IMPORT_COMPLETED && typeof detail.totals === 'object' && detail.totals !== null) {
    const totals = detail.totals as Record<string, unknown>;
    summary = `${text(totals.records)} records (${text(totals.recordsNew)} new, ${text(totals.recordsUnchanged)} unchanged, ${text(totals.rejected)} rejected) in ${text(totals.files)} files`;
  } else {
    summary = `${text(detail.previousStatus) || '–'} → ${text(detail.status)}${detail.reason ? ` (${text(detail.reason)})` : ''}`;
  }
  return { id: event.id, time: event.time, type: event['detail-type'], customerId: text(detail.customerId), summary };
}

function optional<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
