import { z } from 'zod';
import { PortabilityError } from '../errors';

/**
 * The integrator's own id for its customer: bounded and safe in keys and URLs. Secret names
 * cannot hold `:`: there it is written `=` (see `customerIdInSecretName`), so `=` must never
 * join this alphabet.
 */
export const CustomerId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/, {
  message: 'must be 1-128 characters: letters, digits and . _ : @ - (starting with a letter or digit)',
});

/**
 * What the product can tell apart from Ring's answers (README, "Connection status"):
 * - ACTIVE: importing.
 * - ON_HOLD: Ring still refreshes the tokens but refuses the data (ACCESS_DENIED to a token it
 *   has just issued): of the reference's three causes, the one that leaves the authorization in
 *   place, an account on hold. Re-checked every import interval; ACTIVE again when Ring accepts.
 * - RELINK_REQUIRED: Ring refused the refresh token (invalid_grant). A revoked consent, an
 *   expired one and a refused token get the same answer, so they read the same: only a new
 *   consent brings the data back.
 * - REVOKED: the integrator disconnected it (DELETE /connections/{id}).
 */
export const CONNECTION_STATUSES = ['ACTIVE', 'ON_HOLD', 'RELINK_REQUIRED', 'REVOKED'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** Statuses an import may run for: an ON_HOLD connection's import is its re-check. */
export const IMPORTABLE_STATUSES: readonly ConnectionStatus[] = ['ACTIVE', 'ON_HOLD'];

/** What became of the most recent import request (asynchronous: the imports queue decides). */
export const IMPORT_STATES = ['QUEUED', 'REQUESTED', 'WAITING', 'SKIPPED', 'FAILED'] as const;
export type ImportState = (typeof IMPORT_STATES)[number];

export interface LastImport {
  /** The request it describes: its `requestedAt`, which `POST …/imports` answers with. */
  readonly requestedAt: string;
  readonly trigger: ImportRequest['reason'];
  /**
   * QUEUED: waiting on the imports queue. REQUESTED: Ring's query `queryId` brings the data.
   * WAITING: tried again at `retryAt` (rate limit, quota, Ring's 5-minute response cache).
   * SKIPPED: not started, `detail` says why. FAILED: an operator must look (dead-letter queue).
   */
  readonly state: ImportState;
  readonly detail?: string;
  readonly queryId?: string;
  readonly retryAt?: string;
  readonly updatedAt: string;
}

export interface ConnectionRecord {
  readonly customerId: string;
  readonly brand: string;
  readonly region: string;
  readonly scopeId: string;
  readonly status: ConnectionStatus;
  readonly secretId: string;
  readonly connectedAt: string;
  readonly statusReason?: string;
  readonly statusChangedAt?: string;
  readonly lastImport?: LastImport;
  /** When the next recurring import is due (ISO); unset: one interval after connectedAt. */
  readonly nextImportAt?: string;
  /** When a purge of the customer's data was first requested (ISO): the pipeline stops for it. */
  readonly purgeRequestedAt?: string;
}

/** A started authorization: kept under its state until the callback consumes it, once. */
export interface PendingAuthorization {
  readonly state: string;
  readonly customerId: string;
  readonly brand: string;
  readonly region: string;
  readonly returnUrl?: string;
  /** The PKCE verifier: stored encrypted at rest, never logged. */
  readonly verifier: string;
  /** Epoch ms; the code enforces it, DynamoDB TTL only cleans up. */
  readonly expiresAt: number;
}

/** An import request on the imports queue. */
export interface ImportRequest {
  readonly customerId: string;
  readonly reason: 'connected' | 'requested' | 'scheduled' | 'recheck';
  readonly requestedAt: string;
  /** 1 for a first request; a re-check after a canceled query is attempt 2, and the last. */
  readonly attempt?: number;
}

export class ValidationError extends PortabilityError {
  readonly name = 'ValidationError';
}

export class NotFoundError extends PortabilityError {
  readonly name = 'NotFoundError';
}

export class ConflictError extends PortabilityError {
  readonly name = 'ConflictError';
}

/** The callback's state is unknown, already used, expired or tampered with. */
export class InvalidStateError extends PortabilityError {
  readonly name = 'InvalidStateError';
}
