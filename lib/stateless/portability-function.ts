import * as path from 'node:path';
import { Aws, CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat, SourceMapMode, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
import type { Settings } from '../../lambdas/core/settings';
import type { PipelineQueue } from '../stateful/pipeline-queues';

/** The newest Node.js runtime aws-cdk-lib offers; a CDK test fails when a newer one appears. */
export const NODE_RUNTIME = Runtime.NODEJS_24_X;

const PROJECT_ROOT = path.join(__dirname, '..', '..');

export interface PortabilityFunctionProps {
  /** The handler module, e.g. `lambdas/callback/handler.ts`, relative to the project root or absolute. */
  readonly entry: string;
  readonly description: string;
  /** Powertools service name: the Lambda's folder name (`callback`, `fetch`, …). */
  readonly serviceName: string;
  readonly logRetention: RetentionDays;
  readonly removalPolicy?: RemovalPolicy;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  readonly environment?: Record<string, string>;
  /** Files the code reads beside its bundle: project-relative source path → file name beside `index.js`. */
  readonly bundledFiles?: Readonly<Record<string, string>>;
}

export type TableAccess = 'read' | 'write' | 'readWrite';

/** The DynamoDB actions the code uses, by access level. */
export const TABLE_ACTIONS: Readonly<Record<'read' | 'write', readonly string[]>> = {
  read: ['dynamodb:GetItem', 'dynamodb:Query'],
  write: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
};

export interface TableGrantOptions {
  /** Only items whose partition key starts with one of these. */
  readonly partitionKeyPrefixes?: readonly string[];
  /** A subset of the access level's actions. */
  readonly actions?: readonly string[];
  /** Whether Query may use the table's secondary indexes. @default true */
  readonly indexes?: boolean;
}
export type BucketAccess = 'read' | 'write' | 'readWrite' | 'delete';
export type SecretAccess = 'read' | 'readWrite';

export interface ConsumeOptions {
  /** @default 10 */
  readonly batchSize?: number;
  readonly maxBatchingWindow?: Duration;
  /** Upper bound on concurrent invocations for this queue (2-1000). */
  readonly maxConcurrency?: number;
}

const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * The SETTINGS variable of a function: every setting but the notification trust anchors (PEM
 * text, kilobytes of it), which only the notifications function reads.
 */
export function settingsVariable(settings: Settings, options: { trustAnchors?: boolean } = {}): string {
  if (options.trustAnchors || settings.notifications.trustAnchors === undefined) return JSON.stringify(settings);
  return JSON.stringify({ ...settings, notifications: { ...settings.notifications, trustAnchors: undefined } });
}

/** Context key under which RingPortability names its metrics namespace for the functions inside it. */
export const METRICS_NAMESPACE_CONTEXT = 'ring-portability:metricsNamespace';

/** Lambda's limit on a function's environment variables, names and values together. */
export const LAMBDA_ENVIRONMENT_MAX_BYTES = 4 * 1024;
const UNRESOLVED_VALUE_BYTES = 128;

/** Copies data files next to the bundle once esbuild is done (esbuild bundles code, not files read at run time). */
function copyBeside(files: Readonly<Record<string, string>>): ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) => Object.entries(files).map(([from, to]) => `cp "${path.join(inputDir, from)}" "${path.join(outputDir, to)}"`),
  };
}

/**
 * Every Lambda of the product is one of these: newest Node runtime, arm64, X-Ray tracing, its
 * own log group with retention, minified bundle with source maps, and Powertools settings that
 * never log events or trace responses (they may carry tokens). The `bind*` methods grant
 * access to a resource and hand its name to the code through one environment variable, so a
 * grant and the variable that uses it cannot drift apart.
 */
export class PortabilityFunction extends NodejsFunction {
  private readonly acknowledged = new Set<string>();

