// Closing line of a CI run: `N passed, N failed` over every jest run it was given, so a run
// that executed no test cannot look green. Each run is `<name>.json` (jest --json), and
// `<name>.exit` and `<name>.log` (its exit status and output) when present. Exits 1 when a run
// is missing or unreadable, failed, ran no test, exited non-zero, or left something behind
// after its summary (a worker jest had to kill, an uncaught error).
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

const AFTER_SUMMARY = [/failed to exit gracefully/, /did not exit one second after/, /open handles? potentially keeping/, /Database is closed/];

let passed = 0;
let failed = 0;
let bad = 0;
for (const run of process.argv.slice(2)) {
  const name = basename(run, '.json');
  const prefix = run.replace(/\.json$/, '');
  let result;
  try {
    result = JSON.parse(readFileSync(`${prefix}.json`, 'utf8'));
  } catch (error) {
    console.log(`${name}: no readable result (${error.code ?? error.message}): jest did not finish`);
    bad++;
    continue;
  }
  // A suite that fails before any test runs (a compile error, a failing hook) counts as a failure too.
  const runFailed = result.numFailedTests + result.numRuntimeErrorTestSuites;
  passed += result.numPassedTests;
  failed += runFailed;
  const exit = existsSync(`${prefix}.exit`) ? Number(readFileSync(`${prefix}.exit`, 'utf8')) : 0;
  const log = existsSync(`${prefix}.log`) ? readFileSync(`${prefix}.log`, 'utf8') : '';
  const problems = [
    runFailed > 0 && 'failures',
    result.numTotalTests === 0 && 'no tests',
    !result.success && 'not successful',
    exit !== 0 && `jest exited ${exit}`,
    ...AFTER_SUMMARY.filter((pattern) => pattern.test(log)).map((pattern) => `output says ${pattern.source.replace(/\\/g, '')}`),
  ].filter(Boolean);
  if (problems.length > 0) bad++;
  console.log(`${name}: ${result.numPassedTests} passed, ${runFailed} failed, ${result.numPendingTests} skipped, ${result.numTotalTests} total in ${result.numTotalTestSuites} suites${problems.length ? ` (${problems.join(', ')})` : ''}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(bad > 0 || passed === 0 ? 1 : 0);
