import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface LocalEndpoints {
  readonly dynamodb: string;
  readonly s3: string;
  readonly sqs: string;
  readonly secretsManager: string;
  readonly eventBridge: string;
}

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly secretsManager: SecretsManagerClient;
  readonly eventBridge: EventBridgeClient;
  destroy(): void;
}

/** Not credentials: the emulators accept any signature. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The SDK clients the Lambdas use, pointed at the local emulators. */
export function localAwsClients(endpoints: LocalEndpoints, region: string): AwsClients {
  const common = { region, credentials: LOCAL_CREDENTIALS, maxAttempts: 3 };
  const dynamodb = new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb });
  const documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const s3 = new S3Client({
    ...common,
    endpoint: endpoints.s3,
    forcePathStyle: true,
  });
  const sqs = new SQSClient({ ...common, endpoint: endpoints.sqs });
  const secretsManager = new SecretsManagerClient({ ...common, endpoint: endpoints.secretsManager });
  const eventBridge = new EventBridgeClient({ ...common, endpoint: endpoints.eventBridge });
  return {
    dynamodb,
    documents,
    s3,
    sqs,
    secretsManager,
    eventBridge,
    destroy: () => {
      for (const client of [documents, dynamodb, s3, sqs, secretsManager, eventBridge]) client.destroy();
    },
  };
}
