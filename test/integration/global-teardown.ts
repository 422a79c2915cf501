import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const aws = globalThis.__ringPortabilityLocalAws;
  const dataDir = globalThis.__ringPortabilityLocalAwsDataDir;
  globalThis.__ringPortabilityLocalAws = undefined;
  globalThis.__ringPortabilityLocalAwsDataDir = undefined;
  try {
    await aws?.stop();
  } finally {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}
