export { RingPortabilityClient, type ConnectLink, type Credentials, type Disconnected, type ImportRequested, type RingPortabilityClientOptions } from './client';
export { ERROR_CODES, RingPortabilityError, type RingPortabilityErrorCode } from './errors';
export type { ConnectionsPage, ImportSummary, ImportsPage, ListConnectionsQuery, ListImportsQuery } from './api-types';
export type { ConnectLinkRequest } from '../../lambdas/core/connections/connect';
export type { ConnectionView } from '../../lambdas/core/api/schemas';
export type { DisconnectResult } from '../../lambdas/core/connections/manage';
