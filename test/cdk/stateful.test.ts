import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { parseSettings } from '../../lambdas/core/settings';
import { RingPortabilityStack } from '../../lib/ring-portability-stack';
import { controlTable, deadLetterQueueId, pipelineQueues, POINT_IN_TIME_RECOVERY_DAYS, recordsTable } from '../../lambdas/core/definitions';
import { NO_BUNDLING, resourcesOf, scratchOutdir, synthStack } from './support/stack';

const { stack, template } = synthStack();
const { stateful, monitoring } = stack.portability;
const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);
const keyArn = { 'Fn::GetAtt': [logicalId(stateful.key), 'Arn'] };

/** A resource policy statement that denies any request not made over TLS. */
const denyInsecureTransport = Match.objectLike({
  Effect: 'Deny',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

describe('control and records tables', () => {
  it.each([
    ['control', () => stateful.controlTable, controlTable],
    ['records', () => stateful.recordsTable, recordsTable],
  ] as const)('the %s table is on-demand, KMS-encrypted, with PITR, TTL, deletion protection and Retain', (_name, table, definition) => {
    const resource = template.findResources('AWS::DynamoDB::Table')[logicalId(table())];
    expect(logicalId(table())).toMatch(new RegExp(definition.id));
    expect(resource).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: definition.sortKey.name, KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: definition.timeToLiveAttribute, Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
        DeletionProtectionEnabled: true,
        // The window a purge's answer names: deleted items stay restorable this long.
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: POINT_IN_TIME_RECOVERY_DAYS },
      },
    });
  });

  it('the control table has the GSIs of its definition', () => {
    expect(template.findResources('AWS::DynamoDB::Table')[logicalId(stateful.controlTable)].Properties).toMatchObject({
      GlobalSecondaryIndexes: controlTable.globalSecondaryIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    });
    expect(template.findResources('AWS::DynamoDB::Table')[logicalId(stateful.recordsTable)].Properties).not.toHaveProperty(
      'GlobalSecondaryIndexes',
    );
  });

  it('a throw-away stack (removalPolicy destroy) drops deletion protection and Retain', () => {
    const destroyable = synthStack({ retention: { removalPolicy: 'destroy' } }).template;
    const tables = Object.values(resourcesOf(destroyable, 'AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(2);
    for (const table of tables) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    }
  });
});

describe('raw-data bucket', () => {
  const bucketId = logicalId(stateful.rawDataBucket);
  const logsId = logicalId(stateful.rawData.accessLogs);

  it('is KMS-encrypted, versioned, private, logged and retained', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
            },
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LoggingConfiguration: { DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'raw-data/' },
      }),
    });
    expect(resourcesOf(template, 'AWS::S3::Bucket')[bucketId]).toBeDefined();
  });

  it('aborts incomplete multipart uploads and expires old versions, and keeps raw data unless told otherwise', () => {
    const rules = (resourcesOf(template, 'AWS::S3::Bucket')[bucketId].Properties.LifecycleConfiguration as { Rules: object[] }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
      ]),
    );
    expect(rules.some((rule) => 'ExpirationInDays' in rule)).toBe(false);
  });

  it('expires raw data when retention.rawDataDays is set', () => {
    const configured = synthStack({ retention: { rawDataDays: 400 } });
    configured.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 400 })]) },
    });
  });

  it.each([
    ['raw-data', () => bucketId],
    ['access-log', () => logsId],
  ])('the %s bucket refuses requests without TLS', (_name, id) => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id() },
      PolicyDocument: { Statement: Match.arrayWith([denyInsecureTransport]) },
    });
  });
});

