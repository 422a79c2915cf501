import type { IncomingMessage, ServerResponse } from 'node:http';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { RingPortabilityClient } from '../client/src';
import { DynamoDbCompletionStore } from '../lambdas/adapters/ingest-store';
import { API_ROUTES } from '../lambdas/core/api/routes';
import { INGESTION_MAX_INVOCATION_SECONDS, metricsNamespace, secretNames, type PipelineQueueName } from '../lambdas/core/definitions';
import type { Logger } from '../lambdas/core/ports';
import { parseSettings, REGIONS, type Settings, type SettingsInput } from '../lambdas/core/settings';
import type { Sandbox } from '../sandbox/sandbox';
import { FAULT_PROFILES, type FaultProfile } from './faults';
import { serveHandlers, type HttpHandler, type LocalRoute } from './http-adapter';
import { LOCAL_REGION, startLocalAws, type LocalAws } from './local-aws';
import { livePage } from './page/live-page';
import { readRuntimeRecord, registerSandboxApp, listenPreferring, startSandbox, writeRuntimeRecord } from './runtime-state';
import { LOCAL_API_CREDENTIALS } from './sigv4';
import { SqsPoller, type SqsHandler } from './sqs-poller';

/**
 * How each SQS consumer runs on AWS (lib/stateless/*.ts): batch size, concurrency, timeout.
 * A CDK test holds this table to the synthesized template.
 */
export const LOCAL_CONSUMERS: Record<PipelineQueueName, { readonly handler: string; readonly batchSize: number; readonly concurrency: number; readonly timeoutSeconds: number }> = {
  imports: { handler: 'imports', batchSize: 5, concurrency: 5, timeoutSeconds: 60 },
  completedQueries: { handler: 'collect', batchSize: 1, concurrency: 5, timeoutSeconds: INGESTION_MAX_INVOCATION_SECONDS },
  files: { handler: 'fetch', batchSize: 1, concurrency: 10, timeoutSeconds: INGESTION_MAX_INVOCATION_SECONDS },
  loads: { handler: 'load', batchSize: 1, concurrency: 10, timeoutSeconds: INGESTION_MAX_INVOCATION_SECONDS },
};

/** The HTTP API's routes, from the route table CDK builds them from (lambdas/core/api/routes.ts); a CDK test holds them to the template. */
export const LOCAL_ROUTES: readonly { readonly method: string; readonly path: string; readonly handler: string; readonly iam: boolean }[] = API_ROUTES.map((route) => ({
  method: route.method,
  path: route.path,
  handler: route.handler,
  iam: route.auth === 'iam',
}));

const SCHEDULED_TASKS = ['poll-overdue', 'dispatch-imports', 'token-keeper'] as const;

export interface RuntimeOptions {
  /** Port of the local API. @default a free port */
  readonly port?: number;
  /** Sandbox fault profile. @default none */
  readonly faults?: FaultProfile;
  /** Sandbox time from a data query to its notification. @default 2000 ms */
  readonly queryDelayMs?: number;
  /** How often the schedules run locally (EventBridge runs them every few minutes). @default 10 s */
  readonly scheduleEverySeconds?: number;
  /** Settings on top of the local ones. */
  readonly settings?: SettingsInput;
  /** Powertools log level of the handlers. @default ERROR */
  readonly logLevel?: string;
  /** Where the runtime's own problems go (a poller that cannot reach SQS, a failed schedule). */
  readonly onProblem?: (what: string, error: unknown) => void;
  /**
   * Where the local system keeps its state (`npm start --data-dir`, prepared by `prepareDataDir`
   * in local/data-dir.ts): the sandbox's and the AWS stand-ins' (local/local-aws.ts). A runtime
   * started again on it goes on where the last one stopped or was killed. @default in memory,
   * gone when the process ends
   */
  readonly dataDir?: string;
}

export interface Runtime {
  readonly apiUrl: string;
  readonly sandbox: Sandbox;
  readonly aws: LocalAws;
  readonly settings: Settings;
  /** Invocations under way, per queue. */
  busy(): Record<PipelineQueueName, number>;
  /** The integrator's backend's client, signing with `LOCAL_API_CREDENTIALS` (local/sigv4.ts). */
  readonly client: RingPortabilityClient;
  stop(): Promise<void>;
}

/**
 * The whole system on one machine: the emulators and the Ring sandbox on 127.0.0.1, the
 * product's resources created from the same definitions as the CDK construct, and **the same
 * Lambda handler modules** (`lambdas/<name>/handler.ts`) with the environment CDK gives them,
 * their SDK clients pointed at the emulators by the SDK's own AWS_ENDPOINT_URL_<SERVICE>
 * variables: HTTP routes behind a local server that builds API Gateway v2 events, SQS
 * consumers as pollers, the schedules on timers. A sandbox app is registered with the local
 * callback and notification URLs; its SNS subscriptions are confirmed by the product's own
 * notification handler.
 *
 * The handler modules read their environment when loaded, and Node loads a module once: one
 * runtime per process.
 */
