import middy from '@middy/core';
import { z } from 'zod';
import { createConnectLink, type ConnectDeps } from '../core/connections/connect';
import { CustomerId } from '../core/connections/model';
import { Brand, Region } from '../core/settings';
import { httpErrors, json, parseJsonBody, type HttpEvent, type HttpResult } from '../shared/http';

const ConnectBody = z.strictObject({
  customerId: CustomerId,
  brand: Brand,
  region: Region.optional(),
  returnUrl: z.string().max(2048).optional(),
});

// (adapter) --> createConnectLink --> domain
export function makeConnectHandler(deps: ConnectDeps) {
  return middy(async (event: HttpEvent): Promise<HttpResult> => {
    const body = parseJsonBody(event, ConnectBody);
    return json(201, await createConnectLink(deps, body));
  }).use(httpErrors(deps.logger));
}
