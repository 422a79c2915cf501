import { z } from 'zod';
import { PortabilityError } from '../errors';
import { Secret } from '../secret';
import { ClientCredentialsError, RelinkRequiredError } from './errors';

const TokenResponse = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.coerce.number().int().positive(),
  token_type: z.string().optional(),
  scope: z.string().optional(),
});

export interface Tokens {
  readonly accessToken: Secret;
  readonly refreshToken: Secret;
  readonly expiresIn: number;
  readonly scope?: string;
}

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: Secret;
}

/** The authorization server refused the grant (invalid_grant): revoked, expired, reused. */
export class InvalidGrantError extends PortabilityError {
  readonly name = 'InvalidGrantError';
}

/** The token endpoint could not be reached or failed (network, timeout, 5xx): safe to retry a refresh. */
export class TokenEndpointUnavailableError extends PortabilityError {
  readonly name = 'TokenEndpointUnavailableError';

  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The token endpoint answered with an OAuth error other than invalid_grant / invalid_client. */
export class TokenRequestError extends PortabilityError {
  readonly name = 'TokenRequestError';
}

export interface OAuthClientOptions {
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/**
 * Ring's token endpoint (RFC 6749 §4.1.3 and §6): exchanges codes and refreshes tokens. Every
 * credential goes in and comes out as a Secret, and no error message carries one.
 */
export class OAuthClient {
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: OAuthClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = options.fetch ?? fetch;
  }

  /**
   * Exchanges an authorization code, once. A code is never sent twice: when the answer is lost
   * (network, timeout, 5xx) or the code is refused, the customer has to connect again, and the
   * result is a RelinkRequiredError rather than a retry.
   */
  async exchangeCode(
    tokenUrl: string,
    client: ClientCredentials,
    request: { code: Secret; redirectUri: string; verifier: Secret; scope: string; customerId?: string },
  ): Promise<Tokens> {
    try {
      return await this.post(tokenUrl, client, {
        grant_type: 'authorization_code',
        code: request.code.reveal(),
        redirect_uri: request.redirectUri,
        code_verifier: request.verifier.reveal(),
        scope: request.scope,
      });
    } catch (error) {
      const who = request.customerId ?? '(new connection)';
      if (error instanceof TokenEndpointUnavailableError) throw new RelinkRequiredError(who, `the code exchange got no usable answer (${error.message}); a code is never sent twice`);
      if (error instanceof InvalidGrantError) throw new RelinkRequiredError(who, `the authorization code was refused (${error.message})`);
      throw error;
    }
  }

  refresh(tokenUrl: string, client: ClientCredentials, refreshToken: Secret): Promise<Tokens> {
    return this.post(tokenUrl, client, { grant_type: 'refresh_token', refresh_token: refreshToken.reveal() });
  }

  private async post(tokenUrl: string, client: ClientCredentials, form: Record<string, string>): Promise<Tokens> {
    let response: Response;
    try {
      response = await this.fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ ...form, client_id: client.clientId, client_secret: client.clientSecret.reveal() }).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new TokenEndpointUnavailableError(`token endpoint unreachable: ${(error as Error).name}`);
    }
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.ok) {
      const parsed = TokenResponse.safeParse(body);
      if (!parsed.success) throw new TokenEndpointUnavailableError('token endpoint answered 2xx without a valid token response', response.status);
      return {
        accessToken: new Secret(parsed.data.access_token),
        refreshToken: new Secret(parsed.data.refresh_token),
        expiresIn: parsed.data.expires_in,
        scope: parsed.data.scope,
      };
    }
    const fields = (body ?? {}) as { error?: unknown; error_description?: unknown };
    const code = typeof fields.error === 'string' ? fields.error : undefined;
    const description = typeof fields.error_description === 'string' ? `: ${fields.error_description.slice(0, 200)}` : '';
    if (response.status >= 500 || code === 'server_error' || code === 'temporarily_unavailable') {
      throw new TokenEndpointUnavailableError(`token endpoint failed with ${response.status}${code ? ` ${code}` : ''}`, response.status);
    }
    if (code === 'invalid_grant') throw new InvalidGrantError(`invalid_grant${description}`);
    if (code === 'invalid_client' || response.status === 401) throw new ClientCredentialsError(`the token endpoint rejected the client credentials (${code ?? response.status})`);
    throw new TokenRequestError(`token endpoint answered ${response.status}${code ? ` ${code}` : ''}${description}`);
  }
}
