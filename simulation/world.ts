import { HttpsCertificateFetcher, HttpSubscriptionConfirmer } from '../lambdas/adapters/certificate-fetcher';
import { makeCallbackHandler } from '../lambdas/callback/app';
import { makeCollectHandler } from '../lambdas/collect/app';
import { makeConnectHandler } from '../lambdas/connect/app';
import type { ConnectDeps } from '../lambdas/core/connections/connect';
import { secretNames } from '../lambdas/core/definitions';
import type { NotificationQueryStore } from '../lambdas/core/notifications/handle';
import type { Clock, ConnectionRepository, ConnectionStatusStore } from '../lambdas/core/ports';
import { snsVerifierFromSettings } from '../lambdas/core/notifications/sns-verifier';
import { ImportAdmission, ScheduleRelease } from '../lambdas/core/queries/admission';
import { ClientCredentialsProvider } from '../lambdas/core/ring/client-credentials';
import { resolveEndpoints } from '../lambdas/core/ring/endpoints';
import { IntakeClient } from '../lambdas/core/ring/intake-client';
import { OAuthClient } from '../lambdas/core/ring/oauth-client';
import { RateLimiter } from '../lambdas/core/ring/rate-limiter';
import { TokenService } from '../lambdas/core/ring/token-service';
import { parseSettings, REGIONS, type Region, type Settings } from '../lambdas/core/settings';
import { makeImportsHandler } from '../lambdas/imports/app';
import { makeNotificationsHandler } from '../lambdas/notifications/app';
import { makeScheduleHandler } from '../lambdas/schedule/app';
import { MemoryAuthorizationStateStore, MemoryConnectionRepository, MemoryConnectionStatusStore } from '../local/memory/connection-stores';
import { MemoryLeaseStore, MemoryRateLimitStore } from '../local/memory/dynamodb-stores';
import { MemoryImportScheduleStore, MemoryTokenAgeIndex } from '../local/memory/import-schedule';
import { MemoryCollectStore, MemoryCompletionStore, MemoryManifestWriter, MemoryNotificationQueryStore, MemoryQueryRepository, MemorySubscriptionStore } from '../local/memory/query-stores';
import { MemoryQueue } from '../local/memory/queue';
import { MemorySecrets } from '../local/memory/secrets';
import { MemoryTable } from '../local/memory/table';
import { LOCAL_CONSUMERS } from '../local/runtime';
import type { FaultRule } from '../sandbox/faults';
import type { NotificationDelivery } from '../sandbox/notifications';
import { Rng } from '../sandbox/random';
import { Sandbox } from '../sandbox/sandbox';
import { Engine } from './engine';
import { httpEvent, lambdaContext, metered, QueueConsumer } from './lambda';
import { PRODUCT_LIMITS, type LimitProfile } from './limits';
import { DAY_MS, Recorder } from './recorder';
import { RingTap } from './ring-tap';

export interface FaultProfile {
  /** Share of createDataQuery calls answered 500 or 429 by injection (half each). */
  readonly createDataQuery: number;
  /** Share of notifications Ring never sends. */
  readonly notificationsLost: number;
  /** Share of consents the customer revokes during the run, each at a random time. */
  readonly revoked: number;
}

export const DEFAULT_FAULTS: FaultProfile = { createDataQuery: 0.05, notificationsLost: 0.02, revoked: 0.01 };

export interface SimulationOptions {
  readonly connections: number;
  readonly days: number;
  readonly limits: LimitProfile;
  readonly seed: number;
  /** How often a connection wants an import (settings.schedules.importIntervalMinutes). @default 1440 */
  readonly importIntervalMinutes?: number;
  /** Sandbox time from createDataQuery to the query's end. @default 120 s */
  readonly queryDelaySeconds?: number;
  /** How long Ring keeps an unused refresh token (the sandbox's refreshTokenIdleMs). @default 30 days */
  readonly refreshTokenIdleDays?: number;
  /** When the token keeper refreshes an idle connection (settings.schedules.refreshTokenMaxAgeDays). @default 20 days */
  readonly refreshTokenMaxAgeDays?: number;
  readonly faults?: FaultProfile;
  /** How many connect flows run at once while connections are created. @default 16 */
  readonly connectConcurrency?: number;
  /** Told of progress (one line per simulated day). */
  readonly progress?: (line: string) => void;
}

