import { readEnv } from '../core/env';
import { ConnectEnv, connectDeps } from '../shared/runtime';
import { makeConnectHandler } from './app';

/** POST /connections (IAM). */
export const handler = makeConnectHandler(connectDeps(readEnv(ConnectEnv)));
