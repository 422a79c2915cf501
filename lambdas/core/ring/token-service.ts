import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock, Connection, ConnectionStatusStore, LeaseStore, Logger, SecretStore, TokenAgeIndex } from '../ports';
import { parseJsonOrUndefined } from '../json';
import { Secret } from '../secret';
import type { ClientCredentialsProvider } from './client-credentials';
import { RelinkRequiredError, RetryLaterError } from './errors';
import { InvalidGrantError, TokenEndpointUnavailableError, type OAuthClient, type Tokens } from './oauth-client';

/** What a connection's secret holds. */
export const ConnectionTokens = z.object({
  refreshToken: z.string().min(1),
  refreshTokenIssuedAt: z.number(),
  accessToken: z.string().optional(),
  accessTokenExpiresAt: z.number().optional(),
});
export type ConnectionTokens = z.infer<typeof ConnectionTokens>;

export interface TokenServiceOptions {
  /** A cached access token with less than this left is refreshed. @default 5 minutes */
  readonly refreshSkewMs?: number;
  /** How long a refresh lease lasts if its holder dies. @default 30 s */
  readonly leaseTtlMs?: number;
  /** How long a caller waits for another's refresh before giving up with RetryLaterError. @default 20 s */
  readonly waitTimeoutMs?: number;
  /** How often a waiting caller re-reads the secret. @default 200 ms */
  readonly pollMs?: number;
}

export interface TokenServiceDeps {
  readonly secrets: SecretStore;
  readonly leases: LeaseStore;
  readonly connections: ConnectionStatusStore;
  /** Where each refresh is recorded, so the token keeper reads only due connections' secrets. */
  readonly tokenAges?: TokenAgeIndex;
  readonly oauth: OAuthClient;
  readonly credentials: ClientCredentialsProvider;
  /** The token endpoint for a connection's brand. */
  readonly tokenUrl: (connection: Connection) => string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options?: TokenServiceOptions;
}

/** The JSON a connection's secret holds, from fresh tokens. */
export function connectionSecretValue(tokens: Tokens, now: number): string {
  const value: ConnectionTokens = {
    refreshToken: tokens.refreshToken.reveal(),
    refreshTokenIssuedAt: now,
    accessToken: tokens.accessToken.reveal(),
    accessTokenExpiresAt: now + tokens.expiresIn * 1000,
  };
  return JSON.stringify(value);
}

/**
 * Access tokens for a connection, refreshed safely although Ring rotates refresh tokens:
 * one refresh at a time per connection (a lease in the control table that expires if its
 * holder dies), the refresh token read inside the lease, the new one stored before the access
 * token is used, and everyone else re-reading the secret instead of refreshing again.
 */
export class TokenService {
  private readonly skewMs: number;
  private readonly leaseTtlMs: number;
  private readonly waitTimeoutMs: number;
  private readonly pollMs: number;

  constructor(private readonly deps: TokenServiceDeps) {
    this.skewMs = deps.options?.refreshSkewMs ?? 5 * 60_000;
    this.leaseTtlMs = deps.options?.leaseTtlMs ?? 30_000;
    this.waitTimeoutMs = deps.options?.waitTimeoutMs ?? 20_000;
    this.pollMs = deps.options?.pollMs ?? 200;
  }

  /**
   * A usable access token. `rejected`: a token Ring just refused, so a cached copy of it does
   * not count (refresh-then-retry). Throws RelinkRequiredError when the grant is gone and
   * RetryLaterError when another refresh did not finish in time.
   */
  async getAccessToken(connection: Connection, options: { rejected?: Secret } = {}): Promise<{ token: Secret; refreshed: boolean }> {
    const current = await this.read(connection);
    if (this.usable(current, options.rejected)) return { token: new Secret(current.accessToken!), refreshed: false };
    return this.refreshUnderLease(connection, (tokens) => this.usable(tokens, options.rejected));
  }

  /**
   * For the scheduled keeper: refreshes a connection whose refresh token is older than
   * `maxAgeMs`, so an idle connection's refresh token never reaches Ring's ~30-day expiry.
   */
  async keepAlive(connection: Connection, maxAgeMs: number): Promise<'refreshed' | 'fresh'> {
    const isFresh = (tokens: ConnectionTokens) => tokens.refreshTokenIssuedAt > this.deps.clock.now() - maxAgeMs;
    const current = await this.read(connection);
    if (isFresh(current)) {
      // The index was behind the secret (a refresh whose record failed): catch it up.
      await this.deps.tokenAges?.record(connection.customerId, current.refreshTokenIssuedAt);
      return 'fresh';
    }
    const result = await this.refreshUnderLease(connection, isFresh);
    return result.refreshed ? 'refreshed' : 'fresh';
  }

