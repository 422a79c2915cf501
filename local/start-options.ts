/**
 * `npm start`'s command line: the options parseArgs accepts, the help text and their checks, in
 * a module of their own so a test can hold the help text and the README's flag table to them.
 */
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FAULT_PROFILES, faultProfile } from './faults';

const MiB = 1024 * 1024;
/** Where `npm start` keeps its state unless told otherwise: under the project, git-ignored. */
export const DEFAULT_DATA_DIR = path.join(__dirname, '..', '.local-data');

/** Every option `npm start` accepts; USAGE and the README's flag table list each of them. */
export const START_OPTIONS = {
  once: { type: 'boolean', default: false },
  customers: { type: 'string', default: '1' },
  size: { type: 'string', default: '20MB' },
  faults: { type: 'string' },
  report: { type: 'string' },
  port: { type: 'string' },
  'timeout-minutes': { type: 'string', default: '30' },
  'log-level': { type: 'string', default: 'ERROR' },
  'data-dir': { type: 'string' },
  reset: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export const USAGE = `npm start [-- options]: the whole system on this machine against the Ring sandbox (see README, Two commands)

  --once               exit after the import: 0 if every file, byte and record matches the ground truth, 1 if not
  --customers N        connect N customers, 1-50 (default 1; brands and regions alternate)
  --size 500MB         data per run (default 20MB), spread over all 15 datasets
  --faults flaky       inject Ring API, download and notification faults (profiles: ${Object.keys(FAULT_PROFILES).join(', ')});
                       the run ends with what was injected, by kind
  --report file.json   write per customer and dataset: files, bytes, records (new, unchanged), rejects, ground truth, durations, peak RSS;
                       and the faults the sandbox injected, by kind
  --port N             the local API's port (default: a free one)
  --timeout-minutes N  fail if the import has not finished N minutes after the customers connected (default 30)
  --log-level LEVEL    the handlers' log level (default ERROR); DEBUG adds a line per local API request and per queue batch
  --data-dir DIR       keep tables, objects, queues, secrets and the sandbox's state in DIR (default .local-data/ in the project);
                       the same command again on it finishes an unfinished run (after a crash or kill -9) instead of starting a new one
  --reset              empty the data dir first: a clean start (refused for a directory that is not one npm start made)
  -h, --help           this text

SIGINT (Ctrl-C) or SIGTERM stops everything: exit code 130 or 143.
`;

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(text.trim());
  if (!match) throw new Error(`--size must look like 500MB or 2GB, got ${text}`);
  return Math.round(Number(match[1]) * { B: 1, KB: 1024, MB: MiB, GB: 1024 * MiB }[(match[2] ?? 'B').toUpperCase()]!);
}

/** The options from `args` (process.argv without node and the script), checked; `--help` prints USAGE and exits. */
export function startOptions(args: string[]) {
  const { values } = parseArgs({ args, options: START_OPTIONS });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const customers = Number(values.customers);
  if (!Number.isInteger(customers) || customers < 1 || customers > 50) throw new Error(`--customers must be a whole number from 1 to 50, got ${values.customers}`);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) throw new Error(`--port must be a port number, got ${values.port}`);
  if (values['data-dir'] !== undefined && values['data-dir'].trim() === '') throw new Error('--data-dir must name a directory, got an empty value');
  const timeoutMinutes = Number(values['timeout-minutes']);
  if (!(timeoutMinutes > 0)) throw new Error(`--timeout-minutes must be a number of minutes above 0, got ${values['timeout-minutes']}`);
  return {
    once: values.once,
    customers,
    size: parseSize(values.size),
    faults: values.faults === undefined ? undefined : faultProfile(values.faults),
    report: values.report,
    port,
    timeoutMs: timeoutMinutes * 60_000,
    logLevel: values['log-level'].toUpperCase(),
    dataDir: path.resolve(values['data-dir'] ?? DEFAULT_DATA_DIR),
    reset: values.reset,
  };
}
