import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { buildApp, STACK_NAME } from '../../lib/app';
import { NO_BUNDLING, scratchOutdir } from './support/stack';

const ROOT = path.join(__dirname, '..', '..');
const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

describe('the CDK app (bin/ring-portability.ts)', () => {
  it('synthesizes with the settings in cdk.json and no unacknowledged cdk-nag finding', () => {
    const { app, stack } = buildApp({ outdir: scratchOutdir(), context: { ...cdkJson.context, ...NO_BUNDLING } });
    const assembly = app.synth();
    const template = assembly.getStackByName(STACK_NAME).template as { Outputs: Record<string, unknown> };
    expect(Object.keys(template.Outputs)).toEqual(
      expect.arrayContaining(['RawDataBucketName', 'ControlTableName', 'RecordsTableName', 'AlarmTopicArn', 'ClientCredentialsSecretRing']),
    );
    expect(stack.portability.settings.brands).toEqual(['ring', 'blink']);
  });

  it('is nag-clean in a concrete account and region too, as `cdk deploy` synthesizes it', () => {
    const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
    process.env.CDK_DEFAULT_ACCOUNT = '123456789012';
    process.env.CDK_DEFAULT_REGION = 'eu-west-1';
    try {
      const { app } = buildApp({ outdir: scratchOutdir(), context: { ...cdkJson.context, ...NO_BUNDLING } });
      expect(() => app.synth()).not.toThrow();
    } finally {
      for (const [key, value] of [['CDK_DEFAULT_ACCOUNT', saved.account], ['CDK_DEFAULT_REGION', saved.region]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('fails synth on a cdk-nag finding (the checks are really applied)', () => {
    const { app, stack } = buildApp({ outdir: scratchOutdir(), context: { ...cdkJson.context, ...NO_BUNDLING } });
    new Bucket(stack, 'NonCompliantBucket');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1[\s\S]*NonCompliantBucket|NonCompliantBucket[\s\S]*AwsSolutions-S1/);
  });

  it('fails `cdk synth` with a bad setting, naming the setting', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'cdk-bad-setting-'));
    try {
      const result = spawnSync(
        process.execPath,
        [
          path.join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk'),
          'synth',
          '--quiet',
          '--output',
          out,
          '-c',
          'ringPortability.defaultRegion=mars',
          '-c',
          'ringPortability.rateLimits.scope=galaxy',
        ],
        { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' }, timeout: 120_000 },
      );
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('ringPortability.defaultRegion: Invalid option');
      expect(result.stderr).toContain('(got "mars")');
      expect(result.stderr).toContain('ringPortability.rateLimits.scope: Invalid option');
      expect(result.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/); // a message, not a stack trace
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
