import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { API_THROTTLE, PUBLIC_ROUTE_THROTTLE } from '../../lib/stateless/connect-api';
import { buildStack, resourcesOf, synthStack } from './support/stack';

const { stack, template } = synthStack({ publicBaseUrl: 'https://ring.example.com' });
const api = stack.portability.connectApi;
const { stateful } = stack.portability;
const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

interface Statement {
  Action: string | string[];
  Resource: unknown;
}
/** Every action a function's role may take, with the resources, as text to search. */
function permissionsOf(fn: { role?: unknown }): { actions: string[]; text: string } {
  const roleId = logicalId(fn.role as never);
  const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  return { actions: statements.flatMap((statement) => statement.Action), text: JSON.stringify(statements) };
}

describe('connect API', () => {
  it.each([
    ['POST /connections', 'AWS_IAM'],
    ['GET /connections/{customerId}', 'AWS_IAM'],
    ['POST /connections/{customerId}/imports', 'AWS_IAM'],
    ['DELETE /connections/{customerId}', 'AWS_IAM'],
    ['GET /oauth/callback', 'NONE'],
  ])('%s is authorized by %s', (routeKey, authorizationType) => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey, AuthorizationType: authorizationType });
  });

  it('has no CORS configuration', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP', CorsConfiguration: Match.absent() });
  });

  it('throttles the whole API and the public callback more tightly, and logs access without query strings', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: API_THROTTLE.rateLimit, ThrottlingBurstLimit: API_THROTTLE.burstLimit },
      RouteSettings: { 'GET /oauth/callback': { ThrottlingRateLimit: PUBLIC_ROUTE_THROTTLE.rateLimit, ThrottlingBurstLimit: PUBLIC_ROUTE_THROTTLE.burstLimit } },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('\\$context.requestId') },
    });
    const stage = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Stage'))[0];
    const format = (stage.Properties.AccessLogSettings as { Format: string }).Format;
    expect(format).not.toMatch(/querystring|rawQueryString|\$context\.path/i);
  });

  it('builds the redirect URI from publicBaseUrl when set', () => {
    expect(api.redirectUri).toBe('https://ring.example.com/oauth/callback');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REDIRECT_URI: 'https://ring.example.com/oauth/callback', SETTINGS: Match.stringLikeRegexp('"resourcePrefix":"ring-portability"') }) },
    });
  });

  it('gives the callback only what it needs: no bucket, no records table, connection secrets only under their prefix', () => {
    const callback = permissionsOf(api.callback);
    expect(callback.text).not.toContain(logicalId(stateful.rawDataBucket));
    expect(callback.text).not.toContain(logicalId(stateful.recordsTable));
    expect(callback.actions).toEqual(expect.arrayContaining(['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'sqs:SendMessage']));
    expect(callback.actions).not.toContain('secretsmanager:DeleteSecret');
    expect(callback.text).toContain('secret:ring-portability/connections/*');
  });

  it('lets only the connections function delete secrets and customer data', () => {
    const connect = permissionsOf(api.connect);
    expect(connect.actions).not.toContain('secretsmanager:CreateSecret');
    expect(connect.actions).not.toContain('secretsmanager:DeleteSecret');
    expect(connect.actions).not.toContain('dynamodb:GetItem');
    expect(connect.text).not.toContain(logicalId(stateful.rawDataBucket));
    const connections = permissionsOf(api.connections);
    expect(connections.actions).toEqual(expect.arrayContaining(['secretsmanager:DeleteSecret', 's3:DeleteObject*', 's3:ListBucket', 'dynamodb:BatchWriteItem']));
    // A purge lists and deletes every version (the bucket is versioned) and aborts uploads left open.
    expect(connections.actions).toEqual(expect.arrayContaining(['s3:ListBucketVersions', 's3:ListBucketMultipartUploads', 's3:AbortMultipartUpload']));
    expect(connections.actions).not.toContain('s3:GetObject*');
    expect(connections.actions).not.toContain('secretsmanager:GetSecretValue');
  });

  it('runs its functions with the shared construct’s settings', () => {
    for (const fn of [api.connect, api.callback, api.connections]) {
      const props = resourcesOf(template, 'AWS::Lambda::Function')[logicalId(fn)].Properties;
      expect(props).toMatchObject({ Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
    }
  });
});

describe('queues reachable from the connect API', () => {
  it('lets only the callback and the connections function queue imports, not the connect-link function', () => {
    const imports = logicalId(stateful.queues.queues.imports.queue);
    expect(permissionsOf(api.connect).text).not.toContain(imports);
    expect(permissionsOf(api.callback).text).toContain(imports);
  });
});

/**
 * CloudFormation creates a stage before the routes its RouteSettings name unless the stage
 * depends on them, and the first deploy then fails with "Unable to find Route by key".
 */
function routesNamedByStageWithoutDependency(checked: Template): string[] {
  const routeIds = new Map(Object.entries(resourcesOf(checked, 'AWS::ApiGatewayV2::Route')).map(([id, route]) => [route.Properties.RouteKey as string, id]));
  const stages = Object.values(checked.findResources('AWS::ApiGatewayV2::Stage') as Record<string, { Properties: { RouteSettings?: object }; DependsOn?: string[] }>);
  expect(stages).toHaveLength(1);
  const [stage] = stages;
  const named = Object.keys(stage.Properties.RouteSettings ?? {});
  expect(named.length).toBeGreaterThan(0);
  return named.filter((key) => !routeIds.has(key) || !(stage.DependsOn ?? []).includes(routeIds.get(key)!));
}

describe('the API stage on a first deploy', () => {
  it('depends on every route its RouteSettings name', () => {
    expect(routesNamedByStageWithoutDependency(template)).toEqual([]);
  });

  it('depends on a public route added later, too', () => {
    const later = buildStack();
    const { connectApi } = later.portability;
    connectApi.addPublicRoute('/later', HttpMethod.POST, connectApi.callback, 'A test route.');
    const checked = Template.fromStack(later);
    expect(Object.keys(resourcesOf(checked, 'AWS::ApiGatewayV2::Stage')).length).toBe(1);
    expect(JSON.stringify(checked.toJSON())).toContain('POST /later');
    expect(routesNamedByStageWithoutDependency(checked)).toEqual([]);
  });
});