/** Where the run starts: a Monday, midnight UTC, so simulated days are Ring's quota days. */
export const START_AT = Date.UTC(2031, 0, 6);
const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';
/** Never connected to: the sandbox's notification transport hands deliveries to the handler (see `deliver`). */
const NOTIFICATION_URL = 'http://127.0.0.1:9/notifications/v1';
const SCHEDULE_TIMEOUT_SECONDS = 300;
const HTTP_TIMEOUT_SECONDS = 30;
const DISPATCH_EVERY_MS = 60_000;

export type World = Awaited<ReturnType<typeof buildWorld>>;

/**
 * The product as it runs on AWS, on one machine and virtual time: its real Lambda handlers
 * (`make*Handler`) and domain, its real Ring client (IntakeClient, OAuthClient, TokenService,
 * RateLimiter) talking HTTP to an in-process Ring sandbox, and its AWS stores in memory
 * (local/memory, the DynamoDB/Secrets Manager/SQS adapters' semantics). EventBridge is the
 * engine's timers, SQS event source mappings are `QueueConsumer`s, SNS deliveries are handed
 * by the sandbox to the notifications handler. The sandbox's clock and the product's are one.
 */
export async function buildWorld(options: SimulationOptions) {
  const faults = options.faults ?? DEFAULT_FAULTS;
  const end = START_AT + options.days * DAY_MS;
  const rng = new Rng(options.seed);
  let deliver: (delivery: NotificationDelivery) => Promise<number> = () => Promise.reject(new Error('the world is not built yet'));
  const sandbox = new Sandbox({
    clock: { mode: 'manual', startAt: START_AT },
    seed: `simulation-${options.seed}`,
    queryDelayMs: (options.queryDelaySeconds ?? 120) * 1000,
    limits: options.limits,
    refreshTokenIdleMs: (options.refreshTokenIdleDays ?? 30) * DAY_MS,
    notificationTransport: (delivery) => deliver(delivery),
  });
  await sandbox.start();
  const engine = new Engine(sandbox.clock);
  const { clock } = engine;
  const recorder = new Recorder(START_AT, end);
  sandbox.observe((event) => recorder.sandboxEvent(event));
  engine.onEnd = (invocation, endedAt) => recorder.invocationEnded(invocation, endedAt);
  const tap = new RingTap(sandbox, engine, (call) => recorder.ringCall(call));
  const logger = recorder.logger;

  const settings = simulationSettings(sandbox, options);
  const prefix = settings.resourcePrefix;

  // The AWS side, in memory; each store counted against the invocation using it.
  const table = new MemoryTable();
  const secrets = metered(engine, new MemorySecrets());
  const connections = metered(engine, new MemoryConnectionRepository(table));
  const queryRecords = metered(engine, new MemoryQueryRepository(table));
  const notificationQueries = metered(engine, observedQueries(new MemoryNotificationQueryStore(table), recorder));
  const schedule = metered(engine, new MemoryImportScheduleStore());
  const tokenAges = metered(engine, new MemoryTokenAgeIndex());
  const scheduleDeps = { schedule, clock, logger };
  const admission = new ImportAdmission(scheduleDeps, async (customerId) => (await connections.get(customerId))?.brand);
  const release = new ScheduleRelease({ ...scheduleDeps, intervalMs: settings.schedules.importIntervalMinutes * 60_000 });
  const queue = (name: string, timeoutSeconds: number) =>
    new MemoryQueue({
      name,
      now: () => engine.now(),
      visibilityTimeoutSeconds: 6 * timeoutSeconds,
      maxReceiveCount: settings.pipeline.maxReceiveCount,
      onVisibleAt: (at) => consumers.get(name)?.wake(at),
    });
  const consumers = new Map<string, QueueConsumer>();
  const importsQueue = queue('imports', LOCAL_CONSUMERS.imports.timeoutSeconds);
  const completedQueue = queue('completedQueries', LOCAL_CONSUMERS.completedQueries.timeoutSeconds);
  const filesQueue = queue('files', LOCAL_CONSUMERS.files.timeoutSeconds);

  // The Ring client, as lambdas/shared/runtime.ts wires it, over the tap.
  const credentials = new ClientCredentialsProvider(secrets, (brand) => secretNames.clientCredentials(prefix, brand), clock);
  const oauth = new OAuthClient({ fetch: tap.fetch });
  const endpointsOf = (connection: { brand: string; region: string }) => resolveEndpoints(settings.endpoints, connection.brand, connection.region, settings.scopeId);
  const tokens = new TokenService({
    secrets,
    tokenAges,
    leases: metered(engine, new MemoryLeaseStore(table)),
    connections: metered(engine, observedStatus(new MemoryConnectionStatusStore(table), new MemoryConnectionRepository(table), recorder, clock)),
    oauth,
    credentials,
    tokenUrl: (connection) => endpointsOf(connection).tokenUrl,
    clock,
    logger,
  });
  const limiter = new RateLimiter(metered(engine, new MemoryRateLimitStore(table)), settings.rateLimits, clock);
  const intake = new IntakeClient({ tokens, limiter, intakeUrl: (connection) => endpointsOf(connection).intakeUrl, clock, logger, fetch: tap.fetch });

  const connectDeps: ConnectDeps = {
    settings,
    redirectUri: REDIRECT_URI,
    states: metered(engine, new MemoryAuthorizationStateStore(table)),
    connections,
    secretAdmin: secrets,
    imports: admission,
    tokenAges,
    credentials,
    oauth,
    clock,
    logger,
  };
  const connectHandler = makeConnectHandler(connectDeps);
  const callbackHandler = makeCallbackHandler(connectDeps);
  const notificationsHandler = makeNotificationsHandler({
    verifier: snsVerifierFromSettings(settings.notifications, { clock, fetcher: new HttpsCertificateFetcher() }),
    queries: notificationQueries,
    completed: completedQueue,
    imports: admission,
    importSchedule: release,
    subscriptions: metered(engine, new MemorySubscriptionStore(table)),
    confirmer: new HttpSubscriptionConfirmer(),
    clock,
    logger,
    metrics: recorder.counter,
  });
  const scheduleHandler = makeScheduleHandler({
    settings,
    connections,
    queryRecords,
    queries: notificationQueries,
    intake,
    tokens,
    tokenAges,
    imports: admission,
    importSchedule: release,
    completed: completedQueue,
    schedule,
    importsQueue,
    clock,
    logger,
    metrics: recorder.counter,
    completion: { store: metered(engine, new MemoryCompletionStore(table)), manifests: new MemoryManifestWriter() },
  });
  const importsHandler = makeImportsHandler({ connections, queries: queryRecords, intake, clock, logger, importsQueue, schedule, settings, metrics: recorder.counter });
  const collectHandler = makeCollectHandler({
    store: metered(engine, new MemoryCollectStore(table)),
    connections,
    intake,
    files: filesQueue,
    imports: admission,
    completedQueue,
    clock,
    logger,
    metrics: recorder.counter,
  });
  consumers.set('imports', new QueueConsumer(engine, importsQueue, importsHandler, { name: 'imports', ...LOCAL_CONSUMERS.imports }));
  consumers.set('completedQueries', new QueueConsumer(engine, completedQueue, collectHandler, { name: 'collect', ...LOCAL_CONSUMERS.completedQueries }));

  deliver = (delivery) =>
    new Promise<number>((resolve) => {
      void engine
        .spawn('notifications', async () => {
          const result = (await notificationsHandler(
            httpEvent({ method: 'POST', path: '/notifications/v1', headers: delivery.headers, body: delivery.body, now: engine.now() }),
            lambdaContext(engine, 'notifications', HTTP_TIMEOUT_SECONDS),
          ));
          resolve(result.statusCode ?? 200);
        })
        // A handler that threw: API Gateway answers 500.
        .then(() => resolve(500));
    });

  /** One customer through the product's connect link, Ring's consent (preset: no pages) and the callback. */
  async function connectOne(index: number): Promise<string> {
    const region: Region = REGIONS[index % REGIONS.length];
    const customer = await control<{ id: string; sessionCookie: string }>(sandbox, 'POST', '/customers', {
      brand: 'ring',
      region,
      consent: { history: '30d', duration: '1y' },
      datasets: {},
      email: `customer-${index}@simulation.example`,
    });
    const link = await connectHandler(
      httpEvent({ method: 'POST', path: '/connections', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerId: customer.id, brand: 'ring', region }), now: engine.now() }),
      lambdaContext(engine, 'connect', HTTP_TIMEOUT_SECONDS),
    );
    if (link.statusCode !== 201) throw new Error(`POST /connections answered ${link.statusCode}: ${String(link.body)}`);
    const { authorizeUrl } = JSON.parse(String(link.body)) as { authorizeUrl: string };
    // The customer's browser, signed in at Ring with a consent given: straight back with a code.
    const authorize = await fetch(authorizeUrl, { redirect: 'manual', headers: { cookie: customer.sessionCookie } });
    await authorize.arrayBuffer();
    const location = new URL(authorize.headers.get('location') ?? 'http://invalid/');
    const callback = (await callbackHandler(
      httpEvent({ method: 'GET', path: '/oauth/callback', query: Object.fromEntries(location.searchParams), now: engine.now() }),
      lambdaContext(engine, 'callback', HTTP_TIMEOUT_SECONDS),
    ));
    if (callback.statusCode !== 200) throw new Error(`the callback answered ${callback.statusCode} for ${customer.id}`);
    recorder.connected(customer.id, engine.now());
    return customer.id;
  }

  /**
   * The product's app at Ring, its client credentials in the product's secret; its SNS
   * subscriptions are confirmed by the notifications handler (the sandbox sends it one
   * confirmation per topic as the app is registered).
   */
  async function registerApp(): Promise<void> {
    const app = await control<{ clientId: string; clientSecret: string }>(sandbox, 'POST', '/apps', {
      name: 'ring-portability (simulation)',
      redirectUris: [REDIRECT_URI],
      notificationUrl: NOTIFICATION_URL,
      signatureVersion: '2',
    });
    await secrets.upsert(secretNames.clientCredentials(prefix, 'ring'), JSON.stringify({ client_id: app.clientId, client_secret: app.clientSecret }));
  }

  /**
   * Creates every connection at the start, `connectConcurrency` at a time, through the real
   * connect flow rather than by seeding Ring's grants and the product's rows: the connect link's
   * state and PKCE verifier, the code exchange, the connection's secret, its row, its token age
   * and the admission of its first import are exactly what the month then runs on, and a
   * seeded copy could drift from them unnoticed. It costs three loopback HTTP calls a customer
   * (about a minute for 10,000), at the start's instant of virtual time.
   */
  async function connectAll(): Promise<string[]> {
    const ids: string[] = new Array<string>(options.connections);
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < options.connections; index = next++) ids[index] = await connectOne(index);
    };
    await Promise.all(Array.from({ length: Math.min(options.connectConcurrency ?? 16, options.connections) }, worker));
    return ids;
  }

  /** EventBridge: the schedule handler's tasks, each run its own invocation. */
  function startSchedules(): void {
    const task = (name: 'dispatch-imports' | 'poll-overdue' | 'token-keeper') => async () => {
      const result = (await scheduleHandler({ task: name }, lambdaContext(engine, name, SCHEDULE_TIMEOUT_SECONDS))) as Record<string, unknown>;
      recorder.taskResult(name, result, engine.now());
    };
    engine.every(START_AT, DISPATCH_EVERY_MS, 'dispatch-imports', task('dispatch-imports'));
    engine.every(START_AT + settings.schedules.overduePollMinutes * 60_000, settings.schedules.overduePollMinutes * 60_000, 'poll-overdue', task('poll-overdue'));
    const keeperEvery = settings.schedules.tokenKeeperIntervalMinutes * 60_000;
    engine.every(START_AT + keeperEvery, keeperEvery, 'token-keeper', task('token-keeper'));
    engine.every(START_AT + DAY_MS, DAY_MS, 'simulation:sample', () => {
      recorder.sample(engine.now());
      options.progress?.(progressLine(engine.now()));
      return Promise.resolve();
    });
  }

  /** The customers who revoke their consent during the run, each at a random moment of it. */
  function scheduleRevocations(customerIds: readonly string[]): void {
    const count = Math.round(customerIds.length * faults.revoked);
    const chosen = new Set<string>();
    while (chosen.size < count) chosen.add(customerIds[Math.floor(rng.next() * customerIds.length)]);
    for (const customerId of chosen) {
      const at = START_AT + Math.floor(rng.next() * (end - START_AT));
      engine.at(at, 'simulation:revoke', async () => {
        await control(sandbox, 'POST', `/customers/${encodeURIComponent(customerId)}/revoke`, {});
        recorder.revoked(customerId, engine.now());
      });
    }
  }

  async function setFaults(): Promise<void> {
    const rules: FaultRule[] = (
      [
        { operation: 'createDataQuery', probability: faults.createDataQuery / 2, error: 'INTERNAL_SERVER_ERROR' },
        { operation: 'createDataQuery', probability: faults.createDataQuery / 2, error: 'TOO_MANY_REQUESTS', retryAfterSeconds: 1 },
        { operation: 'notification', probability: faults.notificationsLost, drop: true },
      ] satisfies FaultRule[]
    ).filter((rule) => rule.probability > 0);
    await control(sandbox, 'PUT', '/faults', { rules });
  }

  const wallStart = Date.now();
  function progressLine(at: number): string {
    const day = Math.round((at - START_AT) / DAY_MS);
    const sample = recorder.samples.at(-1);
    const created = recorder.daily.created[day - 1] ?? 0;
    return `day ${day}/${options.days}: ${created} queries created, backlog ≥ ${recorder.daily.minBacklog[day - 1] ?? 0}, oldest import ${sample?.oldestAgeDays.toFixed(2) ?? '-'} d, ${Math.round((Date.now() - wallStart) / 1000)} s wall, ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB RSS (heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB)`;
  }

  return {
    options,
    faults,
    settings,
    sandbox,
    engine,
    recorder,
    table,
    secrets,
    connections,
    schedule,
    queues: { imports: importsQueue, completed: completedQueue, files: filesQueue },
    end,
    /** Connects every customer, sets the fault profile and starts the schedules and revocations. */
    async start(): Promise<string[]> {
      let ids: string[] = [];
      void engine.spawn('simulation:setup', async () => {
        await registerApp();
        ids = await connectAll();
      });
      // Settles the setup and what it set off (the subscription confirmations), at the start's instant.
      await engine.runUntil(START_AT);
      if (engine.failures.length > 0) throw new AggregateError(engine.failures.map((failure) => failure.error), 'setting up the simulation failed');
      await setFaults();
      startSchedules();
      scheduleRevocations(ids);
      return ids;
    },
    async stop(): Promise<void> {
      await sandbox.stop();
    },
  };
}

