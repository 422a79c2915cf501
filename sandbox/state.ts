import type { DataChange, DataFile, DataSpec } from './data/files';
import type { DatasetName } from './data/datasets';

export const BRANDS = ['ring', 'blink'] as const;
export type Brand = (typeof BRANDS)[number];
export const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2'] as const;
export type Region = (typeof REGIONS)[number];

export function isRegion(name: string): name is Region {
  return (REGIONS as readonly string[]).includes(name);
}

/** The consent page's "How much data to transfer?" choices. */
export const HISTORY_CHOICES = ['5d', '30d', '60d', '1y', 'since'] as const;
export type HistoryChoice = (typeof HISTORY_CHOICES)[number];
/** The consent page's "For how long do you authorize the transfer?" choices. */
export const DURATION_CHOICES = ['once', '30d', '90d', '180d', '1y'] as const;
export type DurationChoice = (typeof DURATION_CHOICES)[number];

export interface ConsentChoice {
  readonly history: HistoryChoice;
  /** With history `since`: the date (YYYY-MM-DD). */
  readonly since?: string;
  readonly duration: DurationChoice;
}

export type Allowlist = 'allowlisted' | 'not-allowlisted' | 'unidentified';

export interface App {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly name: string;
  readonly redirectUris: string[];
  notificationUrl?: string;
  signatureVersion: '1' | '2';
  enabledScopes: string[];
  allowlist: Allowlist;
  /** Its security profile was removed: tokens it holds fail with SECURITY_PROFILE_NOT_FOUND. */
  deleted: boolean;
}

export interface Customer {
  readonly id: string;
  readonly brand: Brand;
  readonly region: Region;
  readonly email: string;
  readonly password: string;
  readonly seed: string;
  readonly sessionId: string;
  onHold: boolean;
  /** Consent given without the pages (non-browser tests). */
  presetConsent?: ConsentChoice;
  datasets: Partial<Record<DatasetName, number>>;
  /** Changes to the data (`POST /__sandbox/customers/:id/data-changes`): queries created later see them. */
  changes: DataChange[];
  recordsPerFile: number;
  malformed: DatasetName[];
  readonly createdAt: number;
}

/** A customer's consent to one app: what the product's tokens stand for. */
export interface Grant {
  readonly id: string;
  readonly clientId: string;
  readonly customerId: string;
  readonly brand: Brand;
  readonly scope: string;
  readonly choice: ConsentChoice;
  readonly windowStart: number;
  readonly grantedAt: number;
  /** When the authorization ends; one-time transfers end when their first query completes. */
  expiresAt?: number;
  revoked: boolean;
  revokedReason?: string;
}

export interface AuthorizationCode {
  readonly grantId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly codeChallengeMethod: 'S256' | 'plain';
  readonly expiresAt: number;
  used: boolean;
}

export interface AccessToken {
  readonly grantId: string;
  expiresAt: number;
}

export interface RefreshToken {
  readonly grantId: string;
  lastUsedAt: number;
  /** False once rotated: presenting it again revokes the whole grant (reuse detection). */
  current: boolean;
}

export type QueryStatus = 'IN_PROGRESS' | 'COMPLETED' | 'CANCELED';

export interface Query {
  readonly id: string;
  readonly clientId: string;
  readonly customerId: string;
  readonly grantId: string;
  readonly brand: Brand;
  readonly region: Region;
  readonly scopeId: string;
  status: QueryStatus;
  readonly createdAt: number;
  completedAt?: number;
  /** When its notification was sent (listing opens then, for 1 hour): at completion, or later if the notification is delayed. */
  notifiedAt?: number;
  readonly spec: DataSpec;
  readonly files: DataFile[];
  cancelCompletion?: () => void;
}

export interface SandboxState {
  readonly apps: Map<string, App>;
  readonly customers: Map<string, Customer>;
  readonly grants: Map<string, Grant>;
  readonly codes: Map<string, AuthorizationCode>;
  readonly accessTokens: Map<string, AccessToken>;
  readonly refreshTokens: Map<string, RefreshToken>;
  readonly queries: Map<string, Query>;
}

export function emptyState(): SandboxState {
  return {
    apps: new Map(),
    customers: new Map(),
    grants: new Map(),
    codes: new Map(),
    accessTokens: new Map(),
    refreshTokens: new Map(),
    queries: new Map(),
  };
}

const DAY = 86_400_000;

/** Start of the history window the customer chose, epoch ms. */
export function historyStart(choice: ConsentChoice, grantedAt: number): number {
  switch (choice.history) {
    case '5d':
      return grantedAt - 5 * DAY;
    case '30d':
      return grantedAt - 30 * DAY;
    case '60d':
      return grantedAt - 60 * DAY;
    case '1y':
      return grantedAt - 365 * DAY;
    case 'since': {
      const since = Date.parse(`${choice.since ?? ''}T00:00:00Z`);
      if (!Number.isFinite(since) || since > grantedAt) throw new Error('"since" must be a past date (YYYY-MM-DD)');
      return since;
    }
  }
}

/** When the authorization ends; undefined for a one-time transfer until its query completes. */
export function consentEnd(choice: ConsentChoice, grantedAt: number): number | undefined {
  switch (choice.duration) {
    case 'once':
      return undefined;
    case '30d':
      return grantedAt + 30 * DAY;
    case '90d':
      return grantedAt + 90 * DAY;
    case '180d':
      return grantedAt + 180 * DAY;
    case '1y':
      return grantedAt + 365 * DAY;
  }
}
