import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildApp, STACK_NAME } from '../../lib/app';

const ROOT = path.join(__dirname, '..', '..');
const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

describe('Lambda bundles', () => {
  it('bundles every function with the local esbuild, and each bundle loads and exports a handler in plain Node', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-bundles-'));
    try {
      const { app } = buildApp({ outdir, context: cdkJson.context });
      const template = app.synth().getStackByName(STACK_NAME).template as { Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }> };
      // The code asset's directory is asset.<hash>, the S3 key <hash>.zip.
      const assets = Object.entries(template.Resources)
        .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
        .map(([id, resource]) => [id, path.join(outdir, `asset.${resource.Properties.Code!.S3Key!.replace(/\.zip$/, '')}`, 'index.js')] as const);
      expect(assets.length).toBeGreaterThanOrEqual(9);
      for (const [id, bundle] of assets) {
        const result = spawnSync(process.execPath, ['-e', `const m = require(${JSON.stringify(bundle)}); if (typeof m.handler !== 'function') process.exit(3);`], {
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            AWS_REGION: 'eu-west-1',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            SETTINGS: JSON.stringify({ brands: ['ring', 'blink'] }),
            CONTROL_TABLE: 'control',
            RECORDS_TABLE: 'records',
            RAW_BUCKET: 'raw',
            IMPORTS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/imports',
            COMPLETED_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/completed',
            FILES_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/files',
            LOADS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/loads',
            EVENT_BUS: 'arn:aws:events:eu-west-1:123456789012:event-bus/ring-portability-events',
            REDIRECT_URI: 'https://api.example.com/oauth/callback',
            KMS_KEY_ID: 'arn:aws:kms:eu-west-1:123456789012:key/k',
            CLIENT_CREDENTIALS_SECRETS: JSON.stringify({ ring: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:c-AbCdEf' }),
          },
        });
        expect({ id, status: result.status, stderr: result.stderr.slice(0, 500) }).toEqual({ id, status: 0, stderr: '' });
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 180_000);
});
