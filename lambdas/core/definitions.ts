/**
 * The shape of every stateful resource, in one place. The CDK construct (lib/) builds the
 * real tables and queues from these; the local harness (local/) creates the emulated ones
 * from the same objects; adapters read the attribute names from here. Change a key here and
 * all three follow.
 */

export type AttributeType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

export interface TableDefinition {
  /** Used as the construct id in CDK and as the table name locally. */
  readonly id: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  /** Epoch seconds; DynamoDB deletes the item some time after. Code must still check it. */
  readonly timeToLiveAttribute: string;
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
}

/**
 * Single-table control plane: connections (`CONN#<customerId>`), OAuth states
 * (`STATE#<state>`), queries (`QUERY#<queryId>`), file tasks, leases, rate-limit buckets and
 * idempotency records. `gsi1` is sparse: items that need a second access path (connections
 * by status for the scheduler, queries awaiting a notification) set `gsi1pk`/`gsi1sk`.
 * `gsi2` is sparse too: only query items set it (`QHISTORY#<customerId>`, createdAt), a
 * customer's import history newest first (GET /connections/{customerId}/imports). A second
 * index rather than a history item per query: the query item is the history, so every status
 * change shows without a second write to keep in step (README: Admin API).
 */
export const controlTable = {
  id: 'ControlTable',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    {
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
    },
    {
      indexName: 'gsi2',
      partitionKey: { name: 'gsi2pk', type: 'S' },
      sortKey: { name: 'gsi2sk', type: 'S' },
    },
  ],
} as const satisfies TableDefinition;

/**
 * Imported records: partition `<customerId>#<dataset>`, sort `<eventDate or ->#<sha256 of the
 * canonical record>`, so re-importing an overlapping window upserts instead of duplicating.
 */
export const recordsTable = {
  id: 'RecordsTable',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [],
} as const satisfies TableDefinition;

export const tables = [controlTable, recordsTable] as const;

/** Partition-key prefixes of control-table items that a grant may be limited to. */
export const controlItemPrefixes = {
  query: 'QUERY#',
  subscription: 'SUBSCRIPTION#',
  /** A connection's place in the import schedule. */
  importEntry: 'IMPORT#',
  /** A brand's createDataQuery pacing mark. */
  importPacer: 'PACER#',
  /** When a connection's refresh token was issued (the token keeper's index). */
  tokenAge: 'TOKENS#',
} as const;

/**
 * What the public notification endpoint may touch: query and subscription items, and the
 * import schedule's entries (a query's end releases or re-queues its connection's import).
 */
export const NOTIFICATION_ITEM_PREFIXES = [controlItemPrefixes.query, controlItemPrefixes.subscription, controlItemPrefixes.importEntry] as const;

/**
 * Point-in-time recovery of both tables, in days (DynamoDB's longest window): an item deleted
 * from a table can be restored from a backup for this long after. A purge says so.
 */
export const POINT_IN_TIME_RECOVERY_DAYS = 35;

/**
 * The raw-data bucket. Versioned, so an overwrite never loses a file; so deleting a file means
 * deleting every version of it (a plain delete only adds a delete marker).
 */
export const rawDataBucket = { versioned: true } as const;

export interface QueueDefinition {
  /** Used as the construct id prefix in CDK and as the queue name locally. */
  readonly id: string;
  readonly description: string;
  /**
   * Must be at least six times the timeout of the function that consumes the queue (the
   * function construct refuses a consumer that breaks this), so a message is not handed to a
   * second consumer while the first is still working on it.
   */
  readonly visibilityTimeoutSeconds: number;
  /**
   * An alarm fires when the queue's oldest message is older than this: work that should have
   * moved on by then is stuck (a consumer failing, throttled, or a rate limit never lifting).
   */
  readonly stuckAfterSeconds: number;
}

/**
 * However a consumer ends — a crash, a timeout, a killed container — its message is handed out
 * again when its visibility timeout ends, so every work queue's is at most this: a file task
 * must be fetched again well inside Ring's 1-hour listing window, and any stuck stage retried
 * within 10 minutes.
 */
export const MAX_RETRY_AFTER_CRASH_SECONDS = 10 * 60;

/**
 * The longest a collect, fetch or load invocation runs (their Lambda timeout). Six times it
 * (AWS's guidance for a queue's visibility timeout) stays under MAX_RETRY_AFTER_CRASH_SECONDS.
 * The work fits: a 2 GB fetch takes about 30 s; load checkpoints and continues in a new
 * invocation when 30 s are left; collect re-queues itself rather than wait out a rate limit.
 * A purge waits this long after it was requested before it calls itself complete: any
 * invocation that started before the request has ended by then, and every later one sees the
 * request and stops.
 */
