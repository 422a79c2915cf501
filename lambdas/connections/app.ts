import middy from '@middy/core';
import { disconnect, getConnection, requestImport, type ManageDeps } from '../core/connections/manage';
import { CustomerId, NotFoundError } from '../core/connections/model';
import { rawPrefixes } from '../core/connections/partitions';
import { httpErrors, json, parse, type HttpEvent, type HttpResult } from '../shared/http';

// (adapter) --> getConnection | requestImport | disconnect --> domain
export function makeConnectionsHandler(deps: ManageDeps) {
  return middy(async (event: HttpEvent): Promise<HttpResult> => {
    const customerId = parse(CustomerId, event.pathParameters?.customerId, 'customerId');
    switch (event.routeKey) {
      case 'GET /connections/{customerId}':
        return json(200, await getConnection(deps, customerId));
      case 'POST /connections/{customerId}/imports':
        return json(202, await requestImport(deps, customerId));
      case 'DELETE /connections/{customerId}': {
        const purge = event.queryStringParameters?.purge === 'true';
        return json(200, await disconnect(deps, customerId, { purge, rawPrefixes }));
      }
      default:
        throw new NotFoundError(`no route ${event.routeKey}`);
    }
  }).use(httpErrors(deps.logger));
}
