import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LOCAL_CONSUMERS, LOCAL_ROUTES } from '../../local/runtime';
import type { PipelineQueueName } from '../../lambdas/core/definitions';
import { resourcesOf, synthStack } from './support/stack';

/** `npm start` must run the handlers as AWS does: its route and consumer tables are held to the template. */
const { stack, template } = synthStack();
const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

describe('the local runtime matches the stack', () => {
  it('serves the same HTTP routes, IAM-protected where AWS uses IAM', () => {
    const routes = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route')).map((route) => `${String(route.Properties.RouteKey)} ${String(route.Properties.AuthorizationType)}`);
    expect(routes.sort()).toEqual(LOCAL_ROUTES.map((route) => `${route.method} ${route.path} ${route.iam ? 'AWS_IAM' : 'NONE'}`).sort());
  });

  it('documents in docs/openapi.json exactly the routes the stack has, with SigV4 where AWS uses IAM', () => {
    const routes = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route')).map((route) => `${String(route.Properties.RouteKey)} ${String(route.Properties.AuthorizationType)}`);
    const document = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8')) as { paths: Record<string, Record<string, { security: unknown[] }>> };
    const documented = Object.entries(document.paths).flatMap(([route, methods]) =>
      Object.entries(methods).map(([method, operation]) => `${method.toUpperCase()} ${route} ${operation.security.length > 0 ? 'AWS_IAM' : 'NONE'}`),
    );
    expect(documented.sort()).toEqual(routes.sort());
  });

  it('polls every queue with the batch size, concurrency and timeout of its Lambda consumer', () => {
    const functions = resourcesOf(template, 'AWS::Lambda::Function');
    const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'));
    const { queues } = stack.portability.stateful.queues;
    for (const name of Object.keys(LOCAL_CONSUMERS) as PipelineQueueName[]) {
      const queueId = logicalId(queues[name].queue);
      const mapping = mappings.find((candidate) => JSON.stringify(candidate.Properties.EventSourceArn).includes(`"${queueId}"`));
      expect(mapping).toBeDefined();
      const functionId = (mapping!.Properties.FunctionName as { Ref: string }).Ref;
      const fn = functions[functionId].Properties;
      expect({ queue: name, batchSize: mapping!.Properties.BatchSize, concurrency: (mapping!.Properties.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency, timeoutSeconds: fn.Timeout }).toEqual({
        queue: name,
        batchSize: LOCAL_CONSUMERS[name].batchSize,
        concurrency: LOCAL_CONSUMERS[name].concurrency,
        timeoutSeconds: LOCAL_CONSUMERS[name].timeoutSeconds,
      });
      expect(JSON.stringify(fn.Environment)).toContain(`"POWERTOOLS_SERVICE_NAME":"${LOCAL_CONSUMERS[name].handler}"`);
    }
  });
});