export const INGESTION_MAX_INVOCATION_SECONDS = 95;

/**
 * NODE_OPTIONS of the fetch and load functions, and of their stages in `npm run bench` (so the
 * bench measures what Lambda runs). Load's live data is bounded (4 batches of at most 1 MiB
 * of records in flight, elements of at most 8 MiB, rejected records written out every 4 MiB:
 * it runs in a 128 MiB heap), but V8 sizes
 * its heap by the machine and let garbage pile up to a peak RSS over 200 MiB before collecting
 * it. An old space of 256 MiB puts V8 in its memory-constrained growth (it collects before the
 * heap doubles): load's peak went from about 235 to about 150 MiB for about 5-10 % more CPU
 * per MiB. 4 MiB semi-spaces took it to 120 MiB but cost 20 % more CPU (README: Performance).
 */
export const INGESTION_NODE_OPTIONS = '--enable-source-maps --max-old-space-size=256';

/** The pipeline's work queues, in flow order. Each gets a dead-letter queue. */
export const pipelineQueues = {
  imports: {
    id: 'imports',
    description: 'Import requests: create a data query for a connection',
    visibilityTimeoutSeconds: 6 * 60,
    // Imports wait by design: spaced out (up to 15 min), over Ring's rate limits, past its 5-minute cache.
    stuckAfterSeconds: 60 * 60,
  },
  completedQueries: {
    id: 'completed-queries',
    description: 'Completed queries: list their records into file tasks',
    visibilityTimeoutSeconds: 6 * INGESTION_MAX_INVOCATION_SECONDS,
    // Ring lists a completed query's records for 1 hour only.
    stuckAfterSeconds: 20 * 60,
  },
  files: {
    id: 'files',
    description: 'File tasks: stream one listed file into S3',
    visibilityTimeoutSeconds: 6 * INGESTION_MAX_INVOCATION_SECONDS,
    // Inside the query's 1-hour listing window, with time left to list it again.
    stuckAfterSeconds: 20 * 60,
  },
  loads: {
    id: 'loads',
    description: 'Load tasks: parse a raw S3 object into records',
    visibilityTimeoutSeconds: 6 * INGESTION_MAX_INVOCATION_SECONDS,
    // The raw copy is safe in S3; a large file takes several invocations.
    stuckAfterSeconds: 60 * 60,
  },
} as const satisfies Record<string, QueueDefinition>;

export type PipelineQueueName = keyof typeof pipelineQueues;

export const deadLetterQueueId = (queue: QueueDefinition): string => `${queue.id}-dlq`;

/**
 * What Secrets Manager accepts as a secret name (CreateSecret's `Name`): 1-512 ASCII letters,
 * digits and `/_+=.@-`. A name outside it fails CreateSecret, so the callback checks the
 * connection's name against it before it spends the customer's one-time OAuth code.
 */
export const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/**
 * A customer id as it appears in its connection secret's name. A customer id may hold `:`,
 * which a secret name cannot; it is written `=`, which a customer id never holds. Every other
 * character stays as it is, so the mapping is one to one (no two ids share a name), keeps the
 * length, and leaves ids without `:` unchanged.
 */
export const customerIdInSecretName = (customerId: string): string => customerId.replaceAll(':', '=');

/** The inverse of `customerIdInSecretName`: the customer id a connection secret's name stands for. */
export const customerIdFromSecretName = (segment: string): string => segment.replaceAll('=', ':');

/**
 * The CloudWatch namespace of the product's own metrics: one per resourcePrefix, so two stacks
 * in one account and region (which must have different prefixes) never count into each
 * other's alarms.
 */
export const metricsNamespace = (prefix: string): string => `RingPortability/${prefix}`;

/**
 * Secrets Manager names, under the configured prefix. A connection's name is at most 181
 * characters: a prefix of at most 40, `/connections/`, a customer id of at most 128.
 */
export const secretNames = {
  clientCredentials: (prefix: string, brand: string): string => `${prefix}/client/${brand}`,
  connection: (prefix: string, customerId: string): string => `${prefix}/connections/${customerIdInSecretName(customerId)}`,
} as const;

/**
 * What a client-credentials secret holds until the integrator puts Ring's pair in. Code that
 * reads it must treat empty values as "not configured yet" and say so.
 */
export const clientCredentialsPlaceholder = { client_id: '', client_secret: '' } as const;
