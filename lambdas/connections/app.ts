import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { CustomerPath, DisconnectQuery, ListConnectionsQuery, ListImportsQuery, type ImportRequested } from '../core/api/schemas';
import { listConnections, listImports } from '../core/connections/listing';
import { disconnect, getConnection, requestImport, type ManageDeps } from '../core/connections/manage';
import { NotFoundError } from '../core/connections/model';
import { rawPrefixes } from '../core/connections/partitions';
import { INGESTION_MAX_INVOCATION_SECONDS } from '../core/definitions';
import { httpErrors, json, parse, type HttpEvent, type HttpResult } from '../shared/http';

// (adapter) --> listConnections | getConnection | requestImport | listImports | disconnect --> domain
/** API Gateway gives an integration 30 s: purge stops in time to answer. */
const PURGE_BUDGET_MS = 25_000;
/** Ingestion that started before a purge ends within its timeout; a minute more for clock skew. */
const PURGE_SETTLE_MS = (INGESTION_MAX_INVOCATION_SECONDS + 60) * 1000;

export function makeConnectionsHandler(deps: ManageDeps) {
  return middy(async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const query = event.queryStringParameters ?? {};
    if (event.routeKey === 'GET /connections') return json(200, await listConnections(deps, parse(ListConnectionsQuery, query, 'query')));
    const { customerId } = parse(CustomerPath, event.pathParameters ?? {}, 'path');
    switch (event.routeKey) {
      case 'GET /connections/{customerId}':
        return json(200, await getConnection(deps, customerId));
      case 'POST /connections/{customerId}/imports':
        return json(202, (await requestImport(deps, customerId)) satisfies z.infer<typeof ImportRequested>);
      case 'GET /connections/{customerId}/imports':
        return json(200, await listImports(deps, customerId, parse(ListImportsQuery, query, 'query')));
      case 'DELETE /connections/{customerId}': {
        const purge = parse(DisconnectQuery, query, 'query').purge === 'true';
        const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() - 3_000 : PURGE_BUDGET_MS;
        const result = await disconnect(deps, customerId, { purge, rawPrefixes, deadline: deps.clock.now() + Math.min(PURGE_BUDGET_MS, remaining), settleMs: PURGE_SETTLE_MS });
        // 202: purge stopped at its time budget, or ingestion may still be finishing; DELETE again to continue.
        if (result.purged && !result.purged.complete) {
          const retryAfter = result.purged.settlesAt ? Math.max(1, Math.ceil((Date.parse(result.purged.settlesAt) - deps.clock.now()) / 1000)) : 1;
          return json(202, result, { 'retry-after': String(retryAfter) });
        }
        return json(200, result);
      }
      default:
        throw new NotFoundError(`no route ${event.routeKey}`);
    }
  }).use(httpErrors(deps.logger));
}
