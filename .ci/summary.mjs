// Closing line of a CI run: `N passed, N failed` over every jest run it was given (jest's
// --json output files), so a run that executed no test cannot look green. Exits 1 when a run
// is missing, failed, or ran no test.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

let passed = 0;
let failed = 0;
let bad = 0;
for (const file of process.argv.slice(2)) {
  const name = basename(file, '.json');
  if (!existsSync(file)) {
    console.log(`${name}: no result (jest did not finish)`);
    bad++;
    continue;
  }
  const run = JSON.parse(readFileSync(file, 'utf8'));
  // A suite that fails before any test runs (a compile error, a failing beforeAll) counts too.
  const runFailed = run.numFailedTests + run.numRuntimeErrorTestSuites;
  passed += run.numPassedTests;
  failed += runFailed;
  const problems = [runFailed > 0 && 'failures', run.numTotalTests === 0 && 'no tests', !run.success && 'not successful'].filter(Boolean);
  if (problems.length > 0) bad++;
  console.log(`${name}: ${run.numPassedTests} passed, ${runFailed} failed, ${run.numPendingTests} skipped, ${run.numTotalTests} total in ${run.numTotalTestSuites} suites${problems.length ? ` (${problems.join(', ')})` : ''}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(bad > 0 || passed === 0 ? 1 : 0);
