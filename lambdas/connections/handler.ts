import { readEnv } from '../core/env';
import { ManageEnv, manageDeps } from '../shared/runtime';
import { makeConnectionsHandler } from './app';

/** GET, DELETE /connections/{customerId} and POST /connections/{customerId}/imports (IAM). */
export const handler = makeConnectionsHandler(manageDeps(readEnv(ManageEnv)));
