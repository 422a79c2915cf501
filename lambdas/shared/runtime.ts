import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { AwsCustomerDataStore, SecretsManagerAdmin, SqsWorkQueue } from '../adapters/aws-admin';
import { DynamoDbAuthorizationStateStore, DynamoDbConnectionRepository } from '../adapters/connection-stores';
import { HttpsCertificateFetcher, HttpSubscriptionConfirmer } from '../adapters/certificate-fetcher';
import { DynamoDbConnectionDirectory, DynamoDbImportHistory } from '../adapters/listings';
import { DynamoDbConnectionStatusStore, DynamoDbLeaseStore, DynamoDbRateLimitStore } from '../adapters/dynamodb-stores';
import { DynamoDbNotificationQueryStore, DynamoDbQueryRepository, DynamoDbSubscriptionStore } from '../adapters/query-store';
import { SecretsManagerStore } from '../adapters/secrets-manager-store';
import { DynamoDbAnnouncementStore, EventBridgePublisher, S3ManifestReader } from '../adapters/event-bus';
import { announcingConnections, announcingStatusStore, ChangeAnnouncer } from '../core/events/announce';
import { DynamoDbImportScheduleStore, DynamoDbTokenAgeIndex } from '../adapters/import-schedule-store';
import { ImportAdmission, ScheduleRelease } from '../core/queries/admission';
import { snsVerifierFromSettings } from '../core/notifications/sns-verifier';
import { resolveEndpoints } from '../core/ring/endpoints';
import { IntakeClient } from '../core/ring/intake-client';
import { RateLimiter } from '../core/ring/rate-limiter';
import { TokenService } from '../core/ring/token-service';
import type { ConnectDeps } from '../core/connections/connect';
import type { ManageDeps } from '../core/connections/manage';
import { retentionWindows } from '../core/connections/erasure';
import { systemClock, type WorkQueue } from '../core/ports';
import { ConfigurationError } from '../core/errors';
import { parseJsonOrUndefined } from '../core/json';
import { ClientCredentialsProvider } from '../core/ring/client-credentials';
import { OAuthClient } from '../core/ring/oauth-client';
import { parseSettings, type Settings } from '../core/settings';
import type { ConnectionRecord } from '../core/connections/model';

/** The product's settings, handed to every function as one JSON variable and validated with the same schema as synth. */
export const SettingsVariable = z.string().transform((text, ctx): Settings => {
  try {
    return parseSettings(JSON.parse(text), 'SETTINGS');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const name = z.string().min(1);

/** The bus change events go to (name, or ARN for the integrator's own); set only for the functions that publish them. */
const EVENT_BUS = name.optional();

/** Each enabled brand's client-credentials secret (ARN on AWS, where CloudFormation names them). */
const ClientCredentialsSecrets = z.string().transform((text, ctx): Record<string, string> => {
  const parsed = z.record(z.string(), name).safeParse(parseJsonOrUndefined(text));
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object of secret ids by brand' });
    return z.NEVER;
  }
  return parsed.data;
});

/** Looks a brand's client-credentials secret up; a brand without one is a configuration error naming it. */
function clientCredentialsSecretOf(secrets: Record<string, string>): (brand: string) => string {
  return (brand) => {
    const secretId = secrets[brand];
    if (!secretId) throw new ConfigurationError(`No client-credentials secret for brand ${brand}: is it in the brands setting?`);
    return secretId;
  };
}

export const ConnectEnv = z.object({
  SETTINGS: SettingsVariable,
  CONTROL_TABLE: name,
  /** Only the callback queues imports; the connect-link function has no access to the queue. */
  IMPORTS_QUEUE_URL: z.url().optional(),
  REDIRECT_URI: z.url(),
  KMS_KEY_ID: name,
  CLIENT_CREDENTIALS_SECRETS: ClientCredentialsSecrets,
  /** Only the callback announces connections; the connect-link function changes no status. */
  EVENT_BUS,
});

export const ManageEnv = z.object({
  /** For the retention windows a purge reports (logs, access logs, queues). */
  SETTINGS: SettingsVariable,
  CONTROL_TABLE: name,
  RECORDS_TABLE: name,
  RAW_BUCKET: name,
  IMPORTS_QUEUE_URL: z.url(),
  EVENT_BUS,
});

/**
 * One set of SDK clients per container, reused across invocations. The local runtime points
 * them at the emulators with the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables; an S3
 * endpoint of one's own needs path-style addressing (no bucket subdomains on 127.0.0.1).
 * Neither setting changes anything on AWS, where those variables are not set.
 */
export function clients() {
  const dynamodb = new DynamoDBClient({});
  return {
    documents: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    secretsManager: new SecretsManagerClient({}),
    // The emulator's queue URLs name a host of their own (sqs.<region>.localhost): keep to the endpoint.
    sqs: new SQSClient({ useQueueUrlAsEndpoint: !process.env.AWS_ENDPOINT_URL_SQS }),
    s3: new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) }),
    eventBridge: new EventBridgeClient({}),
  };
}