/** Decorates the notification store: every query Ring completed, as the product learns of it (notification or polling), is a successful import. */
function observedQueries(store: NotificationQueryStore, recorder: Recorder): NotificationQueryStore {
  return {
    finish: async (queryId, status, now) => {
      const result = await store.finish(queryId, status, now);
      if (result.result === 'transitioned' && status === 'COMPLETED') recorder.succeeded(result.query);
      return result;
    },
    claimCompletion: (queryId, messageId) => store.claimCompletion(queryId, messageId),
    releaseCompletion: (queryId) => store.releaseCompletion(queryId),
  };
}

/** Decorates the status store: when a connection becomes RELINK_REQUIRED, and how many Ring calls had been made by then. */
function observedStatus(store: ConnectionStatusStore, connections: ConnectionRepository, recorder: Recorder, clock: Clock): ConnectionStatusStore {
  return {
    markRelinkRequired: async (customerId, reason, now) => {
      const changed = await store.markRelinkRequired(customerId, reason, now);
      if ((await connections.get(customerId))?.status === 'RELINK_REQUIRED') recorder.relinked(customerId, clock.now());
      return changed;
    },
  };
}

function simulationSettings(sandbox: Sandbox, options: SimulationOptions): Settings {
  return parseSettings(
    {
      resourcePrefix: 'simulation',
      brands: ['ring'],
      endpoints: sandbox.endpoints(),
      notifications: {
        allowedTopicArns: (['ring', 'blink'] as const).flatMap((brand) => REGIONS.map((region) => sandbox.notifications.topicArn(brand, region))),
        signingCertHosts: [new URL(sandbox.baseUrl).origin],
        trustAnchors: sandbox.notifications.identity.caPem,
      },
      schedules: {
        importIntervalMinutes: options.importIntervalMinutes ?? 24 * 60,
        overduePollMinutes: 5,
        tokenKeeperIntervalMinutes: 60,
        ...(options.refreshTokenMaxAgeDays !== undefined ? { refreshTokenMaxAgeDays: options.refreshTokenMaxAgeDays } : {}),
      },
      rateLimits: { createDataQuery: PRODUCT_LIMITS[options.limits] },
    },
    'simulation settings',
  );
}

async function control<T = unknown>(sandbox: Sandbox, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${sandbox.baseUrl}/__sandbox${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`sandbox ${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
