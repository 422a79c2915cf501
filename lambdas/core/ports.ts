import type { ConnectionRecord, ConnectionStatus, LastImport, PendingAuthorization } from './connections/model';

/**
 * The small interfaces the domain talks to; `lambdas/adapters/` implements them for Secrets
 * Manager and DynamoDB, tests may implement them in memory.
 */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface Logger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface StoredSecret {
  readonly value: string;
  readonly versionId?: string;
}

export interface SecretStore {
  /** The current value, or undefined when the secret does not exist. */
  read(secretId: string): Promise<StoredSecret | undefined>;
  /**
   * Writes a new current version. `clientRequestToken` makes a retried write of the same value
   * a no-op instead of a second version.
   */
  write(secretId: string, value: string, clientRequestToken: string): Promise<void>;
}

export interface LeaseStore {
  /** Takes the lease if nobody holds it or the holder's lease has expired. */
  acquire(key: string, holder: string, now: number, ttlMs: number): Promise<boolean>;
  /** Releases the lease if `holder` still holds it. */
  release(key: string, holder: string): Promise<void>;
}

/**
 * When each connection's refresh token was issued, outside its secret: the token keeper reads
 * the secrets of due connections only.
 */
export interface TokenAgeIndex {
  record(customerId: string, refreshTokenIssuedAt: number): Promise<void>;
  /** Up to `limit` connections whose refresh token was issued before `before` (epoch ms), oldest first. */
  issuedBefore(before: number, limit: number): Promise<{ customerId: string; refreshTokenIssuedAt: number }[]>;
  remove(customerId: string): Promise<void>;
}

/** What a status change replaced: the connection's status before it, and where the connection is. */
export interface StatusChange {
  readonly previousStatus: ConnectionStatus;
  readonly brand: string;
  readonly region: string;
}

export interface ConnectionStatusStore {
  /**
   * The customer must connect again (refresh token revoked, expired or reused); only from ACTIVE
   * or ON_HOLD. Returns what changed, undefined when nothing did (so only real transitions are announced).
   */
  markRelinkRequired(customerId: string, reason: string, now: number): Promise<StatusChange | undefined>;
}

export interface RateLog {
  readonly times: readonly number[];
  /** Opaque; passed back to `writeLog` so a concurrent writer is detected. */
  readonly version: number;
}

export interface RateLimitStore {
  readLog(key: string): Promise<RateLog>;
  /** Replaces the log if its version is still `expectedVersion`; false when someone else wrote first. */
  writeLog(key: string, times: readonly number[], expectedVersion: number, expiresAt: number): Promise<boolean>;
  /** Adds one to a counter if it is below `limit`; false when the limit is reached. */
  incrementBelow(key: string, limit: number, expiresAt: number): Promise<boolean>;
}

/** What the product knows about a customer's connection, as far as Ring calls need. */
export interface Connection {
  readonly customerId: string;
  readonly brand: string;
  readonly region: string;
  /** Secrets Manager id (name or ARN) of the connection's token secret. */
  readonly secretId: string;
}

export interface ConnectionRepository {
  get(customerId: string): Promise<ConnectionRecord | undefined>;
  /** Creates or replaces the connection row. */
  put(record: ConnectionRecord): Promise<void>;
  /**
   * Sets the status, unless it is the status already (statusChangedAt says since when); with
   * `from`, only if the current status is one of them (no change otherwise).
   * Returns what it replaced, undefined when nothing changed.
   */
  setStatus(customerId: string, status: ConnectionStatus, reason: string, now: number, from?: readonly ConnectionStatus[]): Promise<StatusChange | undefined>;
  /** Records what became of an import request, unless a newer request's is already there. */
  recordImport(customerId: string, lastImport: LastImport): Promise<void>;
  /** Every connection in a status, page by page. */
  listByStatus(status: ConnectionStatus): AsyncIterable<ConnectionRecord>;
  /** Sets when the next recurring import is due, if it is still `expected` (no double scheduling). */
  setNextImport(customerId: string, nextImportAt: string, expected: string | undefined): Promise<boolean>;
  /** Records that a purge was requested, once: returns when it was first requested (ISO). */
  markPurgeRequested(customerId: string, now: number): Promise<string>;
}

export interface AuthorizationStateStore {
  put(pending: PendingAuthorization): Promise<void>;
  /** Deletes and returns the state in one conditional step; undefined if it was not there. */
  consume(state: string): Promise<PendingAuthorization | undefined>;
}

export interface SecretAdmin {
  /** Creates the secret, or puts a new current version if it exists. Returns its ARN. */
  upsert(name: string, value: string): Promise<string>;
  /** Deletes the secret at once (no recovery window); no error if it is gone already. */
  remove(secretId: string): Promise<void>;
}

export interface WorkQueue {
  send(body: object, options?: { delaySeconds?: number }): Promise<void>;
  /**
   * Makes a received message that failed visible again after `seconds` rather than after the
   * queue's whole visibility timeout (hours, for the ingestion queues). Optional: best effort.
   */
  retryAfter?(receiptHandle: string, seconds: number): Promise<void>;
}

export interface DeletionProgress {
  readonly deleted: number;
  /** What the store refused to delete in this call, by error code (S3's per-key errors); retried by the next call. */
  readonly refused?: Readonly<Record<string, number>>;
  /** False when `shouldStop` ended the work early or something was refused: call again to continue. */
  readonly complete: boolean;
}

export interface CustomerDataStore {
  /**
   * Deletes for good everything stored under the prefix: every version of every object
   * (delete markers included: the bucket is versioned, so a plain delete would only hide the
   * bytes) and the parts of uploads left incomplete. `deleted` counts object versions.
   */
  deleteObjects(prefix: string, shouldStop: () => boolean): Promise<DeletionProgress>;
  /** Deletes the items of a records partition, batch by batch, until done or `shouldStop()`. */
  deleteRecords(partitionKey: string, shouldStop: () => boolean): Promise<DeletionProgress>;
}
