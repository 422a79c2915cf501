import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RingPortability } from '../../lib/ring-portability';
import { NODE_RUNTIME, PortabilityFunction } from '../../lib/stateless/portability-function';
import { NO_BUNDLING, scratchOutdir } from './support/stack';

const ENTRY = 'test/cdk/fixtures/handler.ts';

function build(configure?: (fn: PortabilityFunction, portability: RingPortability) => void) {
  const app = new App({ context: NO_BUNDLING, outdir: scratchOutdir() });
  const stack = new Stack(app, 'FunctionTest');
  const portability = new RingPortability(stack, 'RingPortability');
  const fn = new PortabilityFunction(stack, 'Fetch', {
    entry: ENTRY,
    description: 'test function',
    serviceName: 'fetch',
    logRetention: RetentionDays.ONE_MONTH,
    timeout: Duration.seconds(90),
  });
  configure?.(fn, portability);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, fn, portability };
}

/** A function bound to every kind of resource, as the later stages will be. */
const bound = build((fn, { stateful }) => {
  fn.bindTable('CONTROL_TABLE', stateful.controlTable, 'readWrite')
    .bindTable('RECORDS_TABLE', stateful.recordsTable, 'read')
    .bindBucket('RAW_BUCKET', stateful.rawDataBucket, 'write')
    .bindQueue('LOADS_QUEUE_URL', stateful.queues.queues.loads.queue)
    .bindSecret('RING_CLIENT_SECRET_ARN', stateful.clientSecrets.ring!, 'read')
    .consume(stateful.queues.queues.files, { batchSize: 1, maxConcurrency: 5 });
});
const template = Template.fromStack(bound.stack);
const fnId = bound.stack.getLogicalId(bound.fn.node.defaultChild as never);
const logicalId = (construct: { node: { defaultChild?: unknown } }) => bound.stack.getLogicalId(construct.node.defaultChild as never);

describe('PortabilityFunction', () => {
  it('runs on the newest Node runtime aws-cdk-lib offers, on arm64, with X-Ray tracing', () => {
    const offered = Object.keys(Runtime)
      .map((name) => /^NODEJS_(\d+)_X$/.exec(name)?.[1])
      .filter((major): major is string => major !== undefined)
      .map(Number);
    expect(NODE_RUNTIME.name).toBe(`nodejs${Math.max(...offered)}.x`);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: NODE_RUNTIME.name,
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
    });
  });

  it('logs to its own log group with the configured retention', () => {
    const logGroupId = logicalId(bound.fn.logGroup);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::Lambda::Function', { LoggingConfig: { LogGroup: { Ref: logGroupId } } });
  });

  it('sets source maps and Powertools settings that never log events or trace responses', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'fetch',
          POWERTOOLS_METRICS_NAMESPACE: 'RingPortability',
          POWERTOOLS_LOGGER_LOG_EVENT: 'false',
          POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
        }),
      },
    });
  });

  it('binds each resource with one environment variable and the matching grant', () => {
    const { stateful } = bound.portability;
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CONTROL_TABLE: { Ref: logicalId(stateful.controlTable) },
          RECORDS_TABLE: { Ref: logicalId(stateful.recordsTable) },
          RAW_BUCKET: { Ref: logicalId(stateful.rawDataBucket) },
          LOADS_QUEUE_URL: { Ref: logicalId(stateful.queues.queues.loads.queue) },
          RING_CLIENT_SECRET_ARN: { Ref: logicalId(stateful.clientSecrets.ring!) },
        }),
      },
    });
    // Only this function's own policy (the construct adds other functions of its own).
    const roleId = logicalId(bound.fn.role as never);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .map((policy) => (policy as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties)
      .filter((properties) => JSON.stringify(properties.Roles).includes(`"${roleId}"`))
      .flatMap((properties) => properties.PolicyDocument.Statement);
    const actionsOn = (resourceId: string) =>
      statements
        .filter((statement) => JSON.stringify(statement.Resource).includes(`"${resourceId}"`))
        .flatMap((statement) => statement.Action);
    expect(actionsOn(logicalId(stateful.controlTable))).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query']));
    expect(actionsOn(logicalId(stateful.recordsTable))).not.toContain('dynamodb:PutItem');
    expect(actionsOn(logicalId(stateful.rawDataBucket))).toEqual(expect.arrayContaining(['s3:PutObject', 's3:Abort*']));
    expect(actionsOn(logicalId(stateful.queues.queues.loads.queue))).toContain('sqs:SendMessage');
    expect(actionsOn(logicalId(stateful.queues.queues.files.queue))).toContain('sqs:DeleteMessage');
    expect(actionsOn(logicalId(stateful.clientSecrets.ring!))).toContain('secretsmanager:GetSecretValue');
    expect(actionsOn(logicalId(stateful.clientSecrets.ring!))).not.toContain('secretsmanager:PutSecretValue');
    // Only X-Ray's actions, which have no resource-level permissions, are granted on "*".
    expect(statements.filter((statement) => statement.Resource === '*').flatMap((statement) => statement.Action).sort()).toEqual([
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  it('consumes a pipeline queue reporting partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(bound.portability.stateful.queues.queues.files.queue), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it('refuses a queue whose visibility timeout is under six times the function timeout', () => {
    expect(() =>
      build((fn, { stateful }) => {
        // imports: 360 s visibility; 90 s × 6 = 540 s.
        fn.consume(stateful.queues.queues.imports);
      }),
    ).toThrow(/visibility timeout of 360 s, under 6 × the 90 s timeout/);
  });

  it('refuses an environment variable name that is not UPPER_SNAKE_CASE', () => {
    expect(() => build((fn, { stateful }) => fn.bindTable('controlTable', stateful.controlTable, 'read'))).toThrow(
      /must match/,
    );
  });

  it('passes cdk-nag AwsSolutions when bound to every kind of resource', () => {
    expect(() => bound.app.synth()).not.toThrow();
  });
});

describe('PortabilityFunction bundling', () => {
  it('bundles with the local esbuild (no Docker): minified CommonJS with a linked source map', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-bundling-'));
    const app = new App({ outdir }); // bundling on
    const stack = new Stack(app, 'BundlingTest');
    new PortabilityFunction(stack, 'Bundled', {
      entry: ENTRY,
      description: 'bundling test',
      serviceName: 'bundled',
      logRetention: RetentionDays.ONE_DAY,
    });
    const assembly = app.synth();
    const assets = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    expect(assets).toHaveLength(1);
    const files = readdirSync(path.join(assembly.directory, assets[0])).sort();
    expect(files).toEqual(['index.js', 'index.js.map']);
    const code = readFileSync(path.join(assembly.directory, assets[0], 'index.js'), 'utf8');
    expect(code).toContain('sourceMappingURL=index.js.map');
    expect(code).toMatch(/module\.exports/);
    rmSync(outdir, { recursive: true, force: true });
  }, 60_000);
});
