import { SECRET_NAME, secretNames } from '../definitions';
import type { AuthorizationStateStore, Clock, ConnectionRepository, Logger, SecretAdmin, TokenAgeIndex, WorkQueue } from '../ports';
import type { ClientCredentialsProvider } from '../ring/client-credentials';
import { resolveEndpoints } from '../ring/endpoints';
import { RelinkRequiredError } from '../ring/errors';
import type { OAuthClient } from '../ring/oauth-client';
import { buildAuthorizeUrl, createState, createVerifier, s256Challenge } from '../ring/pkce';
import { connectionSecretValue } from '../ring/token-service';
import { Secret } from '../secret';
import { REGIONS, type Brand, type Region, type Settings } from '../settings';
import { CustomerId, InvalidStateError, ValidationError, type ImportRequest } from './model';

/** An OAuth state lives 10 minutes: enough to sign in and consent, short enough to be useless if stolen. */
export const STATE_TTL_MS = 10 * 60_000;

export interface ConnectDeps {
  readonly settings: Settings;
  /** `<public base URL>/oauth/callback`: the redirect URI registered with Ring. */
  readonly redirectUri: string;
  readonly states: AuthorizationStateStore;
  readonly connections: ConnectionRepository;
  readonly secretAdmin: SecretAdmin;
  /** Where the first import is asked for (the import schedule). */
  readonly imports: WorkQueue;
  /** Where the new refresh token's issue time is recorded for the token keeper. */
  readonly tokenAges?: TokenAgeIndex;
  readonly credentials: ClientCredentialsProvider;
  readonly oauth: OAuthClient;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface ConnectLinkRequest {
  readonly customerId: string;
  readonly brand: Brand;
  readonly region?: Region;
  readonly returnUrl?: string;
}

/**
 * Starts a connection: a single-use state and PKCE verifier stored for 10 minutes, and the
 * Ring/Blink authorize URL the customer's browser is sent to.
 */
export async function createConnectLink(deps: ConnectDeps, request: ConnectLinkRequest): Promise<{ authorizeUrl: string; expiresAt: string }> {
  const { settings, clock } = deps;
  if (!settings.brands.includes(request.brand)) throw new ValidationError(`brand ${request.brand} is not enabled (enabled: ${settings.brands.join(', ')})`);
  const region = request.region ?? settings.defaultRegion;
  if (!(REGIONS as readonly string[]).includes(region)) throw new ValidationError(`region must be one of ${REGIONS.join(', ')}`);
  if (request.returnUrl !== undefined) assertAllowedReturnUrl(settings, request.returnUrl);
  if (connectionSecretName(settings, request.customerId) === undefined) throw new ValidationError('customerId cannot name a connection secret');

  const client = await deps.credentials.get(request.brand);
  const verifier = createVerifier();
  const state = createState();
  const expiresAt = clock.now() + STATE_TTL_MS;
  await deps.states.put({ state, customerId: request.customerId, brand: request.brand, region, returnUrl: request.returnUrl, verifier: verifier.reveal(), expiresAt });
  const endpoints = resolveEndpoints(settings.endpoints, request.brand, region, settings.scopeId);
  const authorizeUrl = buildAuthorizeUrl({
    authorizeUrl: endpoints.authorizeUrl,
    clientId: client.clientId,
    redirectUri: deps.redirectUri,
    scope: settings.scopeId,
    codeChallenge: s256Challenge(verifier),
    state,
  });
  deps.logger.info('connect link created', { customerId: request.customerId, brand: request.brand, region });
  return { authorizeUrl, expiresAt: new Date(expiresAt).toISOString() };
}

export interface CallbackInput {
  readonly state?: string;
  readonly code?: string;
  readonly error?: string;
  readonly errorDescription?: string;
}

export type CallbackOutcome =
  | { readonly status: 'connected'; readonly customerId: string; readonly returnUrl?: string }
  | { readonly status: 'denied' | 'error'; readonly customerId: string; readonly returnUrl?: string; readonly reason: string };

/**
 * The OAuth callback: consumes the state exactly once, then either records a refusal, or
 * exchanges the code, stores the tokens in the connection's secret, marks the connection
 * ACTIVE (replacing an earlier grant) and asks for the first import.
 */
export async function completeConnection(deps: ConnectDeps, input: CallbackInput): Promise<CallbackOutcome> {
  const { clock, logger, settings } = deps;
  if (!input.state) throw new InvalidStateError('the callback has no state');
  const pending = await deps.states.consume(input.state);
  if (!pending) throw new InvalidStateError('the state is unknown or was already used');
  if (pending.expiresAt <= clock.now()) throw new InvalidStateError('the state has expired');
  const { customerId, returnUrl } = pending;

  if (input.error !== undefined || !input.code) {
    const reason = input.error ?? 'no code in the callback';
    logger.info('authorization not granted', { customerId, error: reason });
    return { status: input.error === 'access_denied' ? 'denied' : 'error', customerId, returnUrl, reason };
  }

  // A code is good for one exchange: everything that could stop the tokens from being stored
  // under their name is checked before it is spent, or the customer would consent for nothing.
  const secretName = connectionSecretName(settings, customerId);
  if (secretName === undefined) {
    logger.error('the customer id cannot name a connection secret; the code was not exchanged', { customerId });
    return { status: 'error', customerId, returnUrl, reason: 'the authorization could not be completed' };
  }

  const brand = pending.brand as Brand;
  const endpoints = resolveEndpoints(settings.endpoints, brand, pending.region, settings.scopeId);
  let tokens;
  try {
    tokens = await deps.oauth.exchangeCode(endpoints.tokenUrl, await deps.credentials.get(brand), {
      code: new Secret(input.code),
      redirectUri: deps.redirectUri,
      verifier: new Secret(pending.verifier),
      scope: settings.scopeId,
      customerId,
    });
  } catch (error) {
    if (error instanceof RelinkRequiredError) {
      logger.warn('code exchange failed; the customer must connect again', { customerId, reason: error.reason });
      return { status: 'error', customerId, returnUrl, reason: 'the authorization could not be completed' };
    }
    throw error;
  }

  const now = clock.now();
  const secretId = await deps.secretAdmin.upsert(secretName, connectionSecretValue(tokens, now));
  await deps.connections.put({
    customerId,
    brand,
    region: pending.region,
    scopeId: settings.scopeId,
    status: 'ACTIVE',
    secretId,
    connectedAt: new Date(now).toISOString(),
  });
  await deps.tokenAges?.record(customerId, now);
  const request: ImportRequest & { brand: string } = { customerId, brand, reason: 'connected', requestedAt: new Date(now).toISOString() };
  await deps.imports.send(request);
  logger.info('connection established', { customerId, brand, region: pending.region });
  return { status: 'connected', customerId, returnUrl };
}

/**
 * The name of a customer's connection secret, or undefined when the customer id is not one
 * (a state written before the id's rules changed) or yields no valid Secrets Manager name.
 */
export function connectionSecretName(settings: Settings, customerId: string): string | undefined {
  if (!CustomerId.safeParse(customerId).success) return undefined;
  const name = secretNames.connection(settings.resourcePrefix, customerId);
  return SECRET_NAME.test(name) ? name : undefined;
}

/** A return URL must be an absolute http(s) URL on one of the configured origins: no open redirect. */
export function assertAllowedReturnUrl(settings: Settings, returnUrl: string): void {
  let url: URL;
  try {
    url = new URL(returnUrl);
  } catch {
    throw new ValidationError('returnUrl must be an absolute URL');
  }
  if (!settings.allowedReturnOrigins.includes(url.origin) || url.username !== '' || url.password !== '') {
    throw new ValidationError(`returnUrl's origin ${url.origin} is not one of the allowed return origins`);
  }
}
