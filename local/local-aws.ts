import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { parseSettings, type SettingsInput } from '../lambdas/core/settings';
import { localAwsClients, type AwsClients, type LocalEndpoints } from './clients';
import { startDynamoDbProcess } from './dynamodb-process';
import type { RunningService } from './emulators/running-service';
import { startEventBridge, type EventBridgeEmulator } from './emulators/eventbridge';
import { startSecretsManager } from './emulators/secrets-manager';
import { startFauxqs } from './emulators/fauxqs';
import { startVersionedS3 } from './emulators/versioned-s3';
import { provisionResources, type LocalResources } from './provision';

export const LOCAL_REGION = 'eu-west-1';

/** Everything a process needs to reach a running local AWS: plain data, safe to pass in env. */
export interface LocalAwsDescriptor {
  readonly region: string;
  readonly endpoints: LocalEndpoints;
  readonly resources: LocalResources;
}

export interface LocalAws extends LocalAwsDescriptor {
  readonly clients: AwsClients;
  /** The local EventBridge in this process: the change events put on it. */
  readonly eventBridge: EventBridgeEmulator;
  /** The emulators' own processes (fauxqs): a test kills them to prove what survives a crash. */
  readonly childProcessIds: readonly number[];
  /** Stops every emulator this harness started. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB (dynalite), SQS and S3 (fauxqs; S3 behind our versioning layer) and our
 * Secrets Manager and EventBridge stand-ins on 127.0.0.1, each on a free port, and creates the product's resources in them from the same
 * definitions the CDK construct uses. Used by the integration tests' global setup and by the
 * local runtime. Whoever starts it stops it.
 *
 * With a `dataDir`, every stand-in keeps its state on disk under it, so memory does not grow
 * with what is stored and a restart on the same directory (after a clean stop or kill -9) sees
 * the same tables (`dynamodb/`, dynalite's LevelDB), objects and their versions (`s3/`, files),
 * queues and messages (`sqs/`, a journal written before SendMessage is answered) and secrets
 * (`secrets/`). Provisioning again finds the resources there and reuses them. The local
 * EventBridge keeps no state worth keeping (its bus and the last events it saw).
 */
export async function startLocalAws(options: { settings?: SettingsInput; dataDir?: string } = {}): Promise<LocalAws> {
  const settings = parseSettings(options.settings ?? {});
  const dir = (name: string) => (options.dataDir ? path.join(path.resolve(options.dataDir), name) : undefined);
  const started: RunningService[] = [];
  const track = async <T extends RunningService>(service: Promise<T>): Promise<T> => {
    const running = await service;
    started.push(running);
    return running;
  };
  const stopAll = async (): Promise<void> => {
    const services = started.splice(0);
    const results = await Promise.allSettled(services.map((service) => service.stop()));
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed.length > 0) throw new AggregateError(failed.map((result) => result.reason as unknown), 'Some local AWS services did not stop cleanly');
  };

  let clients: AwsClients | undefined;
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  try {
    const [dynamodb, fauxqs, secretsManager, eventBridge] = await Promise.all([
      // In a process of its own, as fauxqs is: at volume it is the busiest emulator (local/dynamodb-process.ts).
      track(startDynamoDbProcess({ path: dir('dynamodb') })),
      track(startFauxqs({ region: LOCAL_REGION, dataDir: options.dataDir && path.resolve(options.dataDir) })),
      track(startSecretsManager({ dataDir: dir('secrets') })),
      track(startEventBridge()),
    ]);
    // fauxqs's S3 has no versioning; our layer in front of it adds it (the raw bucket is versioned on AWS).
    const s3 = await track(startVersionedS3({ backend: fauxqs.endpoint, dataDir: dir('s3-versions') }));
    const endpoints: LocalEndpoints = {
      dynamodb: dynamodb.endpoint,
      s3: s3.endpoint,
      sqs: fauxqs.endpoint,
      secretsManager: secretsManager.endpoint,
      eventBridge: eventBridge.endpoint,
    };
    clients = localAwsClients(endpoints, LOCAL_REGION);
    const resources = await provisionResources(clients, settings);
    const ownClients = clients;
    return {
      region: LOCAL_REGION,
      endpoints,
      resources,
      clients: ownClients,
      eventBridge: eventBridge.emulator,
      childProcessIds: [fauxqs.pid],
      stop: async () => {
        ownClients.destroy();
        await stopAll();
      },
    };
  } catch (error) {
    clients?.destroy();
    await stopAll().catch(() => undefined);
    throw error;
  }
}

/** Clients for a harness started elsewhere (e.g. by jest's global setup). */
export function connectLocalAws(descriptor: LocalAwsDescriptor): AwsClients {
  return localAwsClients(descriptor.endpoints, descriptor.region);
}