type Clients = ReturnType<typeof clients>;

/**
 * The change-event announcer of a function given a bus (EVENT_BUS), undefined for the others.
 * With the raw-data bucket it announces imports too (load, schedule).
 */
export function changeAnnouncer(aws: Clients, env: { EVENT_BUS?: string; CONTROL_TABLE: string; RAW_BUCKET?: string }): ChangeAnnouncer | undefined {
  if (!env.EVENT_BUS) return undefined;
  return new ChangeAnnouncer({
    publisher: new EventBridgePublisher(aws.eventBridge, env.EVENT_BUS),
    store: new DynamoDbAnnouncementStore(aws.documents, env.CONTROL_TABLE),
    connections: new DynamoDbConnectionRepository(aws.documents, env.CONTROL_TABLE),
    manifests: env.RAW_BUCKET ? { bucket: env.RAW_BUCKET, reader: new S3ManifestReader(aws.s3, env.RAW_BUCKET) } : undefined,
    clock: systemClock,
    logger,
  });
}

/** The connection repository, announcing its status transitions when the function has a bus. */
export function connectionRepository(aws: Clients, env: { EVENT_BUS?: string; CONTROL_TABLE: string }): DynamoDbConnectionRepository {
  const repository = new DynamoDbConnectionRepository(aws.documents, env.CONTROL_TABLE);
  const announcer = changeAnnouncer(aws, env);
  return announcer ? announcingConnections(repository, announcer) : repository;
}

export const logger = new Logger();

/**
 * The import schedule in the control table: where imports are asked for (admission), where a
 * query's end frees its connection's place (release), and the token-age index.
 */
export function importSchedule(documents: DynamoDBDocumentClient, table: string, settings: Settings) {
  const store = new DynamoDbImportScheduleStore(documents, table);
  const connections = new DynamoDbConnectionRepository(documents, table);
  const deps = { schedule: store, clock: systemClock, logger };
  return {
    store,
    admission: new ImportAdmission(deps, async (customerId) => (await connections.get(customerId))?.brand),
    release: new ScheduleRelease({ ...deps, intervalMs: settings.schedules.importIntervalMinutes * 60_000 }),
    tokenAges: new DynamoDbTokenAgeIndex(documents, table),
  };
}

export function connectDeps(env: z.output<typeof ConnectEnv>): ConnectDeps {
  const aws = clients();
  const secrets = new SecretsManagerStore(aws.secretsManager);
  return {
    settings: env.SETTINGS,
    redirectUri: env.REDIRECT_URI,
    states: new DynamoDbAuthorizationStateStore(aws.documents, env.CONTROL_TABLE),
    connections: connectionRepository(aws, env),
    secretAdmin: new SecretsManagerAdmin(aws.secretsManager, env.KMS_KEY_ID),
    imports: importSchedule(aws.documents, env.CONTROL_TABLE, env.SETTINGS).admission,
    tokenAges: new DynamoDbTokenAgeIndex(aws.documents, env.CONTROL_TABLE),
    credentials: new ClientCredentialsProvider(secrets, clientCredentialsSecretOf(env.CLIENT_CREDENTIALS_SECRETS), systemClock),
    oauth: new OAuthClient(),
    clock: systemClock,
    logger,
  };
}

