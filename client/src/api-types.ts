/**
 * The answers of the two listing routes, GET /connections and GET /connections/{customerId}/imports.
 * Kept apart from the rest of the client on purpose: these are to be derived from the routes'
 * own zod schemas (lambdas/core/api/) once they exist, and only this file changes then.
 */
import type { ConnectionView } from '../../lambdas/core/connections/manage';
import type { ConnectionStatus } from '../../lambdas/core/connections/model';
import type { DatasetCounts } from '../../lambdas/core/ingest/complete';

export interface ListConnectionsQuery {
  readonly status?: ConnectionStatus;
  readonly brand?: string;
  /** Connections per page. */
  readonly limit?: number;
  /** The previous page's `nextCursor`. */
  readonly cursor?: string;
}

export interface ConnectionsPage {
  readonly connections: readonly ConnectionView[];
  /** Set when there is another page: pass it as `cursor`. */
  readonly nextCursor?: string;
}

export interface ListImportsQuery {
  /** Imports per page. */
  readonly limit?: number;
  /** The previous page's `nextCursor`. */
  readonly cursor?: string;
}

/** One of a customer's Ring queries: its status, when it moved, and what it wrote once DONE. */
export interface ImportSummary {
  readonly queryId: string;
  readonly status: string;
  readonly requestedAt: string;
  readonly updatedAt?: string;
  readonly completedAt?: string;
  readonly manifestKey?: string;
  readonly totals?: Readonly<Record<string, number>>;
  readonly datasets?: Readonly<Record<string, DatasetCounts>>;
}

export interface ImportsPage {
  /** Newest first. */
  readonly imports: readonly ImportSummary[];
  /** Set when there is another page: pass it as `cursor`. */
  readonly nextCursor?: string;
}
