import { parseArgs } from 'node:util';
import { parseLimitsArgument } from './limits';
import { Sandbox } from './sandbox';

/** `npm run sandbox -- --port 4010`: the Ring/Blink sandbox in the foreground until Ctrl-C. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4010' },
      'query-delay-ms': { type: 'string' },
      seed: { type: 'string' },
      limits: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run sandbox -- [--port 4010] [--query-delay-ms 2000] [--seed ring-sandbox] [--limits reference|amazon-daily|\'{"createPerDay":100}\']\nSee sandbox/README.md.',
    );
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be a port number, got ${values.port}`);
  const queryDelayMs = values['query-delay-ms'] === undefined ? undefined : Number(values['query-delay-ms']);
  if (queryDelayMs !== undefined && !(queryDelayMs >= 0)) throw new Error('--query-delay-ms must be a number of milliseconds');
  const limits = values.limits === undefined ? undefined : parseLimitsArgument(values.limits);

  const sandbox = new Sandbox({
    port,
    ...(queryDelayMs !== undefined ? { queryDelayMs } : {}),
    ...(values.seed ? { seed: values.seed } : {}),
    ...(limits !== undefined ? { limits } : {}),
  });
  const baseUrl = await sandbox.start();
  const endpoints = sandbox.endpoints();
  console.log(`Ring Data Portability sandbox listening on ${baseUrl}
  control API        ${baseUrl}/__sandbox   (see sandbox/README.md)
  limits             ${JSON.stringify(sandbox.options.limits)}
Endpoint templates for the product's settings (ringPortability.endpoints):
  ring   oauthBaseUrl  ${endpoints.ring.oauthBaseUrl}
         intakeBaseUrl ${endpoints.ring.intakeBaseUrl}
  blink  oauthBaseUrl  ${endpoints.blink.oauthBaseUrl}
         intakeBaseUrl ${endpoints.blink.intakeBaseUrl}
Notification settings (ringPortability.notifications):
  signingCertHosts   ${baseUrl}   (${baseUrl}${sandbox.notifications.signingCertPath})
  trustAnchors       the PEM at ${baseUrl}/__sandbox/ca.pem (a new CA at every start)
Ctrl-C to stop.`);
  const shutdown = () => {
    void sandbox.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
