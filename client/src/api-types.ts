/**
 * The answers of the two listing routes, GET /connections and GET /connections/{customerId}/imports:
 * the `z.infer` types of the routes' own zod schemas (lambdas/core/api/schemas.ts), which the
 * handlers answer with and docs/openapi.json documents.
 */
import type { ConnectionPage, ImportPage, ImportView } from '../../lambdas/core/api/schemas';
import type { ConnectionStatus } from '../../lambdas/core/connections/model';
import type { Brand } from '../../lambdas/core/settings';

export interface ListConnectionsQuery {
  readonly status?: ConnectionStatus;
  readonly brand?: Brand;
  /** Connections read for this page, 1-100 (default 50). */
  readonly limit?: number;
  /** The previous page's `nextCursor`, with the same filters. */
  readonly cursor?: string;
}

export type ConnectionsPage = ConnectionPage;

export interface ListImportsQuery {
  /** Imports per page, 1-100 (default 20). */
  readonly limit?: number;
  /** The previous page's `nextCursor`. */
  readonly cursor?: string;
}

/** One of a customer's Ring queries: its status, timestamps, durations, and once DONE its counts and manifest. */
export type ImportSummary = ImportView;

export type ImportsPage = ImportPage;
