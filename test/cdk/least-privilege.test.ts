import { Template } from 'aws-cdk-lib/assertions';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { NOTIFICATION_ITEM_PREFIXES } from '../../lambdas/core/definitions';
import type { PortabilityFunction } from '../../lib/stateless/portability-function';
import { buildStack, resourcesOf } from './support/stack';

const stack = buildStack();
const { connectApi, queryLifecycle, ingestion } = stack.portability;
const template = Template.fromStack(stack);
const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

function statementsOf(fn: PortabilityFunction): Statement[] {
  const roleId = logicalId(fn.role as never);
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const actionsOf = (fn: PortabilityFunction) => [...new Set(statementsOf(fn).flatMap((statement) => [statement.Action].flat()))].sort();

const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const KMS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'];
const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:Query'];
const TABLE_WRITE = ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
const SEND = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'];
const CONSUME = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage'];
const CLIENT_SECRETS = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
const RING_CALLS = [...TABLE_READ, ...TABLE_WRITE, ...SEND, ...CLIENT_SECRETS, 'secretsmanager:PutSecretValue'];
const S3_PUT = ['s3:Abort*', 's3:PutObject', 's3:PutObjectLegalHold', 's3:PutObjectRetention', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'];
const S3_READ = ['s3:GetBucket*', 's3:GetObject*', 's3:List*'];
const PUT_EVENTS = ['events:PutEvents'];

/** Each function's complete set of IAM actions: a grant not listed here fails this test. */
const EXPECTED: Record<string, { fn: PortabilityFunction; actions: string[] }> = {
  connect: { fn: connectApi.connect, actions: [...TABLE_WRITE, ...CLIENT_SECRETS] },
  callback: { fn: connectApi.callback, actions: [...TABLE_READ, ...TABLE_WRITE, ...SEND, ...CLIENT_SECRETS, 'secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', ...PUT_EVENTS] },
  connections: {
    fn: connectApi.connections,
    actions: [...TABLE_READ, ...TABLE_WRITE, ...SEND, 's3:AbortMultipartUpload', 's3:DeleteObject*', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:ListBucketVersions', 'secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret', ...PUT_EVENTS],
  },
  imports: { fn: queryLifecycle.imports, actions: [...RING_CALLS, ...CONSUME, ...PUT_EVENTS] },
  notifications: { fn: queryLifecycle.notifications, actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', ...SEND] },
  schedule: { fn: queryLifecycle.schedule, actions: ['kms:DescribeKey', ...RING_CALLS, ...S3_READ, ...S3_PUT, ...PUT_EVENTS] },
  collect: { fn: ingestion.collect, actions: [...RING_CALLS, ...CONSUME, ...PUT_EVENTS] },
  fetch: { fn: ingestion.fetch, actions: [...RING_CALLS, ...CONSUME, ...S3_PUT, ...PUT_EVENTS] },
  load: { fn: ingestion.load, actions: ['kms:DescribeKey', ...TABLE_READ, ...TABLE_WRITE, ...SEND, ...CONSUME, ...S3_READ, ...S3_PUT, ...PUT_EVENTS] },
};

describe('least privilege', () => {
  it.each(Object.keys(EXPECTED))('the %s function may take exactly its expected actions', (name) => {
    const { fn, actions } = EXPECTED[name];
    expect(actionsOf(fn)).toEqual([...new Set([...actions, ...LOGS, ...XRAY, ...KMS])].sort());
  });

  it('no function may Scan, read streams or delete raw data, but the one that erases', () => {
    for (const [name, { fn }] of Object.entries(EXPECTED)) {
      const actions = actionsOf(fn);
      expect({ name, scan: actions.filter((action) => /Scan|GetRecords|GetShardIterator/.test(action)) }).toEqual({ name, scan: [] });
      if (name !== 'connections') expect({ name, delete: actions.filter((action) => action.startsWith('s3:Delete')) }).toEqual({ name, delete: [] });
    }
  });

  it('grants on "*" only X-Ray’s actions, which have no resources (cdk-nag’s Resource::* acknowledgement is for them alone)', () => {
    for (const [name, { fn }] of Object.entries(EXPECTED)) {
      const onEverything = statementsOf(fn)
        .filter((statement) => [statement.Resource].flat().includes('*'))
        .flatMap((statement) => [statement.Action].flat());
      expect({ name, onEverything: onEverything.filter((action) => !action.startsWith('xray:')) }).toEqual({ name, onEverything: [] });
    }
  });

  it('lets the publishers put events on the change-event bus alone', () => {
    const busId = logicalId(stack.portability.changeEvents.bus);
    for (const [name, { fn }] of Object.entries(EXPECTED)) {
      const statements = statementsOf(fn).filter((statement) => [statement.Action].flat().includes('events:PutEvents'));
      expect({ name, resources: statements.map((statement) => statement.Resource) }).toEqual({ name, resources: EXPECTED[name].actions.includes('events:PutEvents') ? [{ 'Fn::GetAtt': [busId, 'Arn'] }] : [] });
    }
  });

  it('limits the public notification function to query and subscription items', () => {
    const tableStatements = statementsOf(queryLifecycle.notifications).filter((statement) => [statement.Action].flat().some((action) => action.startsWith('dynamodb:')));
    expect(tableStatements).toHaveLength(1);
    expect(tableStatements[0].Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': NOTIFICATION_ITEM_PREFIXES.map((prefix) => `${prefix}*`) } });
  });
});

describe('cdk-nag acknowledgements', () => {
  it('are per role and per finding: a new over-broad grant fails synth', () => {
    const widened = buildStack();
    // A load function that could delete raw data: not acknowledged anywhere, so cdk-nag refuses it.
    widened.portability.stateful.rawDataBucket.grantDelete(widened.portability.ingestion.load);
    Validations.of(widened.node.root).addPlugins(new AwsSolutionsChecks(widened.node.root));
    expect(() => (widened.node.root as unknown as { synth(): unknown }).synth()).toThrow(/AwsSolutions-IAM5[\s\S]*s3:DeleteObject\*/);
  });

  it('the unwidened stack passes the same checks', () => {
    const clean = buildStack();
    Validations.of(clean.node.root).addPlugins(new AwsSolutionsChecks(clean.node.root));
    expect(() => (clean.node.root as unknown as { synth(): unknown }).synth()).not.toThrow();
  });
});
