export const QUERY_STATUSES = ['REQUESTED', 'COMPLETED', 'CANCELED', 'COLLECTING', 'LOADING', 'DONE', 'FAILED'] as const;
export type QueryStatus = (typeof QUERY_STATUSES)[number];

/** A data query created at Ring, findable by its id when the notification arrives. */
export interface QueryRecord {
  readonly queryId: string;
  readonly customerId: string;
  readonly brand: string;
  readonly region: string;
  readonly scopeId: string;
  readonly status: QueryStatus;
  readonly createdAt: string;
  readonly attempt: number;
  /** The import request that created it (`importRequestKey`): a redelivery of that request is not a new import. */
  readonly importRequest?: string;
  readonly notifiedAt?: string;
  readonly statusReason?: string;
}

/** What the completed-queries queue carries to the collect stage. */
export interface CompletedQuery {
  readonly queryId: string;
  readonly customerId: string;
  readonly brand: string;
  readonly region: string;
  readonly completedAt: string;
}
