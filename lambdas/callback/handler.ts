import { readEnv } from '../core/env';
import { ConnectEnv, connectDeps } from '../shared/runtime';
import { makeCallbackHandler } from './app';

/** GET /oauth/callback (public): the redirect URI registered with Ring. */
export const handler = makeCallbackHandler(connectDeps(readEnv(ConnectEnv)));
