import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { API_ROUTES, routeKey } from '../../lambdas/core/api/routes';
import { renderOpenApi } from '../../scripts/openapi';

interface Operation {
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
type Document = { paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } };

const root = path.join(__dirname, '..', '..');
const committedPath = path.join(root, 'docs', 'openapi.json');
const committedText = readFileSync(committedPath, 'utf8');
const document = JSON.parse(committedText) as Document;
const operations = Object.entries(document.paths).flatMap(([route, methods]) => Object.entries(methods).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${route}`, operation })));

describe('docs/openapi.json', () => {
  it('is what the route table and its schemas generate (run `npm run docs:api` after changing them)', () => {
    expect(committedText).toBe(renderOpenApi());
  });

  it('is a valid OpenAPI 3.1 document', () => {
    // The validator is an ES module, which jest (CommonJS here) cannot load: its own CLI runs it, offline.
    const cli = path.join(root, 'node_modules', '@seriousme', 'openapi-schema-validator', 'bin', 'validate-api-cli.js');
    const run = () => JSON.parse(execFileSync(process.execPath, [cli, committedPath], { encoding: 'utf8' })) as { valid: boolean; errors?: unknown };
    expect(run()).toEqual({ valid: true });
    expect((JSON.parse(committedText) as { openapi: string }).openapi).toMatch(/^3\.1\./);
  });

  it('has one operation per route, no more, no fewer', () => {
    expect(operations.map((operation) => operation.key).sort()).toEqual(API_ROUTES.map(routeKey).sort());
  });

  it('asks for a SigV4 signature on every IAM route, and on no public one', () => {
    expect(document.components.securitySchemes.sigv4).toEqual({ type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' });
    for (const route of API_ROUTES) {
      const { operation } = operations.find((candidate) => candidate.key === routeKey(route))!;
      expect({ route: routeKey(route), security: operation.security }).toEqual({ route: routeKey(route), security: route.auth === 'iam' ? [{ sigv4: [] }] : [] });
    }
  });

  it('documents the errors of every route: bad input, throttling, failure, and for IAM routes a refused signature', () => {
    for (const { key, operation } of operations) {
      const statuses = Object.keys(operation.responses);
      const iam = API_ROUTES.find((route) => routeKey(route) === key)!.auth === 'iam';
      expect({ key, has: ['400', '429', '500', ...(iam ? ['403'] : [])].filter((status) => statuses.includes(status)) }).toEqual({ key, has: ['400', '429', '500', ...(iam ? ['403'] : [])] });
    }
  });

  it('names every path parameter of a route as a parameter', () => {
    for (const { key, operation } of operations) {
      const inPath = [...key.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      expect({ key, path: (operation.parameters ?? []).filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name) }).toEqual({ key, path: inPath });
    }
  });
});
