import middy from '@middy/core';
import type { z } from 'zod';
import { ConnectBody, type ConnectLink } from '../core/api/schemas';
import { createConnectLink, type ConnectDeps } from '../core/connections/connect';
import { httpErrors, json, parseJsonBody, type HttpEvent, type HttpResult } from '../shared/http';

// (adapter) --> createConnectLink --> domain
export function makeConnectHandler(deps: ConnectDeps) {
  return middy(async (event: HttpEvent): Promise<HttpResult> => {
    const body = parseJsonBody(event, ConnectBody);
    return json(201, (await createConnectLink(deps, body)) satisfies z.infer<typeof ConnectLink>);
  }).use(httpErrors(deps.logger));
}
