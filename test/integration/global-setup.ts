import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startLocalAws, type LocalAws } from '../../local/local-aws';
import { LOCAL_AWS_ENV } from './support/local-aws';

declare global {
  var __ringPortabilityLocalAws: LocalAws | undefined;
  var __ringPortabilityLocalAwsDataDir: string | undefined;
}

/**
 * Starts the emulators once for the integration suite; workers read where they are from env.
 * They keep their state on disk, in a directory of this run's own, as `npm start` does: the
 * suite tests the stores the product runs on locally (the in-memory ones differ only in where
 * the bytes are).
 */
export default async function globalSetup(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const started = Date.now();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ring-portability-integration-'));
  globalThis.__ringPortabilityLocalAwsDataDir = dataDir;
  const aws = await startLocalAws({ dataDir });
  globalThis.__ringPortabilityLocalAws = aws;
  const { region, endpoints, resources } = aws;
  process.env[LOCAL_AWS_ENV] = JSON.stringify({ region, endpoints, resources });
  process.env.RING_PORTABILITY_LOCAL_AWS_STARTUP_MS = String(Date.now() - started);
}
