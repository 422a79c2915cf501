import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { AwsCustomerDataStore, SecretsManagerAdmin, SqsWorkQueue } from '../../../lambdas/adapters/aws-admin';
import { DynamoDbAuthorizationStateStore, DynamoDbConnectionRepository } from '../../../lambdas/adapters/connection-stores';
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
  const { QueueUrl } = await aws.clients.sqs.send(new CreateQueueCommand({ QueueName: `${world.prefix}-imports` }));
  const imports = new SqsWorkQueue(aws.clients.sqs, QueueUrl!);
  const connections = new DynamoDbConnectionRepository(aws.clients.documents, world.table);
  const secretAdmin = new SecretsManagerAdmin(aws.clients.secretsManager);
  const logger = options.logger ?? world.logger;
  const connectDeps: ConnectDeps = {
    settings: world.settings,
    redirectUri: REDIRECT_URI,
    states: new DynamoDbAuthorizationStateStore(aws.clients.documents, world.table),
    connections,
    secretAdmin,
    imports,
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
    clock: world.clock,
    logger,
  };
  const context = {} as Context;
  const connect = makeConnectHandler(connectDeps);
  const callback = makeCallbackHandler(connectDeps);
  const manage = makeConnectionsHandler(manageDeps);

  return {
    ...world,
    connectDeps,
    manageDeps,
    connections,
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
    /** Import requests waiting on this world's queue. */
    async queuedImports(): Promise<{ customerId: string; reason: string }[]> {
      const { Messages = [] } = await aws.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }));
      return Messages.map((message) => JSON.parse(message.Body!) as { customerId: string; reason: string });
    },
    /** A sandbox customer with preset consent follows the authorize URL; returns the redirect's query. */
    async consentAt(authorizeUrl: string, customer: Record<string, unknown> = {}): Promise<Record<string, string>> {
      const created = await world.control<{ sessionCookie: string }>('POST', '/customers', { consent: { history: '30d', duration: '90d' }, ...customer });
      const response = await fetch(authorizeUrl, { redirect: 'manual', headers: { cookie: created.sessionCookie } });
      return Object.fromEntries(new URL(response.headers.get('location')!).searchParams);
    },
    stop: async () => {
      await aws.clients.sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await world.stop();
    },
  };
}

export type ConnectWorld = Awaited<ReturnType<typeof connectWorld>>;
