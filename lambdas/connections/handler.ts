import { readEnv } from '../core/env';
import { ManageEnv, manageDeps } from '../shared/runtime';
import { makeConnectionsHandler } from './app';

/** GET /connections, GET and DELETE /connections/{customerId}, GET and POST /connections/{customerId}/imports (IAM). */
export const handler = makeConnectionsHandler(manageDeps(readEnv(ManageEnv)));
