import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A directory for one CDK app's output, removed after the test file. Without an `outdir`, every
 * synth writes a new `cdk.out*` under the system's temp dir and nothing removes it: a CI run
 * left about a hundred per run.
 */
export function scratchOutdir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ring-cdk-test-'));
  outdirs.push(dir);
  return dir;
}
