import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { limitProfile } from './limits';
import { renderReport, summary } from './report';
import { simulate } from './simulate';

const USAGE = `usage: npm run simulate -- [--connections 10000] [--days 30] [--limits reference|amazon-daily] [--seed 1]
                            [--import-interval-minutes 1440] [--query-delay-seconds 120] [--no-faults] [--out simulation/]
                            [--refresh-token-idle-days 30] [--refresh-token-max-age-days 20]

A month of the product's imports on virtual time against the Ring sandbox (README: "Simulating a
month at scale"). Writes <out>/results.json and <out>/report.html, prints a summary, and exits 1
when a "done means" check fails.`;

function integer(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${text}`);
  return value;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '10000' },
      days: { type: 'string', default: '30' },
      limits: { type: 'string', default: 'reference' },
      seed: { type: 'string', default: '1' },
      'import-interval-minutes': { type: 'string', default: String(24 * 60) },
      'query-delay-seconds': { type: 'string', default: '120' },
      'refresh-token-idle-days': { type: 'string', default: '30' },
      'refresh-token-max-age-days': { type: 'string', default: '20' },
      'no-faults': { type: 'boolean', default: false },
      out: { type: 'string', default: 'simulation' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const options = {
    connections: integer('connections', values.connections, 1),
    days: integer('days', values.days, 1),
    limits: limitProfile(values.limits),
    seed: integer('seed', values.seed, 0),
    importIntervalMinutes: integer('import-interval-minutes', values['import-interval-minutes'], 60),
    queryDelaySeconds: integer('query-delay-seconds', values['query-delay-seconds'], 1),
    refreshTokenIdleDays: integer('refresh-token-idle-days', values['refresh-token-idle-days'], 1),
    refreshTokenMaxAgeDays: integer('refresh-token-max-age-days', values['refresh-token-max-age-days'], 1),
    ...(values['no-faults'] ? { faults: { createDataQuery: 0, notificationsLost: 0, revoked: 0 } } : {}),
    progress: (line: string) => console.log(line),
  };
  console.log(`Simulating ${options.connections} connections for ${options.days} days (${options.limits} limits, seed ${options.seed})…`);
  const results = await simulate(options);
  await mkdir(values.out, { recursive: true });
  const json = join(values.out, 'results.json');
  const html = join(values.out, 'report.html');
  await writeFile(json, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(html, renderReport(results));
  console.log(summary(results));
  console.log(`\nWrote ${json} and ${html}`);
  return results.checks.every((check) => check.pass) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(2);
  },
);