describe('pipeline queues', () => {
  const queues = stateful.queues.all;

  it.each(queues.map((queue) => [queue.definition.id, queue] as const))(
    '%s has a KMS-encrypted DLQ with maxReceiveCount >= 5 and its defined visibility timeout',
    (_id, { definition, queue, deadLetterQueue }) => {
      const props = resourcesOf(template, 'AWS::SQS::Queue')[logicalId(queue)].Properties;
      expect(props).toMatchObject({
        KmsMasterKeyId: keyArn,
        VisibilityTimeout: definition.visibilityTimeoutSeconds,
        MessageRetentionPeriod: 14 * 86_400,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(deadLetterQueue), 'Arn'] } },
      });
      expect((props.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBeGreaterThanOrEqual(5);
      expect(resourcesOf(template, 'AWS::SQS::Queue')[logicalId(deadLetterQueue)].Properties).toMatchObject({
        KmsMasterKeyId: keyArn,
      });
      expect(logicalId(deadLetterQueue)).toMatch(deadLetterQueueId(definition).replaceAll('-', ''));
    },
  );

  it('covers every queue of the shared definitions', () => {
    expect(queues.map((queue) => queue.definition)).toEqual(Object.values(pipelineQueues));
  });

  it.each(queues.flatMap((queue) => [queue.queue, queue.deadLetterQueue]).map((queue) => [queue.node.path, queue] as const))(
    '%s refuses requests without TLS',
    (_path, queue) => {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(queue) }],
        PolicyDocument: { Statement: Match.arrayWith([denyInsecureTransport]) },
      });
    },
  );

  it('uses the configured maxReceiveCount', () => {
    const configured = synthStack({ pipeline: { maxReceiveCount: 8 } }).template;
    configured.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: 8 }) });
  });

  it.each(queues.map((queue) => [queue.definition.id, queue] as const))(
    'alarms to the alarm topic as soon as one message sits in the %s DLQ',
    (_id, { deadLetterQueue }) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(deadLetterQueue), 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: logicalId(monitoring.alarmTopic) }],
      });
    },
  );
});

