import { SecretValue, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { clientCredentialsPlaceholder, controlTable, recordsTable } from '../../lambdas/core/definitions';
import type { Brand, Settings } from '../../lambdas/core/settings';
import { PipelineQueues } from './pipeline-queues';
import { RawDataBucket } from './raw-data-bucket';
import { tableFromDefinition } from './tables';

export interface StatefulResourcesProps {
  readonly settings: Settings;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Everything that holds data: the key, both tables, the raw-data bucket, the client
 * credentials and the pipeline's queues. Nothing here depends on code, so redeploying or
 * replacing the functions never touches stored data.
 */
export class StatefulResources extends Construct {
  readonly key: Key;
  readonly controlTable: Table;
  readonly recordsTable: Table;
  readonly rawData: RawDataBucket;
  readonly clientSecrets: Partial<Record<Brand, ISecret>>;
  /** The KMS keys of client-credentials secrets the stack did not create (clientCredentialsSecrets). */
  readonly clientSecretKeyArns: string[] = [];
  readonly queues: PipelineQueues;

  constructor(scope: Construct, id: string, props: StatefulResourcesProps) {
    super(scope, id);
    const { settings, removalPolicy } = props;

    this.key = new Key(this, 'Key', {
      description: 'ring-portability: tables, raw data, queues, secrets and alarms',
      enableKeyRotation: true,
      removalPolicy,
    });

    this.controlTable = tableFromDefinition(this, controlTable, { key: this.key, removalPolicy });
    this.recordsTable = tableFromDefinition(this, recordsTable, { key: this.key, removalPolicy });

    this.rawData = new RawDataBucket(this, 'RawData', {
      key: this.key,
      retention: settings.retention,
      removalPolicy,
    });

    this.clientSecrets = {};
    for (const brand of settings.brands) {
      const existing = settings.clientCredentialsSecrets[brand];
      if (existing) {
        // A secret the stack does not own (kept from an earlier deploy): read, never changed.
        this.clientSecrets[brand] = Secret.fromSecretCompleteArn(this, `ClientCredentials-${brand}`, existing.secretArn);
        if (existing.kmsKeyArn) this.clientSecretKeyArns.push(existing.kmsKeyArn);
        continue;
      }
      const secret = new Secret(this, `ClientCredentials-${brand}`, {
        // No fixed name: CloudFormation names it after the stack, plus a random suffix, so a
        // second stack or a deploy after `cdk destroy` (which keeps a retained secret under
        // its old name) never collides with it. The name is a stack output.
        description: `OAuth client_id and client_secret Ring issued for ${brand}; set them after deploy (see README).`,
        encryptionKey: this.key,
        // An empty placeholder, not a credential: the integrator puts the real pair in with
        // put-secret-value, and CloudFormation leaves it alone on later deploys because this
        // template value does not change.
        secretStringValue: SecretValue.unsafePlainText(JSON.stringify(clientCredentialsPlaceholder)),
        removalPolicy,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Client credentials are issued by Ring at onboarding and can only be rotated by asking Ring for new ones; there is no API a rotation Lambda could call.',
      });
      this.clientSecrets[brand] = secret;
    }

    this.queues = new PipelineQueues(this, 'Queues', {
      key: this.key,
      pipeline: settings.pipeline,
      removalPolicy,
    });
  }

  get rawDataBucket(): Bucket {
    return this.rawData.bucket;
  }
}