  constructor(scope: Construct, id: string, props: PortabilityFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole, whose log permissions are on "*".
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `ring-portability ${props.serviceName} function`,
    });
    logGroup.grantWrite(role);

    super(scope, id, {
      entry: path.resolve(PROJECT_ROOT, props.entry),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      handler: 'handler',
      description: props.description,
      runtime: NODE_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      role,
      logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: (scope.node.tryGetContext(METRICS_NAMESPACE_CONTEXT) as string | undefined) ?? 'RingPortability',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_LOGGER_LOG_EVENT: 'false',
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        // Linked, not external: Node's --enable-source-maps finds the map through the comment.
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        format: OutputFormat.CJS,
        target: 'node24',
        // Bundle the SDK too: the versions tested here are the versions that run.
        externalModules: [],
        commandHooks: props.bundledFiles ? copyBeside(props.bundledFiles) : undefined,
      },
    });

    // Lambda refuses a function whose environment is over 4 KB in all, at deploy time: say so at synth.
    this.node.addValidation({ validate: () => this.environmentTooLarge() });

    this.acknowledgeWildcards(
      ['Resource::*'],
      'Only the X-Ray actions added by active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) are on "*"; they do not support resource-level permissions.',
    );
    this.acknowledgeWildcards(
      [`Resource::${arnReference(logGroup)}:*`],
      "Log streams in the function's own log group are created at run time; the grant is scoped to that group.",
    );
  }

  /**
   * Grants the DynamoDB actions the code uses on a table (never Scan, streams or transactions,
   * which it does not use) and sets `envName` to its name. With `partitionKeyPrefixes`, only
   * items whose partition key starts with one of them (`dynamodb:LeadingKeys`); with
   * `actions`, only those of the access level.
   */
  bindTable(envName: string, table: ITable, access: TableAccess, options: TableGrantOptions = {}): this {
    const allowed = [...(access === 'write' ? [] : TABLE_ACTIONS.read), ...(access === 'read' ? [] : TABLE_ACTIONS.write)];
    const actions = options.actions ?? allowed;
    const extra = actions.filter((action) => !allowed.includes(action));
    if (extra.length > 0) throw new Error(`${this.node.path}: ${extra.join(', ')} not part of ${access} access to ${table.node.path}`);
    // Queries of a secondary index name it: its ARN is the table's plus /index/<name>.
    const readsIndexes = actions.includes('dynamodb:Query') && options.indexes !== false;
    this.addToRolePolicy(
      new PolicyStatement({
        actions: [...actions],
        resources: readsIndexes ? [table.tableArn, `${table.tableArn}/index/*`] : [table.tableArn],
        conditions: options.partitionKeyPrefixes
          ? { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': options.partitionKeyPrefixes.map((prefix) => `${prefix}*`) } }
          : undefined,
      }),
    );
    if (table.encryptionKey) {
      if (actions.some((action) => TABLE_ACTIONS.write.includes(action))) {
        table.encryptionKey.grantEncryptDecrypt(this);
        this.acknowledgeKeyGrant();
      } else {
        table.encryptionKey.grantDecrypt(this);
      }
    }
    if (readsIndexes) {
      this.acknowledgeWildcards(
        [`Resource::${arnReference(table)}/index/*`],
        "The table's own secondary indexes, which the code queries by name.",
      );
    }
    return this.setEnv(envName, table.tableName);
  }

  /**
   * Grants access to a bucket and sets `envName` to its name: `read` (get and list), `write`
   * (put, and abort a failed multipart upload), `readWrite` (both: never delete), `delete`
   * (list and delete, every version: no reading of contents).
   */
  bindBucket(envName: string, bucket: IBucket, access: BucketAccess): this {
    const objects = `Resource::${arnReference(bucket)}/*`;
    const why = 'Object keys are per customer and query, known only at run time; the grant is limited to this bucket.';
    if (access === 'read' || access === 'readWrite') {
      bucket.grantRead(this);
      this.acknowledgeWildcards([objects, 'Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*'], `${why} CDK's read grant: get objects, list the bucket.`);
    }
    if (access === 'write' || access === 'readWrite') {
      bucket.grantPut(this);
      this.acknowledgeWildcards([objects, 'Action::s3:Abort*'], `${why} s3:Abort* lets a failed multipart upload be aborted.`);
    }
    if (access === 'delete') {
      // Listing (to find a customer's objects and their versions) and deleting them.
      bucket.grantDelete(this);
      // Listing also finds uploads left incomplete, whose parts hold customer bytes: they are aborted.
      this.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads'], resources: [bucket.bucketArn] }));
      this.addToRolePolicy(new PolicyStatement({ actions: ['s3:AbortMultipartUpload'], resources: [bucket.arnForObjects('*')] }));
      this.acknowledgeWildcards([objects, 'Action::s3:DeleteObject*'], `${why} s3:DeleteObject* includes DeleteObjectVersion, which erasure needs.`);
    }
    if (bucket.encryptionKey && access !== 'delete') {
      // Deleting needs no key; reading decrypts; writing (put, multipart) uses the key's data-key actions.
      if (access === 'read') bucket.encryptionKey.grantDecrypt(this);
      this.acknowledgeKeyGrant();
    }
    return this.setEnv(envName, bucket.bucketName);
  }

  /** Grants sending to a queue and sets `envName` to its URL. */
  bindQueue(envName: string, queue: IQueue): this {
    queue.grantSendMessages(this);
    this.acknowledgeKeyGrant();
    return this.setEnv(envName, queue.queueUrl);
  }

  /** Grants `events:PutEvents` on the bus alone and sets `envName` to its ARN (which also reaches a bus of another account). */
  bindEventBus(envName: string, bus: IEventBus): this {
    bus.grantPutEventsTo(this);
    return this.setEnv(envName, bus.eventBusArn);
  }

  /** Grants access to a secret and sets `envName` to its ARN. */
  bindSecret(envName: string, secret: ISecret, access: SecretAccess): this {
    secret.grantRead(this);
    if (access === 'readWrite') secret.grantWrite(this);
    return this.setEnv(envName, secret.secretArn);
  }

  /**
   * Grants reading each brand's client-credentials secret and sets CLIENT_CREDENTIALS_SECRETS
   * to their ARNs by brand (the secrets have generated names, or are imported by ARN).
   */
  bindClientCredentials(secrets: Partial<Record<string, ISecret>>, importedKeyArns: readonly string[] = []): this {
    const arns: Record<string, string> = {};
    for (const [brand, secret] of Object.entries(secrets)) {
      if (!secret) continue;
      secret.grantRead(this);
      arns[brand] = secret.secretArn;
    }
    if (importedKeyArns.length > 0) {
      // The key of a secret kept from an earlier stack: decrypt, and only through Secrets Manager.
      this.addToRolePolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [...importedKeyArns],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
        }),
      );
    }
    return this.setEnv('CLIENT_CREDENTIALS_SECRETS', Stack.of(this).toJsonString(arns));
  }

  /**
   * Grants Secrets Manager actions on every secret whose name starts with `namePrefix` (the
   * per-connection secrets, created at run time), and KMS use of their key when given.
   */
  grantSecretsUnder(namePrefix: string, actions: string[], key?: IKey): this {
    // Pseudo parameters, not the stack's resolved region/account: the same policy (and cdk-nag
    // finding) whether the stack is environment-agnostic or not.
    this.addToRolePolicy(
      new PolicyStatement({ actions, resources: [`arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${namePrefix}*`] }),
    );
    this.acknowledgeWildcards(
      [`Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${namePrefix}*`],
      'Connection secrets are created per customer at run time; the grant covers only names under the connections prefix.',
    );
    if (key) {
      key.grantEncryptDecrypt(this);
      this.acknowledgeKeyGrant();
    }
    return this;
  }

  /**
   * Makes this function the consumer of a pipeline queue, reporting partial batch failures so
   * one bad message never sends its whole batch back. Refuses a queue whose visibility timeout
   * is under six times this function's timeout (AWS's guidance for SQS event sources).
   */
  consume(pipelineQueue: PipelineQueue, options: ConsumeOptions = {}): this {
    const timeoutSeconds = this.timeout?.toSeconds() ?? 3;
    const visibility = pipelineQueue.definition.visibilityTimeoutSeconds;
    if (visibility < 6 * timeoutSeconds) {
      throw new Error(
        `Queue ${pipelineQueue.definition.id} has a visibility timeout of ${visibility} s, under 6 × the ${timeoutSeconds} s timeout of ${this.node.path}: raise visibilityTimeoutSeconds in lambdas/core/definitions.ts or lower the timeout`,
      );
    }
    this.acknowledgeKeyGrant();
    this.addEventSource(
      new SqsEventSource(pipelineQueue.queue, {
        batchSize: options.batchSize ?? 10,
        maxBatchingWindow: options.maxBatchingWindow,
        maxConcurrency: options.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    return this;
  }

  /** Grants on KMS-encrypted resources use kms:GenerateDataKey* and kms:ReEncrypt* on that key alone. */
  private acknowledgeKeyGrant(): void {
    this.acknowledgeWildcards(
      ['Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*'],
      "CDK's grant on a resource encrypted with the stack's key: the KMS action families are needed for envelope encryption and are limited to that one key.",
    );
  }

  /** Acknowledges cdk-nag IAM5 findings this function's own grants cause, each once. */
  private acknowledgeWildcards(findings: string[], reason: string): void {
    for (const finding of findings) {
      if (this.acknowledged.has(finding)) continue;
      this.acknowledged.add(finding);
      Validations.of(this.role!).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
  }

  /**
   * The environment's size as Lambda counts it (names and values), with a value CloudFormation
   * resolves at deploy time (an ARN, a URL) counted as 128 bytes: over 4 KB, the deploy fails.
   */
  private environmentTooLarge(): string[] {
    const resolved = Stack.of(this).resolve((this.node.defaultChild as CfnFunction).environment) as { variables?: Record<string, unknown> } | undefined;
    let bytes = 0;
    for (const [name, value] of Object.entries(resolved?.variables ?? {})) {
      bytes += Buffer.byteLength(name) + (typeof value === 'string' ? Buffer.byteLength(value) : UNRESOLVED_VALUE_BYTES);
    }
    if (bytes <= LAMBDA_ENVIRONMENT_MAX_BYTES) return [];
    return [
      `The environment of ${this.node.path} is about ${bytes} bytes; Lambda allows ${LAMBDA_ENVIRONMENT_MAX_BYTES} in all and the deploy would fail. The SETTINGS variable is most of it: shorten long settings (notifications.trustAnchors: list only the CAs you need).`,
    ];
  }

  private setEnv(envName: string, value: string): this {
    if (!ENV_NAME.test(envName)) {
      throw new Error(`Environment variable name ${JSON.stringify(envName)} of ${this.node.path} must match ${ENV_NAME}`);
    }
    this.addEnvironment(envName, value);
    return this;
  }
}

/** How cdk-nag names a resource's ARN in a finding: `<LogicalId.Arn>`. */
function arnReference(resource: IConstruct): string {
  const element = resource.node.defaultChild;
  if (!(element instanceof CfnElement)) return '<imported>';
  return `<${Stack.of(element).getLogicalId(element)}.Arn>`;
}
