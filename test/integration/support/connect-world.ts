import type { Context } from 'aws-lambda';
import { AwsCustomerDataStore, SecretsManagerAdmin } from '../../../lambdas/adapters/aws-admin';
import { DynamoDbImportScheduleStore, DynamoDbTokenAgeIndex } from '../../../lambdas/adapters/import-schedule-store';
import { dispatchImports, ImportAdmission, ScheduleRelease } from '../../../lambdas/core/queries/admission';
import type { WorkQueue } from '../../../lambdas/core/ports';
import { DynamoDbAuthorizationStateStore, DynamoDbConnectionRepository } from '../../../lambdas/adapters/connection-stores';
import { DynamoDbConnectionDirectory, DynamoDbImportHistory } from '../../../lambdas/adapters/listings';
import { DynamoDbQueryRepository } from '../../../lambdas/adapters/query-store';
import { makeCallbackHandler } from '../../../lambdas/callback/app';
import { makeConnectHandler } from '../../../lambdas/connect/app';
import { makeConnectionsHandler } from '../../../lambdas/connections/app';
import type { ConnectDeps } from '../../../lambdas/core/connections/connect';
import type { ManageDeps } from '../../../lambdas/core/connections/manage';
import { retentionWindows } from '../../../lambdas/core/connections/erasure';
import { httpEvent } from './http-event';
import { REDIRECT_URI, ringWorld, type WorldOptions } from './ring-world';

export const RETURN_ORIGIN = 'https://app.example.com';

/** The connect-flow handlers wired to the sandbox and local AWS, each file with its own imports queue. */
export async function connectWorld(options: WorldOptions = {}) {
  const world = await ringWorld({ ...options, settings: { allowedReturnOrigins: [RETURN_ORIGIN], ...options.settings } });
  const { aws } = world;
  const connections = new DynamoDbConnectionRepository(aws.clients.documents, world.table);
  const schedule = new DynamoDbImportScheduleStore(aws.clients.documents, world.table);
  const tokenAges = new DynamoDbTokenAgeIndex(aws.clients.documents, world.table);
  const imports = new ImportAdmission({ schedule, clock: world.clock, logger: options.logger ?? world.logger }, async (customerId) => (await connections.get(customerId))?.brand);
  const release = new ScheduleRelease({ schedule, clock: world.clock, logger: options.logger ?? world.logger, intervalMs: world.settings.schedules.importIntervalMinutes * 60_000 });
  const secretAdmin = new SecretsManagerAdmin(aws.clients.secretsManager);
  const logger = options.logger ?? world.logger;
  const connectDeps: ConnectDeps = {
    settings: world.settings,
    redirectUri: REDIRECT_URI,
    states: new DynamoDbAuthorizationStateStore(aws.clients.documents, world.table),
    connections,
    secretAdmin,
    imports,
    tokenAges,
    credentials: world.credentials,
    oauth: world.oauth,
    clock: world.clock,
    logger,
  };
  const manageDeps: ManageDeps = {
    connections,
    secretAdmin,
    imports,
    data: new AwsCustomerDataStore(aws.clients.s3, aws.resources.rawDataBucket, aws.clients.documents, aws.resources.recordsTable),
    retention: retentionWindows(world.settings),
    directory: new DynamoDbConnectionDirectory(aws.clients.documents, world.table),
    history: new DynamoDbImportHistory(aws.clients.documents, world.table),
    clock: world.clock,
    logger,
  };
  const context = {} as Context;
  const connect = makeConnectHandler(connectDeps);
  const callback = makeCallbackHandler(connectDeps);
  const manage = makeConnectionsHandler(manageDeps);

  /** The imports consumer's deps in this world, re-sends going to `importsQueue`. */
  const importsDeps = (importsQueue: WorkQueue) => ({ connections, queries: new DynamoDbQueryRepository(aws.clients.documents, world.table), intake: world.intake, clock: world.clock, logger, importsQueue, schedule, settings: world.settings });
  return {
    ...world,
    connectDeps,
    manageDeps,
    connections,
    schedule,
    tokenAges,
    release,
    importsDeps,
    /** POST /connections */
    createLink: (body: unknown) => connect(httpEvent({ method: 'POST', path: '/connections', body: JSON.stringify(body) }), context),
    /** GET /oauth/callback?… */
    callback: (query: Record<string, string>) => callback(httpEvent({ method: 'GET', path: '/oauth/callback', query }), context),
    status: (customerId: string) => manage(httpEvent({ method: 'GET', path: `/connections/${customerId}`, routeKey: 'GET /connections/{customerId}', pathParameters: { customerId } }), context),
    importNow: (customerId: string) =>
      manage(httpEvent({ method: 'POST', path: `/connections/${customerId}/imports`, routeKey: 'POST /connections/{customerId}/imports', pathParameters: { customerId } }), context),
    disconnect: (customerId: string, purge: boolean) =>
      manage(
        httpEvent({ method: 'DELETE', path: `/connections/${customerId}`, routeKey: 'DELETE /connections/{customerId}', pathParameters: { customerId }, query: purge ? { purge: 'true' } : {} }),
        context,
      ),
    /**
     * The imports waiting in the schedule, dispatched now (no pacing: per-customer limits) as
     * the imports queue's messages would carry them. Each is dispatched once: it is BUSY after.
     */
    async queuedImports(): Promise<{ customerId: string; reason: string; requestedAt: string; ticket: string; attempt?: number }[]> {
      const sent: { customerId: string; reason: string; requestedAt: string; ticket: string }[] = [];
      const capture: WorkQueue = { send: (body) => Promise.resolve(void sent.push(body as never)) };
      const unpaced = { ...world.settings, rateLimits: { ...world.settings.rateLimits, scope: 'customer' as const } };
      await dispatchImports({ settings: unpaced, schedule, connections, imports: capture, clock: world.clock, logger });
      return sent;
    },
    /** A sandbox customer with preset consent follows the authorize URL; returns the redirect's query. */
    async consentAt(authorizeUrl: string, customer: Record<string, unknown> = {}): Promise<Record<string, string>> {
      const created = await world.control<{ sessionCookie: string }>('POST', '/customers', { consent: { history: '30d', duration: '90d' }, ...customer });
      const response = await fetch(authorizeUrl, { redirect: 'manual', headers: { cookie: created.sessionCookie } });
      return Object.fromEntries(new URL(response.headers.get('location')!).searchParams);
    },
    stop: () => world.stop(),
  };
}

export type ConnectWorld = Awaited<ReturnType<typeof connectWorld>>;
