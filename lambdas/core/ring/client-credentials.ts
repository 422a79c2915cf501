import { z } from 'zod';
import type { Clock, SecretStore } from '../ports';
import { parseJsonOrUndefined } from '../json';
import { Secret } from '../secret';
import { ClientCredentialsError } from './errors';
import type { ClientCredentials } from './oauth-client';

const Stored = z.object({ client_id: z.string(), client_secret: z.string() });

/**
 * Reads a brand's client_id/client_secret from its Secrets Manager secret, cached for a few
 * minutes so a burst of invocations does not read it each time. An empty placeholder (as
 * deployed) is a configuration error that says how to fix it.
 */
export class ClientCredentialsProvider {
  private readonly cache = new Map<string, { credentials: ClientCredentials; until: number }>();

  constructor(
    private readonly secrets: SecretStore,
    private readonly secretIdOf: (brand: string) => string,
    private readonly clock: Clock,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  async get(brand: string): Promise<ClientCredentials> {
    const cached = this.cache.get(brand);
    if (cached && cached.until > this.clock.now()) return cached.credentials;
    const secretId = this.secretIdOf(brand);
    const stored = await this.secrets.read(secretId);
    const parsed = Stored.safeParse(stored ? parseJsonOrUndefined(stored.value) : undefined);
    if (!parsed.success || parsed.data.client_id.trim() === '' || parsed.data.client_secret.trim() === '') {
      throw new ClientCredentialsError(
        `The ${brand} client credentials in ${secretId} are not set: put {"client_id": …, "client_secret": …} there with aws secretsmanager put-secret-value (see README, Deploy).`,
      );
    }
    const credentials = { clientId: parsed.data.client_id, clientSecret: new Secret(parsed.data.client_secret) };
    this.cache.set(brand, { credentials, until: this.clock.now() + this.ttlMs });
    return credentials;
  }

  /** Forgets cached credentials, e.g. after the token endpoint rejected them. */
  invalidate(brand: string): void {
    this.cache.delete(brand);
  }
}