export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const problem = options.onProblem ?? (() => undefined);
  let routes: LocalRoute[] = [];
  let demoPage: ((request: IncomingMessage, response: ServerResponse) => Promise<boolean>) | undefined;
  const previous = readRuntimeRecord(options.dataDir);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch((error: unknown) => problem('stopping', error));
  };
  try {
    // Powertools says this after every invocation that counted nothing; metrics are off locally anyway.
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('No application metrics to publish')) return;
      warn(...args);
    };
    stops.push(() => Promise.resolve(void (console.warn = warn)));
    const sandbox = await startSandbox({ queryDelayMs: options.queryDelayMs ?? 2_000 }, options.dataDir, previous);
    stops.push(() => sandbox.stop());
    const serve = (port: number) => serveHandlers(() => routes, { port, iam: { credentials: [LOCAL_API_CREDENTIALS], region: LOCAL_REGION }, fallback: (request, response) => demoPage?.(request, response) ?? Promise.resolve(false) });
    // A port asked for is taken or fails; the last run's is taken again if it is free.
    const server = await (options.port === undefined ? listenPreferring(previous?.apiPort, serve) : serve(options.port));
    stops.push(() => server.stop());
    const apiUrl = server.url;

    const settings = parseSettings({
      resourcePrefix: 'local',
      brands: ['ring', 'blink'],
      endpoints: sandbox.endpoints(),
      allowedReturnOrigins: [new URL(apiUrl).origin],
      ...options.settings,
      notifications: { ...localNotificationSettings(sandbox), ...options.settings?.notifications },
      schedules: { notificationOverdueMinutes: 1, overduePollMinutes: 1, ...options.settings?.schedules },
    });

    const aws = await startLocalAws({ settings, dataDir: options.dataDir });
    // Stopped last (stops run in reverse): the pollers, the local API's invocations under way and
    // the sandbox's notification deliveries all still write to it while they wind down.
    stops.unshift(() => aws.stop());
    const app = await registerSandboxApp(sandbox, apiUrl, previous);
    writeRuntimeRecord(options.dataDir, { apiPort: Number(new URL(apiUrl).port), sandboxPort: Number(new URL(sandbox.baseUrl).port), clientId: app.clientId });
    for (const brand of settings.brands) {
      await aws.clients.secretsManager.send(
        new PutSecretValueCommand({ SecretId: secretNames.clientCredentials(settings.resourcePrefix, brand), SecretString: JSON.stringify({ client_id: app.clientId, client_secret: app.clientSecret }) }),
      );
    }

    const { handlers, logger } = loadHandlers(settings, aws, apiUrl, options.logLevel ?? 'ERROR');
    routes = LOCAL_ROUTES.map((route) => ({ method: route.method, path: route.path, iam: route.iam, handler: loggedRoute(logger, `${route.method} ${route.path}`, handlers[route.handler] as HttpHandler) }));

    const pollers = (Object.keys(LOCAL_CONSUMERS) as PipelineQueueName[]).map((name) => {
      const consumer = LOCAL_CONSUMERS[name];
      const queue = aws.resources.queues[name];
      const poller = new SqsPoller(aws.clients.sqs, loggedConsumer(logger, name, handlers[consumer.handler] as SqsHandler), {
        name: consumer.handler,
        queueUrl: queue.url,
        queueArn: queue.arn,
        region: aws.region,
        batchSize: consumer.batchSize,
        concurrency: consumer.concurrency,
        timeoutSeconds: consumer.timeoutSeconds,
        onError: (error) => problem(`${consumer.handler} poller`, error),
      });
      poller.start();
      return [name, poller] as const;
    });
    stops.push(() => Promise.all(pollers.map(([, poller]) => poller.stop())).then(() => undefined));

    let scheduling = false;
    const runSchedules = async () => {
      if (scheduling) return;
      scheduling = true;
      try {
        for (const task of SCHEDULED_TASKS) await (handlers.schedule as (event: unknown, context: Context) => Promise<unknown>)({ task }, scheduleContext()).catch((error: unknown) => problem(`schedule ${task}`, error));
      } finally {
        scheduling = false;
      }
    };
    const timer = setInterval(() => void runSchedules(), (options.scheduleEverySeconds ?? 10) * 1000);
    stops.push(async () => {
      clearInterval(timer);
      while (scheduling) await new Promise((resolve) => setTimeout(resolve, 50));
    });

    // Subscribing now sends the SNS SubscriptionConfirmations, which the notification handler confirms.
    await sandboxCall(sandbox, 'PATCH', `/apps/${app.clientId}`, { notificationUrl: `${apiUrl}/notifications/v1` });
    if (options.faults) await sandboxCall(sandbox, 'PUT', '/faults', { rules: FAULT_PROFILES[options.faults] });

    const client = new RingPortabilityClient({ endpoint: apiUrl, region: LOCAL_REGION, credentials: LOCAL_API_CREDENTIALS });
    // The integrator's app at `/`: "Connect Ring" and the live view of connections, imports and events.
    const fileTasks = new DynamoDbCompletionStore(aws.clients.documents, aws.resources.controlTable);
    demoPage = livePage({
      client,
      events: () => aws.eventBridge.events(aws.resources.eventBus),
      fileTasks: (queryId) => fileTasks.files(queryId),
      sandboxOrigin: new URL(sandbox.baseUrl).origin,
      onProblem: (error) => problem('live page', error),
    });

    return {
      apiUrl,
      sandbox,
      aws,
      settings,
      busy: () => Object.fromEntries(pollers.map(([name, poller]) => [name, poller.busy])) as Record<PipelineQueueName, number>,
      client,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * What the local system trusts notifications from: the sandbox's topics, certificates from the
 * sandbox's exact origin (scheme, host and port: not any 127.0.0.1, where anyone may serve one)
 * and chaining to the sandbox's CA, the only trust anchor.
 */
export function localNotificationSettings(sandbox: Sandbox) {
  return {
    allowedTopicArns: (['ring', 'blink'] as const).flatMap((brand) => REGIONS.map((region) => `arn:aws:sns:${region}:123456789012:ring-data-portability-${brand}`)),
    signingCertHosts: [new URL(sandbox.baseUrl).origin],
    trustAnchors: sandbox.notifications.identity.caPem,
  };
}

/** The environment CDK gives the functions (a superset: each reads what its own schema names). */
function loadHandlers(settings: Settings, aws: LocalAws, apiUrl: string, logLevel: string): { handlers: Record<string, unknown>; logger: Logger } {
  const { queues } = aws.resources;
  Object.assign(process.env, {
    AWS_REGION: aws.region,
    AWS_DEFAULT_REGION: aws.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: aws.endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: aws.endpoints.s3,
    AWS_ENDPOINT_URL_SQS: aws.endpoints.sqs,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoints.secretsManager,
    AWS_ENDPOINT_URL_EVENTBRIDGE: aws.endpoints.eventBridge,
    POWERTOOLS_LOG_LEVEL: logLevel,
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Dev mode: Powertools writes through the global console (readable logs, and the filter above).
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(settings.resourcePrefix),
    SETTINGS: JSON.stringify(settings),
    CONTROL_TABLE: aws.resources.controlTable,
    RECORDS_TABLE: aws.resources.recordsTable,
    RAW_BUCKET: aws.resources.rawDataBucket,
    KMS_KEY_ID: 'alias/local',
    CLIENT_CREDENTIALS_SECRETS: JSON.stringify(aws.resources.clientSecrets),
    REDIRECT_URI: `${apiUrl}/oauth/callback`,
    IMPORTS_QUEUE_URL: queues.imports.url,
    COMPLETED_QUEUE_URL: queues.completedQueries.url,
    FILES_QUEUE_URL: queues.files.url,
    LOADS_QUEUE_URL: queues.loads.url,
    EVENT_BUS: aws.resources.eventBus,
  });
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded after the environment is set, as Lambda loads them */
  const handlers = {
    connect: (require('../lambdas/connect/handler') as { handler: unknown }).handler,
    callback: (require('../lambdas/callback/handler') as { handler: unknown }).handler,
    connections: (require('../lambdas/connections/handler') as { handler: unknown }).handler,
    notifications: (require('../lambdas/notifications/handler') as { handler: unknown }).handler,
    imports: (require('../lambdas/imports/handler') as { handler: unknown }).handler,
    schedule: (require('../lambdas/schedule/handler') as { handler: unknown }).handler,
    collect: (require('../lambdas/collect/handler') as { handler: unknown }).handler,
    fetch: (require('../lambdas/fetch/handler') as { handler: unknown }).handler,
    load: (require('../lambdas/load/handler') as { handler: unknown }).handler,
  };
  return { handlers, logger: (require('../lambdas/shared/runtime') as { logger: Logger }).logger };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

function scheduleContext(): Context {
  const deadline = Date.now() + 300_000;
  return { functionName: 'schedule', getRemainingTimeInMillis: () => deadline - Date.now() } as unknown as Context;
}

export async function sandboxCall<T = unknown>(sandbox: Sandbox, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${sandbox.baseUrl}/__sandbox${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`sandbox ${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * The handlers log nothing at DEBUG of their own: the local API's requests and the queue batches
 * the pollers deliver are what `npm start -- --log-level DEBUG` adds, through the handlers'
 * logger, as API Gateway's access log and Lambda's invocation lines would show them.
 */
function loggedRoute(logger: Logger, routeKey: string, handler: HttpHandler): HttpHandler {
  return async (event, context) => {
    const started = performance.now();
    const result = await handler(event, context);
    logger.debug('local API request', { routeKey, path: event.rawPath, status: result.statusCode ?? 200, ms: Math.round(performance.now() - started) });
    return result;
  };
}

function loggedConsumer(logger: Logger, queue: PipelineQueueName, handler: SqsHandler): SqsHandler {
  return async (event, context) => {
    const started = performance.now();
    const result = await handler(event, context);
    logger.debug('queue batch handled', { queue, messages: event.Records.length, failures: result?.batchItemFailures.length ?? 0, ms: Math.round(performance.now() - started) });
    return result;
  };
}