export function manageDeps(env: z.output<typeof ManageEnv>): ManageDeps {
  const aws = clients();
  const announcer = changeAnnouncer(aws, env);
  return {
    connections: connectionRepository(aws, env),
    secretAdmin: new SecretsManagerAdmin(aws.secretsManager),
    imports: importSchedule(aws.documents, env.CONTROL_TABLE, env.SETTINGS).admission,
    data: new AwsCustomerDataStore(aws.s3, env.RAW_BUCKET, aws.documents, env.RECORDS_TABLE),
    retention: retentionWindows(env.SETTINGS),
    ...(announcer ? { onPurged: (connection: ConnectionRecord, eventId: string) => announcer.statusChanged({ connection, status: 'PURGED', previousStatus: connection.status, reason: 'every raw file and record of the customer was deleted for good', eventId }) } : {}),
    directory: new DynamoDbConnectionDirectory(aws.documents, env.CONTROL_TABLE),
    history: new DynamoDbImportHistory(aws.documents, env.CONTROL_TABLE),
    clock: systemClock,
    logger,
  };
}

export const RingEnv = z.object({
  SETTINGS: SettingsVariable,
  CONTROL_TABLE: name,
  IMPORTS_QUEUE_URL: z.url(),
  CLIENT_CREDENTIALS_SECRETS: ClientCredentialsSecrets,
  /** Only the schedule (polling) completes queries; the imports consumer has no access to that queue. */
  COMPLETED_QUEUE_URL: z.url().optional(),
  EVENT_BUS,
});

/** A queue this function was given no access to: using it is a wiring bug, said loudly. */
function unboundQueue(variable: string): WorkQueue {
  return { send: () => Promise.reject(new ConfigurationError(`${variable} is not set for this function`)) };
}

export const NotificationsEnv = z.object({
  SETTINGS: SettingsVariable,
  CONTROL_TABLE: name,
  COMPLETED_QUEUE_URL: z.url(),
  IMPORTS_QUEUE_URL: z.url(),
});

/** The Ring client as a Lambda uses it: token service, rate limiter, intake client. */
export function ringDeps(env: z.output<typeof RingEnv>) {
  const aws = clients();
  const announcer = changeAnnouncer(aws, env);
  const statusStore = new DynamoDbConnectionStatusStore(aws.documents, env.CONTROL_TABLE);
  const settings = env.SETTINGS;
  const secrets = new SecretsManagerStore(aws.secretsManager);
  const credentials = new ClientCredentialsProvider(secrets, clientCredentialsSecretOf(env.CLIENT_CREDENTIALS_SECRETS), systemClock);
  const endpointsOf = (connection: { brand: string; region: string }) => resolveEndpoints(settings.endpoints, connection.brand, connection.region, settings.scopeId);
  const scheduled = importSchedule(aws.documents, env.CONTROL_TABLE, settings);
  const tokens = new TokenService({
    secrets,
    tokenAges: scheduled.tokenAges,
    leases: new DynamoDbLeaseStore(aws.documents, env.CONTROL_TABLE),
    connections: announcer ? announcingStatusStore(statusStore, announcer) : statusStore,
    oauth: new OAuthClient(),
    credentials,
    tokenUrl: (connection) => endpointsOf(connection).tokenUrl,
    clock: systemClock,
    logger,
  });
  const limiter = new RateLimiter(new DynamoDbRateLimitStore(aws.documents, env.CONTROL_TABLE), settings.rateLimits, systemClock);
  const intake = new IntakeClient({ tokens, limiter, intakeUrl: (connection) => endpointsOf(connection).intakeUrl, clock: systemClock, logger });
  return {
    settings,
    tokens,
    intake,
    connections: connectionRepository(aws, env),
    queryRecords: new DynamoDbQueryRepository(aws.documents, env.CONTROL_TABLE),
    queries: new DynamoDbNotificationQueryStore(aws.documents, env.CONTROL_TABLE),
    /** Where re-requests go: the import schedule. */
    imports: scheduled.admission,
    /** The imports queue itself: the dispatcher's messages, and the consumer's own re-sends. */
    importsQueue: new SqsWorkQueue(aws.sqs, env.IMPORTS_QUEUE_URL),
    schedule: scheduled.store,
    importSchedule: scheduled.release,
    tokenAges: scheduled.tokenAges,
    completed: env.COMPLETED_QUEUE_URL ? new SqsWorkQueue(aws.sqs, env.COMPLETED_QUEUE_URL) : unboundQueue('COMPLETED_QUEUE_URL'),
    clock: systemClock,
    logger,
  };
}

