import type { IntakeErrorName, OAuthErrorCode } from './errors';

/**
 * Why the intake refused a call: an injected fault, one of its rate limits (createDataQuery's
 * per-second, window or daily limit, listDataQueryRecords' per-second or daily one), or
 * anything else about the request (token, consent, conflict, parameters).
 */
export type RefusalOrigin = 'fault' | 'rate-limit' | 'request';

/** One intake answer, as it is sent. */
export interface IntakeAnswer {
  readonly kind: 'intake';
  /** Sandbox time, epoch ms. */
  readonly at: number;
  /** Undefined when the path named no operation (a 404, a blocked request). */
  readonly operation?: 'createDataQuery' | 'listDataQueryRecords';
  /** The customer whose access token the call carried, when the sandbox knows the token. */
  readonly customerId?: string;
  readonly status: number;
  /** Refused: the error's name in the reference's table (`THROTTLED` for the 20-minute window). */
  readonly error?: IntakeErrorName;
  readonly origin?: RefusalOrigin;
}

/** Why a refresh token was refused: unknown, already rotated (reuse), unused too long, or its consent is over. */
export type RefreshRefusal = 'unknown' | 'reused' | 'expired' | 'ended';

/** One token endpoint answer, as it is sent. */
export interface TokenAnswer {
  readonly kind: 'token';
  readonly at: number;
  readonly grantType?: string;
  /** The customer of the code or refresh token presented, when the sandbox knows it. */
  readonly customerId?: string;
  readonly status: number;
  readonly error?: OAuthErrorCode;
  /** An injected fault answered. */
  readonly injected?: boolean;
  readonly refreshRefusal?: RefreshRefusal;
  /** Whether the consent behind the presented token was still in force when it was presented. */
  readonly consentActive?: boolean;
}

export type SandboxEvent = IntakeAnswer | TokenAnswer;
export type SandboxListener = (event: SandboxEvent) => void;

/**
 * Who is told of each intake and token answer: what a test or the simulation counts (a 429 of
 * the product's own pacing apart from an injected one, a refresh token that lapsed while its
 * consent was in force). Listening changes nothing about the answers.
 */
export class Observers {
  private readonly listeners = new Set<SandboxListener>();

  add(listener: SandboxListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: SandboxEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
