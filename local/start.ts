/**
 * `npm start`: the whole system on this machine against the Ring sandbox (local/runtime.ts),
 * a demo import driven end to end with progress, and a comparison with the ground truth.
 *
 *   npm start                                    # import a demo customer, then keep serving
 *   npm start -- --once                          # exit 0 after the import if it matches the ground truth
 *   npm start -- --once --faults flaky --customers 3 --size 50MB --report report.json
 *   npm start -- --once --data-dir /tmp/run --reset   # state kept in /tmp/run, emptied first
 */
import { writeFileSync } from 'node:fs';
import { prepareDataDir } from './data-dir';
import { compareWithTruth, datasetMix, progressOf, type CustomerProgress, type DatasetRow, type DemoCustomer, type Truth } from './demo';
import { DemoRun } from './demo-run';
import type { RecordedEvent } from './emulators/eventbridge';
import { faultLines, faultSummary } from './fault-summary';
import { sandboxCall, startRuntime, type Runtime } from './runtime';
import { amount, importTotals, ProgressView } from './progress-view';
import { LOCAL_API_CREDENTIALS } from './sigv4';
import { startOptions } from './start-options';
import { cpuBetween, sampleTreeCpu, TreeRssPeak } from './tree-rss';

const MiB = 1024 * 1024;
/** The sandbox accounts `npm start` creates for connecting by hand: not credentials of anything real. */
const HAND_EMAIL = 'you@sandbox.example';
const HAND_PASSWORD = 'sandbox-password';

