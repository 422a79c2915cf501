import { randomUUID } from 'node:crypto';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDbConnectionStatusStore, DynamoDbLeaseStore, DynamoDbRateLimitStore } from '../../../lambdas/adapters/dynamodb-stores';
import { SecretsManagerStore } from '../../../lambdas/adapters/secrets-manager-store';
import { controlTable, secretNames } from '../../../lambdas/core/definitions';
import { createTable } from '../../../local/provision';
import type { Clock, Connection, Logger as LoggerPort } from '../../../lambdas/core/ports';
import { ClientCredentialsProvider } from '../../../lambdas/core/ring/client-credentials';
import { resolveEndpoints } from '../../../lambdas/core/ring/endpoints';
import { IntakeClient } from '../../../lambdas/core/ring/intake-client';
import { DynamoDbTokenAgeIndex } from '../../../lambdas/adapters/import-schedule-store';
import { OAuthClient } from '../../../lambdas/core/ring/oauth-client';
import { buildAuthorizeUrl, createState, createVerifier, s256Challenge } from '../../../lambdas/core/ring/pkce';
import { RateLimiter } from '../../../lambdas/core/ring/rate-limiter';
import type { RetryOptions } from '../../../lambdas/core/ring/retry';
import { connectionSecretValue, TokenService, type TokenServiceOptions } from '../../../lambdas/core/ring/token-service';
import { Secret } from '../../../lambdas/core/secret';
import { parseSettings, type SettingsInput } from '../../../lambdas/core/settings';
import { Sandbox, type SandboxInit } from '../../../sandbox/sandbox';
import { middayToday, VirtualTime } from '../../support/virtual-time';
import { localAws } from './local-aws';

export const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';

export interface WorldOptions {
  readonly sandbox?: SandboxInit;
  readonly settings?: SettingsInput;
  readonly tokens?: TokenServiceOptions;
  readonly retry?: Omit<RetryOptions, 'clock' | 'remainingMs'>;
  readonly logger?: LoggerPort;
}

/**
 * The core Ring client wired as a Lambda would wire it, against a sandbox of its own and the
 * shared local AWS: real adapters, real SDK clients, its own secret names and rate-limit keys
 * so test files running side by side do not meet. Time is virtual (`VirtualTime` on the
 * sandbox's manual clock, from noon UTC today): queries complete, tokens expire and rate
 * windows pass when the test advances the clock or the domain sleeps, never by the machine's
 * speed or the time of day.
 */
