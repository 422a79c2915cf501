import { startLocalAws, type LocalAws } from '../../local/local-aws';
import { LOCAL_AWS_ENV } from './support/local-aws';

declare global {
  var __ringPortabilityLocalAws: LocalAws | undefined;
}

/** Starts the emulators once for the integration suite; workers read where they are from env. */
export default async function globalSetup(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const started = Date.now();
  const aws = await startLocalAws();
  globalThis.__ringPortabilityLocalAws = aws;
  const { region, endpoints, resources } = aws;
  process.env[LOCAL_AWS_ENV] = JSON.stringify({ region, endpoints, resources });
  process.env.RING_PORTABILITY_LOCAL_AWS_STARTUP_MS = String(Date.now() - started);
}