export function notificationDeps(env: z.output<typeof NotificationsEnv>) {
  const aws = clients();
  const { notifications } = env.SETTINGS;
  return {
    verifier: snsVerifierFromSettings(notifications, { clock: systemClock, fetcher: new HttpsCertificateFetcher() }),
    queries: new DynamoDbNotificationQueryStore(aws.documents, env.CONTROL_TABLE),
    completed: new SqsWorkQueue(aws.sqs, env.COMPLETED_QUEUE_URL),
    // The notifications function reaches query, subscription and import-schedule items only: a re-check carries its brand.
    imports: new ImportAdmission({ schedule: new DynamoDbImportScheduleStore(aws.documents, env.CONTROL_TABLE), clock: systemClock, logger }, () => Promise.resolve(undefined)),
    importSchedule: importSchedule(aws.documents, env.CONTROL_TABLE, env.SETTINGS).release,
    subscriptions: new DynamoDbSubscriptionStore(aws.documents, env.CONTROL_TABLE),
    confirmer: new HttpSubscriptionConfirmer(),
    clock: systemClock,
    logger,
  };
}

export const IngestEnv = z.object({
  SETTINGS: SettingsVariable,
  CONTROL_TABLE: name,
  RECORDS_TABLE: name.optional(),
  RAW_BUCKET: name.optional(),
  IMPORTS_QUEUE_URL: z.url(),
  CLIENT_CREDENTIALS_SECRETS: ClientCredentialsSecrets,
  COMPLETED_QUEUE_URL: z.url().optional(),
  FILES_QUEUE_URL: z.url().optional(),
  LOADS_QUEUE_URL: z.url().optional(),
  EVENT_BUS,
});

/** What the ingestion stages need; each function is given only its own queues and resources. */
export function ingestDeps(env: z.output<typeof IngestEnv>) {
  const aws = clients();
  const ring = ringDeps({ SETTINGS: env.SETTINGS, CONTROL_TABLE: env.CONTROL_TABLE, IMPORTS_QUEUE_URL: env.IMPORTS_QUEUE_URL, CLIENT_CREDENTIALS_SECRETS: env.CLIENT_CREDENTIALS_SECRETS, COMPLETED_QUEUE_URL: env.COMPLETED_QUEUE_URL, EVENT_BUS: env.EVENT_BUS });
  const queue = (url: string | undefined, variable: string) => (url ? new SqsWorkQueue(aws.sqs, url) : unboundQueue(variable));
  const required = (value: string | undefined, variable: string): string => {
    if (!value) throw new ConfigurationError(`${variable} is not set for this function`);
    return value;
  };
  return {
    ...ring,
    aws,
    files: queue(env.FILES_QUEUE_URL, 'FILES_QUEUE_URL'),
    loads: queue(env.LOADS_QUEUE_URL, 'LOADS_QUEUE_URL'),
    bucket: () => required(env.RAW_BUCKET, 'RAW_BUCKET'),
    recordsTable: () => required(env.RECORDS_TABLE, 'RECORDS_TABLE'),
  };
}