export async function ringWorld(options: WorldOptions = {}) {
  const aws = localAws();
  const sandbox = new Sandbox({ queryDelayMs: 100, ...options.sandbox, clock: { mode: 'manual', startAt: middayToday() } });
  await sandbox.start();
  const time = new VirtualTime(sandbox.clock);
  const prefix = `it-${randomUUID().slice(0, 8)}`;
  const settings = parseSettings({ resourcePrefix: prefix, endpoints: sandbox.endpoints(), ...options.settings });
  const sleeps: number[] = [];
  const clock: Clock = {
    now: () => sandbox.clock.now(),
    sleep: (ms) => {
      sleeps.push(ms);
      return time.sleep(ms);
    },
  };
  /** Runs the tasks at once as the domain's concurrent callers (see `VirtualTime.together`). */
  const together = <T>(tasks: readonly (() => Promise<T>)[]): Promise<T[]> => time.together(tasks);
  const logger = options.logger ?? new Logger({ serviceName: 'integration', logLevel: 'ERROR' });
  const app = (await (await fetch(`${sandbox.baseUrl}/__sandbox/apps`, { method: 'POST', body: JSON.stringify({ name: 'Integration', redirectUris: [REDIRECT_URI] }) })).json()) as {
    clientId: string;
    clientSecret: string;
  };
  for (const brand of settings.brands) {
    await aws.clients.secretsManager.send(
      new CreateSecretCommand({ Name: secretNames.clientCredentials(prefix, brand), SecretString: JSON.stringify({ client_id: app.clientId, client_secret: app.clientSecret }) }),
    );
  }
  // A control table of its own: scans by status (schedulers) see only this world's items.
  const table = await createTable(aws.clients, controlTable, `${prefix}-control`);
  const documents = aws.clients.documents;
  const secrets = new SecretsManagerStore(aws.clients.secretsManager);
  const credentials = new ClientCredentialsProvider(secrets, (brand) => secretNames.clientCredentials(prefix, brand), clock);
  const oauth = new OAuthClient();
  const endpointsOf = (connection: { brand: string; region: string }) => resolveEndpoints(settings.endpoints, connection.brand, connection.region, settings.scopeId);
  const leases = new DynamoDbLeaseStore(documents, table);
  const tokens = new TokenService({
    secrets,
    leases,
    connections: new DynamoDbConnectionStatusStore(documents, table),
    tokenAges: new DynamoDbTokenAgeIndex(documents, table),
    oauth,
    credentials,
    tokenUrl: (connection) => endpointsOf(connection).tokenUrl,
    clock,
    logger,
    options: { pollMs: 50, ...options.tokens },
  });
  const limiter = new RateLimiter(new DynamoDbRateLimitStore(documents, table), settings.rateLimits, clock, { keyPrefix: `${prefix}#` });
  const intake = new IntakeClient({ tokens, limiter, intakeUrl: (connection) => endpointsOf(connection).intakeUrl, clock, logger, retry: options.retry });

  /** Connects a new sandbox customer through authorize + code exchange, as the callback will. */
  async function connect(input: { brand?: 'ring' | 'blink'; region?: 'eu-west-1' | 'us-east-1' | 'us-west-2'; customer?: Record<string, unknown> } = {}) {
    const brand = input.brand ?? 'ring';
    const region = input.region ?? 'eu-west-1';
    const customer = (await (
      await fetch(`${sandbox.baseUrl}/__sandbox/customers`, { method: 'POST', body: JSON.stringify({ brand, region, consent: { history: '30d', duration: '1y' }, ...input.customer }) })
    ).json()) as { id: string; sessionCookie: string };
    const endpoints = endpointsOf({ brand, region });
    const verifier = createVerifier();
    const client = await credentials.get(brand);
    const authorize = await fetch(
      buildAuthorizeUrl({ authorizeUrl: endpoints.authorizeUrl, clientId: client.clientId, redirectUri: REDIRECT_URI, scope: settings.scopeId, codeChallenge: s256Challenge(verifier), state: createState() }),
      { redirect: 'manual', headers: { cookie: customer.sessionCookie } },
    );
    const code = new Secret(new URL(authorize.headers.get('location')!).searchParams.get('code')!);
    const issued = await oauth.exchangeCode(endpoints.tokenUrl, client, { code, redirectUri: REDIRECT_URI, verifier, scope: settings.scopeId });
    const secretId = secretNames.connection(prefix, customer.id);
    await aws.clients.secretsManager.send(new CreateSecretCommand({ Name: secretId, SecretString: connectionSecretValue(issued, clock.now()) }));
    await documents.send(new PutCommand({ TableName: table, Item: { pk: `CONN#${customer.id}`, sk: 'CONNECTION', status: 'ACTIVE', brand, region } }));
    const connection: Connection = { customerId: customer.id, brand, region, secretId };
    return { connection, issued, code, verifier, sandboxCustomer: customer };
  }

  async function connectionStatus(customerId: string): Promise<string | undefined> {
    const { Item } = await documents.send(new GetCommand({ TableName: table, Key: { pk: `CONN#${customerId}`, sk: 'CONNECTION' } }));
    return Item?.status as string | undefined;
  }

  async function control<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${sandbox.baseUrl}/__sandbox${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Token endpoint calls the sandbox received since the last reset of its call log. */
  async function tokenCalls(brand = 'ring'): Promise<number> {
    const calls = await control<{ method: string; path: string }[]>('GET', '/calls');
    return calls.filter((call) => call.method === 'POST' && call.path === `/${brand}/oauth/oauth/token`).length;
  }

  return {
    aws,
    table,
    logger,
    sandbox,
    settings,
    prefix,
    app,
    clock,
    sleeps,
    together,
    secrets,
    credentials,
    oauth,
    leases,
    tokens,
    limiter,
    intake,
    endpointsOf,
    connect,
    connectionStatus,
    control,
    tokenCalls,
    stop: async () => {
      await sandbox.stop();
      aws.clients.destroy();
    },
  };
}

export type RingWorld = Awaited<ReturnType<typeof ringWorld>>;
