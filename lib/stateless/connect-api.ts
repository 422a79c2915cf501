import { Duration, Lazy, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import type { CfnStage} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_ROUTES, routeKey, type RouteHandler } from '../../lambdas/core/api/routes';
import { secretNames } from '../../lambdas/core/definitions';
import type { Settings } from '../../lambdas/core/settings';
import type { StatefulResources } from '../stateful/stateful-resources';
import { PortabilityFunction, settingsVariable } from './portability-function';

export interface ConnectApiProps {
  readonly settings: Settings;
  readonly stateful: StatefulResources;
  readonly removalPolicy: RemovalPolicy;
}

/** API-wide throttle; the public callback has a tighter one of its own. */
export const API_THROTTLE = { rateLimit: 50, burstLimit: 100 };
export const PUBLIC_ROUTE_THROTTLE = { rateLimit: 10, burstLimit: 20 };

/**
 * The HTTP API of the connect flow: the integrator's backend creates connect links and manages
 * connections with SigV4-signed (IAM) calls; Ring sends the customer's browser to the public
 * OAuth callback. Access logs never include query strings (the callback's carries the code).
 */
export class ConnectApi extends Construct {
  readonly api: HttpApi;
  readonly redirectUri: string;
  readonly connect: PortabilityFunction;
  readonly callback: PortabilityFunction;
  readonly connections: PortabilityFunction;
  readonly routes: Record<string, HttpRoute> = {};
  readonly stage: HttpStage;
  private readonly iam = new HttpIamAuthorizer();
  private readonly publicRouteKeys: string[] = [];

  constructor(scope: Construct, id: string, props: ConnectApiProps) {
    super(scope, id);
    const { settings, stateful } = props;
    const logRetention = settings.retention.logRetentionDays as RetentionDays;

    this.api = new HttpApi(this, 'Api', {
      apiName: `${settings.resourcePrefix}-connect`,
      description: 'ring-portability: connect links, OAuth callback, connection management',
      createDefaultStage: false,
      // No CORS: browsers never call this API from another origin.
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: logRetention, removalPolicy: props.removalPolicy });
    const stage = (this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: API_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            caller: '$context.identity.caller',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    }));
    // Every public route gets the tighter throttle (routes added later included). The stage
    // names those routes in its RouteSettings, so addPublicRoute makes it depend on each:
    // otherwise CloudFormation may create the stage first and fail with "Unable to find Route
    // by key … within the provided RouteSettings".
    (stage.node.defaultChild as CfnStage).addPropertyOverride(
      'RouteSettings',
      Lazy.any({
        produce: () =>
          Object.fromEntries(this.publicRouteKeys.map((key) => [key, { ThrottlingRateLimit: PUBLIC_ROUTE_THROTTLE.rateLimit, ThrottlingBurstLimit: PUBLIC_ROUTE_THROTTLE.burstLimit }])),
      }),
    );

    this.redirectUri = `${settings.publicBaseUrl ?? this.api.apiEndpoint}/oauth/callback`;
    const common = { logRetention, removalPolicy: props.removalPolicy };
    const connectEnvironment = {
      SETTINGS: settingsVariable(settings),
      REDIRECT_URI: this.redirectUri,
      KMS_KEY_ID: stateful.key.keyArn,
    };
    const connectionSecrets = secretNames.connection(settings.resourcePrefix, '');

    this.connect = new PortabilityFunction(this, 'Connect', {
      ...common,
      entry: 'lambdas/connect/handler.ts',
      serviceName: 'connect',
      description: 'POST /connections: creates a connect link (state + PKCE)',
      environment: connectEnvironment,
    })
      .bindTable('CONTROL_TABLE', stateful.controlTable, 'write')
      .bindClientCredentials(stateful.clientSecrets, stateful.clientSecretKeyArns);

    this.callback = new PortabilityFunction(this, 'Callback', {
      ...common,
      entry: 'lambdas/callback/handler.ts',
      serviceName: 'callback',
      description: 'GET /oauth/callback: exchanges the code, stores the tokens, starts the first import',
      environment: connectEnvironment,
      timeout: Duration.seconds(20),
    })
      .bindTable('CONTROL_TABLE', stateful.controlTable, 'readWrite')
      .bindQueue('IMPORTS_QUEUE_URL', stateful.queues.queues.imports.queue)
      .grantSecretsUnder(connectionSecrets, ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:DescribeSecret'], stateful.key)
      .bindClientCredentials(stateful.clientSecrets, stateful.clientSecretKeyArns);

    this.connections = new PortabilityFunction(this, 'Connections', {
      ...common,
      entry: 'lambdas/connections/handler.ts',
      serviceName: 'connections',
      description: 'GET /connections, GET/DELETE /connections/{customerId}, GET/POST …/imports: list, status, history, import now, disconnect and purge',
      // A purge's answer names the retention windows of what it cannot reach (logs, queues).
      environment: { SETTINGS: connectEnvironment.SETTINGS },
      timeout: Duration.minutes(5),
      memorySize: 1024,
    })
      .bindTable('CONTROL_TABLE', stateful.controlTable, 'readWrite')
      .bindTable('RECORDS_TABLE', stateful.recordsTable, 'readWrite')
      .bindBucket('RAW_BUCKET', stateful.rawDataBucket, 'delete')
      .bindQueue('IMPORTS_QUEUE_URL', stateful.queues.queues.imports.queue)
      .grantSecretsUnder(connectionSecrets, ['secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret']);

    this.serve('connect', this.connect);
    this.serve('connections', this.connections);
    this.serve('callback', this.callback);
  }

  /**
   * Adds every route of the route table (lambdas/core/api/routes.ts) that `handler` answers,
   * integrated with `fn`: IAM-authorized, or public with the table's reason.
   */
  serve(handler: RouteHandler, fn: PortabilityFunction): void {
    for (const route of API_ROUTES.filter((candidate) => candidate.handler === handler)) {
      const method = HttpMethod[route.method];
      if (route.auth === 'public') this.addPublicRoute(route.path, method, fn, route.whyPublic);
      else this.routes[routeKey(route)] = this.api.addRoutes({ path: route.path, methods: [method], integration: this.integration(fn, method), authorizer: this.iam })[0];
    }
  }

  private integration(fn: PortabilityFunction, method: HttpMethod): HttpLambdaIntegration {
    return new HttpLambdaIntegration(`${fn.node.id}${method}Integration`, fn);
  }

  /** A route without an authorizer (Ring or the customer's browser calls it), throttled tightly. */
  addPublicRoute(path: string, method: HttpMethod, fn: PortabilityFunction, whyPublic: string): HttpRoute {
    const [route] = this.api.addRoutes({ path, methods: [method], integration: this.integration(fn, method) });
    const key = `${method} ${path}`;
    this.routes[key] = route;
    this.publicRouteKeys.push(key);
    this.stage.node.addDependency(route);
    Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason: whyPublic });
    return route;
  }
}