  private async refreshUnderLease(connection: Connection, good: (tokens: ConnectionTokens) => boolean): Promise<{ token: Secret; refreshed: boolean }> {
    const { clock, leases, logger } = this.deps;
    const key = `LEASE#${connection.customerId}`;
    const holder = randomUUID();
    const deadline = clock.now() + this.waitTimeoutMs;
    for (;;) {
      if (await leases.acquire(key, holder, clock.now(), this.leaseTtlMs)) {
        try {
          // Read inside the lease: a refresh that finished meanwhile has rotated the token.
          const tokens = await this.read(connection);
          if (good(tokens)) return { token: new Secret(tokens.accessToken!), refreshed: false };
          return { token: await this.refresh(connection, tokens), refreshed: true };
        } finally {
          await leases.release(key, holder).catch((error: unknown) => logger.warn('could not release the token lease; it will expire', { customerId: connection.customerId, error: (error as Error).name }));
        }
      }
      // Someone else is refreshing: wait for the secret to change, or for their lease to lapse.
      if (clock.now() >= deadline) throw new RetryLaterError(Math.ceil(this.leaseTtlMs / 1000), `a token refresh for ${connection.customerId} is still in progress`);
      await clock.sleep(this.pollMs);
      const tokens = await this.read(connection);
      if (good(tokens)) return { token: new Secret(tokens.accessToken!), refreshed: false };
    }
  }

  private async refresh(connection: Connection, tokens: ConnectionTokens): Promise<Secret> {
    const { oauth, credentials, secrets, connections, clock, logger } = this.deps;
    const client = await credentials.get(connection.brand);
    let fresh: Tokens;
    try {
      fresh = await oauth.refresh(this.deps.tokenUrl(connection), client, new Secret(tokens.refreshToken));
    } catch (error) {
      if (error instanceof InvalidGrantError) {
        // Ring gives this one answer to a revoked consent, an expired one and a refused token alike.
        logger.warn('refresh token refused: the customer must connect again', { customerId: connection.customerId });
        await connections.markRelinkRequired(connection.customerId, 'Ring refused the refresh token (invalid_grant): the consent was revoked or has expired, or the token is no longer valid', clock.now());
        throw new RelinkRequiredError(connection.customerId, 'the refresh token was refused (revoked, expired or reused)');
      }
      if (error instanceof TokenEndpointUnavailableError) throw new RetryLaterError(5, 'the token endpoint is unavailable', error);
      throw error;
    }
    // Persist the rotated refresh token before anything uses the new access token. The token
    // derives from the new refresh token, so a retried write is the same version, not a new one.
    const issuedAt = clock.now();
    const value = connectionSecretValue(fresh, issuedAt);
    const requestToken = createHash('sha256').update(fresh.refreshToken.reveal()).digest('hex').slice(0, 64);
    await secrets.write(connection.secretId, value, requestToken);
    await this.deps.tokenAges?.record(connection.customerId, issuedAt);
    logger.info('refreshed the access token', { customerId: connection.customerId, expiresIn: fresh.expiresIn });
    return fresh.accessToken;
  }

  private async read(connection: Connection): Promise<ConnectionTokens> {
    const stored = await this.deps.secrets.read(connection.secretId);
    if (!stored) {
      await this.deps.connections.markRelinkRequired(connection.customerId, 'connection secret missing', this.deps.clock.now());
      throw new RelinkRequiredError(connection.customerId, 'the connection secret does not exist');
    }
    const parsed = ConnectionTokens.safeParse(parseJsonOrUndefined(stored.value));
    if (!parsed.success) throw new RelinkRequiredError(connection.customerId, 'the connection secret is not in the expected format');
    return parsed.data;
  }

  private usable(tokens: ConnectionTokens, rejected?: Secret): boolean {
    return (
      tokens.accessToken !== undefined &&
      (tokens.accessTokenExpiresAt ?? 0) - this.skewMs > this.deps.clock.now() &&
      (rejected === undefined || rejected.reveal() !== tokens.accessToken)
    );
  }
}
