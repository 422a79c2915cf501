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

export const CONNECTION_STATUSES = ['ACTIVE', 'RELINK_REQUIRED', 'REVOKED', 'EXPIRED'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

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
  readonly lastImport?: Record<string, unknown>;
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