async function main(): Promise<number> {
  const opts = startOptions(process.argv.slice(2));
  const started = Date.now();
  const problems: string[] = [];
  const dataDir = prepareDataDir(opts.dataDir, { reset: opts.reset });
  process.once('exit', () => dataDir.release());
  const starting = startRuntime({ port: opts.port, faults: opts.faults, logLevel: opts.logLevel, dataDir: dataDir.dir, onProblem: (what, error) => problems.push(`${what}: ${(error as Error).message}`) });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= starting.then((runtime) => runtime.stop()));
  stopOnSignals(stop);
  const runtime = await starting;
  try {
    printWhere(runtime, opts.faults, dataDir.dir);
    const view = new ProgressView(process.stdout.isTTY === true);
    // The change events as the integrator's rule would see them; the local EventBridge keeps the last 1,000 (runtime.aws.eventBridge.events()).
    runtime.aws.eventBridge.onEvent((event) => view.interrupt(eventLine(event)));
    const run = DemoRun.begin(dataDir.dir, { customers: opts.customers, sizeBytes: opts.size });
    if (run.resumed) console.log(`resuming run ${run.runId}, which did not finish (${run.connectedBefore} of ${opts.customers} customer(s) were connected)`);
    const customers = await run.connectCustomers(runtime);
    console.log(`connected ${customers.length} customer(s): ${customers.map((customer) => `${customer.customerId} (${customer.brand}, ${customer.region})`).join(', ')}\n`);

    const truths = new Map<string, Truth>();
    const connectedAt = Date.now();
    const cpuAtConnect = sampleTreeCpu();
    let progress: CustomerProgress[] = [];
    // The whole tree's memory (fauxqs runs in a child), sampled with every progress line.
    const rss = new TreeRssPeak();
    rss.sample();
    for (;;) {
      progress = await Promise.all(customers.map((customer) => progressOf(runtime, customer, truths)));
      rss.sample();
      view.render(progress);
      if (progress.every((customer) => customer.doneQueryId)) break;
      if (Date.now() - connectedAt > opts.timeoutMs) throw new Error(`the import did not finish in ${opts.timeoutMs / 60_000} minutes`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    view.finish();
    const importMs = Date.now() - connectedAt;
    // Where the import's work went, by process (the runtime holds the handlers, the sandbox and the S3 layer; dynalite and fauxqs have their own).
    const importCpu = cpuBetween(cpuAtConnect, sampleTreeCpu());

    const rows: { customer: DemoCustomer; queryId: string; datasets: DatasetRow[] }[] = [];
    for (const [i, customer] of customers.entries()) rows.push({ customer, queryId: progress[i].doneQueryId!, datasets: await compareWithTruth(runtime, customer, progress[i].doneQueryId!, truths) });
    const matches = rows.every((row) => row.datasets.every((dataset) => dataset.matches));
    printSummary(rows);
    const totals = total(rows.flatMap((row) => row.datasets));
    console.log(`\n${matches ? '✓ every file, byte and record matches the sandbox’s ground truth' : '✗ the import differs from the ground truth (rows marked ✗)'} — ${(totals.bytes / MiB).toFixed(1)} MiB, ${totals.records} records in ${(importMs / 1000).toFixed(1)} s`);
    const importCpuSeconds = importCpu.reduce((sum, entry) => sum + entry.cpuSeconds, 0);
    const cpuByName = new Map<string, number>();
    for (const entry of importCpu) cpuByName.set(processName(entry), (cpuByName.get(processName(entry)) ?? 0) + entry.cpuSeconds);
    console.log(`CPU during the import: ${importCpuSeconds.toFixed(1)} s (${[...cpuByName].map(([name, seconds]) => `${name} ${seconds.toFixed(1)}`).join(', ')}), ${totals.records > 0 ? ((importCpuSeconds * 1e6) / totals.records).toFixed(0) : '-'} µs per record`);
    const calls = await sandboxCall<{ path: string; status: number }[]>(runtime.sandbox, 'GET', '/calls');
    const failedCalls: Record<string, number> = {};
    for (const call of calls.filter((candidate) => candidate.status >= 400)) failedCalls[call.status] = (failedCalls[call.status] ?? 0) + 1;
    const faults = await faultSummary(runtime);
    if (opts.faults) console.log(`\n${faultLines(faults, opts.faults).join('\n')}`);
    if (problems.length > 0) console.log(`\nlocal runtime problems (${problems.length}):\n  ${[...new Set(problems)].slice(0, 10).join('\n  ')}`);

    run.finish();
    if (opts.report) {
      const report = {
        matches,
        runId: run.runId,
        resumed: run.resumed,
        startedAt: new Date(started).toISOString(),
        durations: { startupMs: connectedAt - started, importMs, totalMs: Date.now() - started },
        peakRssBytes: rss.peakBytes,
        peakRssByProcess: rss.processes().map(({ pid, command, peakBytes }) => ({ pid, command, peakBytes })),
        // CPU time (user + system) each process of the tree used between the customers' connecting and the import's end.
        importCpu: { totalSeconds: Math.round(importCpuSeconds * 100) / 100, byProcess: importCpu.map((entry) => ({ name: processName(entry), ...entry })) },
        options: { customers: opts.customers, sizeBytes: opts.size, faults: opts.faults ?? null },
        // Every answer of 400 or more the sandbox gave (its call log: the last 10,000), injected or not; `faults` holds the injected ones by kind.
        ringCalls: { total: calls.length, failedByStatus: failedCalls },
        faults,
        total: totals,
        customers: rows.map((row) => ({ customerId: row.customer.customerId, brand: row.customer.brand, region: row.customer.region, queryId: row.queryId, datasets: row.datasets })),
      };
      writeFileSync(opts.report, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`report written to ${opts.report}`);
    }
    if (opts.once) return matches ? 0 : 1;

    // A Ring and a Blink account at the sandbox for a person to sign in with.
    for (const brand of ['ring', 'blink'] as const) {
      // Made by an earlier run on this data dir, if it got this far: kept with the sandbox's state.
      if ([...runtime.sandbox.state.customers.values()].some((customer) => customer.brand === brand && customer.email === HAND_EMAIL)) continue;
      await sandboxCall(runtime.sandbox, 'POST', '/customers', { brand, email: HAND_EMAIL, password: HAND_PASSWORD, datasets: datasetMix(5 * MiB), recordsPerFile: 5_000 });
    }
    console.log(`\nStill serving. Open ${runtime.apiUrl}/ and click "Connect Ring" to connect a customer by hand:`);
    console.log(`sign in on the sandbox's pages as ${HAND_EMAIL} / ${HAND_PASSWORD} (a sandbox account, Ring or Blink), confirm, authorize.`);
    console.log('Ctrl-C stops everything.');
    await new Promise<never>(() => undefined);
    return 0;
  } finally {
    await stop();
  }
}

/** A short name for a process of the tree, for the CPU line and the report. */
function processName(entry: { pid: number; command: string }): string {
  if (entry.pid === process.pid) return 'runtime';
  if (entry.command.includes('dynamodb-child')) return 'dynalite';
  if (entry.command.includes('fauxqs')) return 'fauxqs';
  if (entry.command.includes('esbuild')) return 'esbuild';
  return `pid ${entry.pid}`;
}

/** The exit codes a shell gives a process a signal ended: 128 + the signal's number. */
const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Stops the whole tree on SIGINT or SIGTERM, then exits with the shell's code for that signal.
 * npm forwards both to this process (the start script `exec`s node, so no shell sits between to
 * swallow them), and Ctrl-C sends SIGINT to npm and to this process alike: a signal can come
 * twice, and the second must not cut the stop short, so the handlers stay installed.
 */
function stopOnSignals(stop: () => Promise<void>): void {
  for (const [signal, code] of Object.entries(SIGNAL_EXIT_CODES)) {
    process.on(signal, () => {
      void stop().then(
        () => {
          console.log(`\nstopped on ${signal}: the local API, the sandbox and every emulator are closed`);
          process.exit(code);
        },
        (error: unknown) => {
          console.error(`npm start failed while stopping on ${signal}: ${(error as Error).message}`);
          process.exit(code);
        },
      );
    });
  }
}

function printWhere(runtime: Runtime, faults: string | undefined, dataDir: string): void {
  const { endpoints, resources } = runtime.aws;
  console.log('ring-portability, running locally against the Ring sandbox');
  console.log(`  API              ${runtime.apiUrl}   (IAM routes: SigV4, ${runtime.aws.region}, AWS_ACCESS_KEY_ID=${LOCAL_API_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_API_CREDENTIALS.secretAccessKey})`);
  console.log(`  example app      ${runtime.apiUrl}/   ("Connect Ring")`);
  console.log(`  Ring sandbox     ${runtime.sandbox.baseUrl}/__sandbox/   (control API)`);
  console.log(`  faults           ${faults ?? 'none'}`);
  console.log(`  data dir         ${dataDir}   (kept across runs; --reset empties it)`);
  console.log(`  change events    bus ${resources.eventBus} on the local EventBridge (${endpoints.eventBridge}), printed below as they arrive`);
  console.log('  look at the data (any credentials work):');
  console.log(`    AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --region ${runtime.aws.region} --endpoint-url ${endpoints.s3} s3 ls s3://${resources.rawDataBucket}/raw/ --recursive`);
  console.log(`    AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --region ${runtime.aws.region} --endpoint-url ${endpoints.dynamodb} dynamodb scan --table-name ${resources.recordsTable} --max-items 5`);
  console.log('');
}

function total(rows: DatasetRow[]) {
  return {
    files: rows.reduce((sum, row) => sum + row.files, 0),
    bytes: rows.reduce((sum, row) => sum + row.bytes, 0),
    records: rows.reduce((sum, row) => sum + row.records, 0),
    recordsNew: rows.reduce((sum, row) => sum + row.recordsNew, 0),
    recordsUnchanged: rows.reduce((sum, row) => sum + row.recordsUnchanged, 0),
    rejects: rows.reduce((sum, row) => sum + row.rejects, 0),
    truth: {
      files: rows.reduce((sum, row) => sum + row.truth.files, 0),
      bytes: rows.reduce((sum, row) => sum + row.truth.bytes, 0),
      records: rows.reduce((sum, row) => sum + row.truth.records, 0),
    },
  };
}

function printSummary(rows: { customer: DemoCustomer; datasets: DatasetRow[] }[]): void {
  const byDataset = new Map<string, DatasetRow[]>();
  for (const row of rows.flatMap((customer) => customer.datasets)) byDataset.set(row.dataset, [...(byDataset.get(row.dataset) ?? []), row]);
  const header = ['dataset', 'files', 'MiB', 'records', 'new', 'unchanged', 'rejects', 'truth files', 'truth MiB', 'truth records', ''];
  const lines = [...byDataset.entries()].map(([dataset, list]) => {
    const sum = total(list);
    const ok = list.every((row) => row.matches);
    return [dataset, sum.files, (sum.bytes / MiB).toFixed(2), sum.records, sum.recordsNew, sum.recordsUnchanged, sum.rejects, sum.truth.files, (sum.truth.bytes / MiB).toFixed(2), sum.truth.records, ok ? '✓' : '✗'].map(String);
  });
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const format = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
}

/** One change event as one line: what an integrator's backend would be told. */
function eventLine(event: RecordedEvent): string {
  const detail = event.detail as Record<string, string | null | undefined> & { totals?: Record<string, number> };
  const what =
    event['detail-type'] === 'Import Completed' && detail.totals
      ? `query ${detail.queryId}: ${importTotals(detail.totals)}, ${amount(detail.totals.bytes, 'MiB')}`
      : `${detail.previousStatus ?? '-'} → ${detail.status} (${detail.reason})`;
  return `event  ${event['detail-type']}  ${detail.customerId}  ${what}`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const hint = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? ' (npm start -- --help lists the options)' : '';
    console.error(`npm start failed: ${(error as Error).message}${hint}`);
    process.exit(1);
  },
);