describe('alarm topic', () => {
  it('is KMS-encrypted, TLS-only, and CloudWatch may use the key to publish to it', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([denyInsecureTransport]) },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('subscribes the configured email address', () => {
    synthStack({ alarms: { email: 'ops@example.com' } }).template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

describe('client-credential secrets', () => {
  const secretsIn = (t: Template) => Object.values(resourcesOf(t, 'AWS::SecretsManager::Secret'));
  const existingArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:RingPortabilityClientCredentialsring-AbC123';
  const oldKeyArn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

  it('creates one KMS-encrypted, retained placeholder per enabled brand, with a name CloudFormation makes unique', () => {
    expect(secretsIn(template)).toHaveLength(2);
    for (const secret of secretsIn(template)) {
      expect(secret).toMatchObject({
        DeletionPolicy: 'Retain',
        Properties: { KmsKeyId: keyArn, SecretString: JSON.stringify({ client_id: '', client_secret: '' }) },
      });
      // A fixed name collides with the secret a destroyed stack retained, and with a second stack's.
      expect(secret.Properties.Name).toBeUndefined();
    }
  });

  it('creates none for a brand that is not enabled', () => {
    expect(secretsIn(synthStack({ brands: ['blink'], resourcePrefix: 'acme-ring' }).template)).toHaveLength(1);
  });

  it('hands every function that calls Ring the secrets by brand', () => {
    const variables = Object.values(resourcesOf(template, 'AWS::Lambda::Function'))
      .map((fn) => (fn.Properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {})
      .filter((variables) => 'CLIENT_CREDENTIALS_SECRETS' in variables);
    expect(variables).toHaveLength(6);
    const text = JSON.stringify(variables[0].CLIENT_CREDENTIALS_SECRETS);
    for (const brand of ['ring', 'blink'] as const) expect(text).toContain(logicalId(stateful.clientSecrets[brand] as never));
  });

  it('uses a retained secret by ARN instead of creating one, reading it and its key', () => {
    const reused = synthStack({ brands: ['ring'], clientCredentialsSecrets: { ring: { secretArn: existingArn, kmsKeyArn: oldKeyArn } } });
    expect(secretsIn(reused.template)).toHaveLength(0);
    const text = JSON.stringify(reused.template.toJSON());
    expect(text).toContain(existingArn);
    reused.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: existingArn }),
          Match.objectLike({ Action: 'kms:Decrypt', Resource: oldKeyArn, Condition: { StringEquals: { 'kms:ViaService': Match.anyValue() } } }),
        ]),
      },
    });
  });

  it('refuses a secret ARN without its random suffix, naming the setting', () => {
    expect(() => synthStack({ clientCredentialsSecrets: { ring: { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ring-portability/client/ring' } } })).toThrow(
      /clientCredentialsSecrets\.ring\.secretArn: must be the complete ARN/,
    );
  });
});

describe('a second stack', () => {
  it('synthesizes beside the first in one app, with another prefix, and no physical name in common', () => {
    const app = new App({ context: NO_BUNDLING, outdir: scratchOutdir() });
    const first = new RingPortabilityStack(app, 'First', { settings: parseSettings({}) });
    const second = new RingPortabilityStack(app, 'Second', { settings: parseSettings({ resourcePrefix: 'second-ring' }) });
    const namesOf = (stackOf: RingPortabilityStack) => {
      const names: string[] = [];
      for (const resource of Object.values(Template.fromStack(stackOf).toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>)) {
        for (const [key, value] of Object.entries(resource.Properties ?? {})) {
          if (typeof value !== 'string') continue;
          // Physical names: a resource's Name, TableName, BucketName, QueueName…, not a metric's or a stage's.
          if (/^(Name|[A-Z][A-Za-z]*Name)$/.test(key) && !['MetricName', 'StageName', 'DisplayName', 'PolicyName', 'IndexName', 'AttributeName'].includes(key)) names.push(`${resource.Type} ${key}=${JSON.stringify(value)}`);
        }
      }
      return names;
    };
    const firstNames = new Set(namesOf(first));
    expect(namesOf(second).filter((name) => firstNames.has(name))).toEqual([]);
    expect(JSON.stringify(Template.fromStack(second).toJSON())).toContain('second-ring/connections/');
  });

  it('counts its metrics under a namespace of its own, so neither stack alarms on the other’s failures', () => {
    const app = new App({ context: NO_BUNDLING, outdir: scratchOutdir() });
    const stacks = ['first-ring', 'second-ring'].map((prefix) => new RingPortabilityStack(app, `Stack-${prefix}`, { settings: parseSettings({ resourcePrefix: prefix }) }));
    const namespacesOf = (prefix: string) => {
      const checked = Template.fromStack(stacks.find((stack) => stack.node.id === `Stack-${prefix}`)!).toJSON() as {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
      const resources = Object.values(checked.Resources);
      const ofFunctions = resources
        .filter((resource) => resource.Type === 'AWS::Lambda::Function')
        .map((resource) => (resource.Properties.Environment as { Variables: Record<string, string> }).Variables.POWERTOOLS_METRICS_NAMESPACE);
      const ofAlarms = resources
        .filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm')
        .flatMap((resource) => JSON.stringify(resource.Properties).match(/"Namespace":"RingPortability[^"]*"/g) ?? []);
      return new Set([...ofFunctions, ...ofAlarms.map((match) => match.slice('"Namespace":"'.length, -1))]);
    };
    expect(namespacesOf('first-ring')).toEqual(new Set(['RingPortability/first-ring']));
    expect(namespacesOf('second-ring')).toEqual(new Set(['RingPortability/second-ring']));
  });

  it('refuses a second stack with the same prefix in the same app: their connection secrets would be shared', () => {
    const app = new App({ context: NO_BUNDLING, outdir: scratchOutdir() });
    new RingPortabilityStack(app, 'First', { settings: parseSettings({}) });
    expect(() => new RingPortabilityStack(app, 'Second', { settings: parseSettings({}) })).toThrow(/resourcePrefix "ring-portability" is already used by First/);
  });
});
