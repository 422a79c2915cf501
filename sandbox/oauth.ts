import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OAuthError, RefreshRefusedError } from './errors';
import { cookies, readBody, redirect, sendHtml, sendJson } from './http';
import { authorizationPage, errorPage, preferencesPage, signInPage } from './pages';
import { secureToken } from './random';
import type { Sandbox } from './sandbox';
import {
  consentEnd,
  DURATION_CHOICES,
  HISTORY_CHOICES,
  historyStart,
  type App,
  type Brand,
  type ConsentChoice,
  type Customer,
  type Grant,
} from './state';

/** What a token request turned out to be about, as far as it got: for the observers. */
interface Seen {
  grantType?: string;
  grant?: Grant;
}

/** An authorize request in progress through the pages, keyed by an unguessable `txn`. */
interface Transaction {
  readonly brand: Brand;
  readonly app: App;
  readonly redirectUri: string;
  readonly state?: string;
  readonly scope: string;
  readonly codeChallenge: string;
  readonly codeChallengeMethod: 'S256' | 'plain';
  customerId?: string;
  confirmed: boolean;
  readonly expiresAt: number;
}

const SESSION_COOKIE = 'ring_sandbox_session';

/** The cookie a customer signed in at the sandbox carries (what `POST /__sandbox/customers` answers as `sessionCookie`). */
export function sessionCookieOf(customer: Pick<Customer, 'sessionId'>): string {
  return `${SESSION_COOKIE}=${customer.sessionId}`;
}
const TRANSACTION_TTL_MS = 30 * 60_000;
const DENIED_DESCRIPTION = 'The resource owner or authorization server denied the request';
const FORM_LIMIT = 16 * 1024;
const CODE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

export class OAuthService {
  private readonly transactions = new Map<string, Transaction>();

  constructor(private readonly sandbox: Sandbox) {}

  /** GET <brand>/oauth/v2/authorize */
  async authorize(brand: Brand, url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { sandbox } = this;
    const params = url.searchParams;
    const clientId = params.get('client_id') ?? '';
    const app = sandbox.state.apps.get(clientId);
    const redirectUri = params.get('redirect_uri') ?? '';
    // Until client and redirect URI are known to match, never redirect: show an error page.
    if (!app || app.deleted) {
      sendHtml(response, 400, errorPage(brand, 'Unknown application', 'client_id is missing or not registered.'));
      return;
    }
    if (!app.redirectUris.includes(redirectUri)) {
      sendHtml(response, 400, errorPage(brand, 'Invalid redirect URI', 'redirect_uri does not exactly match a URI registered for this application.'));
      return;
    }
    const state = params.get('state') ?? undefined;
    const fail = (code: string, description: string) => redirect(response, withParams(redirectUri, { error: code, error_description: description, state }));

    const fault = sandbox.faults.next('authorize');
    if (fault?.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    if (fault?.oauthError) {
      sandbox.faults.countAuthorizeError(fault.oauthError);
      return fail(fault.oauthError, 'Injected fault');
    }
    if (params.get('response_type') !== 'code') return fail('unsupported_response_type', 'response_type must be code');
    const scope = params.get('scope') ?? '';
    if (scope !== sandbox.options.scopeId) return fail('invalid_scope', `scope must be ${sandbox.options.scopeId}`);
    const codeChallenge = params.get('code_challenge') ?? '';
    const method = params.get('code_challenge_method') ?? 'plain';
    if (method !== 'S256' && method !== 'plain') return fail('invalid_request', 'code_challenge_method must be S256 or plain');
    if (!CODE_CHALLENGE.test(codeChallenge)) return fail('invalid_request', 'code_challenge is missing or malformed');

    const txn = secureToken('txn_', 18);
    const transaction: Transaction = {
      brand,
      app,
      redirectUri,
      state,
      scope,
      codeChallenge,
      codeChallengeMethod: method,
      confirmed: false,
      expiresAt: sandbox.clock.now() + TRANSACTION_TTL_MS,
    };
    this.transactions.set(txn, transaction);

    const customer = this.sessionCustomer(brand, request);
    if (customer) {
      transaction.customerId = customer.id;
      if (customer.presetConsent) {
        this.transactions.delete(txn);
        this.issueCode(response, transaction, customer, customer.presetConsent);
        return;
      }
      sendHtml(response, 200, authorizationPage(brand, txn, this.formAction(brand, 'consent'), app.name, scope), pageHeaders(transaction));
      return;
    }
    sendHtml(response, 200, signInPage(brand, txn, this.formAction(brand, 'signin')), pageHeaders(transaction));
  }

  /** POST <brand>/oauth/v2/authorize/<step> from the pages. */
  async step(brand: Brand, step: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(request, FORM_LIMIT));
    const txn = form.get('txn') ?? '';
    const transaction = this.transactions.get(txn);
    if (!transaction || transaction.brand !== brand || transaction.expiresAt < this.sandbox.clock.now()) {
      this.transactions.delete(txn);
      sendHtml(response, 400, errorPage(brand, 'Session expired', 'This sign-in has expired. Start again from the application.'));
      return;
    }
    if (form.get('action') === 'cancel') {
      this.transactions.delete(txn);
      redirect(response, withParams(transaction.redirectUri, { error: 'access_denied', error_description: DENIED_DESCRIPTION, state: transaction.state }));
      return;
    }

    if (step === 'signin') {
      const customer = [...this.sandbox.state.customers.values()].find(
        (candidate) => candidate.brand === brand && candidate.email === form.get('email') && safeEqual(candidate.password, form.get('password') ?? ''),
      );
      if (!customer) {
        sendHtml(response, 200, signInPage(brand, txn, this.formAction(brand, 'signin'), 'The email or password is incorrect.'), pageHeaders(transaction));
        return;
      }
      transaction.customerId = customer.id;
      sendHtml(
        response,
        200,
        authorizationPage(brand, txn, this.formAction(brand, 'consent'), transaction.app.name, transaction.scope),
        pageHeaders(transaction, { 'set-cookie': `${SESSION_COOKIE}=${customer.sessionId}; Path=/${brand}/oauth; HttpOnly; SameSite=Lax` }),
      );
      return;
    }

    const customer = transaction.customerId ? this.sandbox.state.customers.get(transaction.customerId) : undefined;
    if (!customer) {
      sendHtml(response, 200, signInPage(brand, txn, this.formAction(brand, 'signin')), pageHeaders(transaction));
      return;
    }
    if (step === 'consent') {
      transaction.confirmed = true;
      sendHtml(response, 200, preferencesPage(brand, txn, this.formAction(brand, 'preferences'), transaction.app.name), pageHeaders(transaction));
      return;
    }
    if (step === 'preferences' && transaction.confirmed) {
      const history = form.get('history') ?? '';
      const duration = form.get('duration') ?? '';
      const since = form.get('since') || undefined;
      const again = (message: string) =>
        sendHtml(response, 200, preferencesPage(brand, txn, this.formAction(brand, 'preferences'), transaction.app.name, message), pageHeaders(transaction));
      if (form.get('authorizeEuData') !== 'yes') return again('Tick "I authorize the third party to receive my EU data" to continue, or Cancel.');
      if (!isOneOf(HISTORY_CHOICES, history) || !isOneOf(DURATION_CHOICES, duration)) return again('Choose how much data and for how long.');
      const choice: ConsentChoice = { history, duration, since };
      try {
        historyStart(choice, this.sandbox.clock.now());
      } catch (error) {
        return again((error as Error).message);
      }
      this.transactions.delete(txn);
      this.issueCode(response, transaction, customer, choice);
      return;
    }
    sendHtml(response, 400, errorPage(brand, 'Unexpected step', 'Start again from the application.'));
  }

  /** POST <brand>/oauth/oauth/token */
  async token(brand: Brand, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { sandbox } = this;
    const seen: Seen = {};
    let injected = false;
    const answer = (status: number, refusal?: OAuthError) =>
      sandbox.observers.emit({
        kind: 'token',
        at: sandbox.clock.now(),
        grantType: seen.grantType,
        customerId: seen.grant?.customerId,
        status,
        error: refusal?.code,
        injected: injected || undefined,
        refreshRefusal: refusal instanceof RefreshRefusedError ? refusal.refusal : undefined,
        consentActive: seen.grant ? sandbox.grantIsActive(seen.grant) : undefined,
      });
    try {
      const fault = sandbox.faults.next('token');
      if (fault?.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
      if (fault?.oauthError) {
        injected = true;
        throw new OAuthError(fault.oauthError, 'Injected fault');
      }
      const contentType = request.headers['content-type'] ?? '';
      if (!contentType.startsWith('application/x-www-form-urlencoded')) {
        throw new OAuthError('invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
      }
      const form = new URLSearchParams(await readBody(request, FORM_LIMIT));
      const app = this.authenticateClient(request, form);
      const grantType = form.get('grant_type');
      seen.grantType = grantType ?? undefined;
      if (grantType === 'authorization_code') this.exchangeCode(brand, app, form, response, seen);
      else if (grantType === 'refresh_token') this.refresh(brand, app, form, response, seen);
      else throw new OAuthError(grantType ? 'unsupported_grant_type' : 'invalid_request', grantType ? `grant_type ${grantType} is not supported` : 'grant_type is required');
      answer(200);
    } catch (error) {
      if (error instanceof OAuthError) {
        sendJson(response, error.status, { error: error.code, error_description: error.description }, error.code === 'invalid_client' ? { 'www-authenticate': 'Basic realm="sandbox"' } : {});
        if (injected) sandbox.faults.countApiError('token', error.status);
        answer(error.status, error);
        return;
      }
      throw error;
    }
  }

  /** The customer's grant to the app whose tokens these are, if still valid. */
  private authenticateClient(request: IncomingMessage, form: URLSearchParams): App {
    let clientId = form.get('client_id') ?? '';
    let secret = form.get('client_secret') ?? '';
    const basic = /^Basic (.+)$/i.exec(request.headers.authorization ?? '');
    if (basic) {
      const [id, pass] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent(id ?? '');
      secret = decodeURIComponent(pass ?? '');
    }
    const app = this.sandbox.state.apps.get(clientId);
    if (!app || app.deleted || !safeEqual(app.clientSecret, secret)) throw new OAuthError('invalid_client', 'Client authentication failed');
    return app;
  }

  private exchangeCode(brand: Brand, app: App, form: URLSearchParams, response: ServerResponse, seen: Seen): void {
    const { state, clock } = this.sandbox;
    const codeValue = form.get('code') ?? '';
    const verifier = form.get('code_verifier') ?? '';
    const redirectUri = form.get('redirect_uri') ?? '';
    if (!codeValue || !verifier || !redirectUri) throw new OAuthError('invalid_request', 'code, code_verifier and redirect_uri are required');
    const scope = form.get('scope');
    if (scope !== null && scope !== this.sandbox.options.scopeId) throw new OAuthError('invalid_scope', 'scope does not match the authorization');
    const code = state.codes.get(codeValue);
    if (!code || code.clientId !== app.clientId) throw new OAuthError('invalid_grant', 'The authorization code is invalid');
    const grant = state.grants.get(code.grantId)!;
    seen.grant = grant;
    if (grant.brand !== brand) throw new OAuthError('invalid_grant', 'The authorization code is invalid');
    if (code.used) {
      // RFC 6749 §4.1.2: a reused code revokes what was issued with it.
      this.revokeGrant(grant, 'authorization code reused');
      throw new OAuthError('invalid_grant', 'The authorization code has already been used');
    }
    code.used = true;
    if (code.expiresAt < clock.now()) throw new OAuthError('invalid_grant', 'The authorization code has expired');
    if (code.redirectUri !== redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
    const expected = code.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || !safeEqual(expected, code.codeChallenge)) {
      throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
    }
    if (grant.revoked) throw new OAuthError('invalid_grant', 'The authorization has been revoked');
    this.sendTokens(response, grant);
  }

  private refresh(brand: Brand, app: App, form: URLSearchParams, response: ServerResponse, seen: Seen): void {
    const { state, clock, options } = this.sandbox;
    const value = form.get('refresh_token') ?? '';
    if (!value) throw new OAuthError('invalid_request', 'refresh_token is required');
    const scope = form.get('scope');
    if (scope !== null && scope !== options.scopeId) throw new OAuthError('invalid_scope', 'scope exceeds the original grant');
    const token = state.refreshTokens.get(value);
    const grant = token && state.grants.get(token.grantId);
    if (!token || !grant || grant.clientId !== app.clientId || grant.brand !== brand) throw new RefreshRefusedError('unknown', 'The refresh token is invalid');
    seen.grant = grant;
    if (!token.current) {
      // A rotated refresh token came back: someone holds a copy. Revoke everything.
      this.revokeGrant(grant, 'refresh token reused');
      throw new RefreshRefusedError('reused', 'The refresh token has already been used');
    }
    if (token.lastUsedAt + options.refreshTokenIdleMs < clock.now()) throw new RefreshRefusedError('expired', 'The refresh token has expired');
    if (!this.sandbox.grantIsActive(grant)) throw new RefreshRefusedError('ended', 'The authorization has ended');
    token.current = false;
    this.sendTokens(response, grant);
  }

  private sendTokens(response: ServerResponse, grant: Grant): void {
    const { state, clock, options } = this.sandbox;
    const accessToken = secureToken('Atza|', 36);
    const refreshToken = secureToken('Atzr|', 36);
    state.accessTokens.set(accessToken, { grantId: grant.id, expiresAt: clock.now() + options.accessTokenTtlSeconds * 1000 });
    state.refreshTokens.set(refreshToken, { grantId: grant.id, lastUsedAt: clock.now(), current: true });
    sendJson(response, 200, {
      access_token: accessToken,
      expires_in: options.accessTokenTtlSeconds,
      refresh_token: refreshToken,
      scope: grant.scope,
      token_type: 'Bearer',
    });
  }

  /** Ends a grant and every token issued under it. */
  revokeGrant(grant: Grant, reason: string): void {
    grant.revoked = true;
    grant.revokedReason ??= reason;
    const { state } = this.sandbox;
    for (const [value, token] of state.accessTokens) if (token.grantId === grant.id) state.accessTokens.delete(value);
    for (const token of state.refreshTokens.values()) if (token.grantId === grant.id) token.current = false;
  }

  private issueCode(response: ServerResponse, transaction: Transaction, customer: Customer, choice: ConsentChoice): void {
    const { state, clock, options } = this.sandbox;
    const now = clock.now();
    const grant: Grant = {
      id: randomUUID(),
      clientId: transaction.app.clientId,
      customerId: customer.id,
      brand: transaction.brand,
      scope: transaction.scope,
      choice,
      windowStart: historyStart(choice, now),
      grantedAt: now,
      expiresAt: consentEnd(choice, now),
      revoked: false,
    };
    // A new consent replaces the customer's previous one for the same app.
    for (const previous of state.grants.values()) {
      if (previous.clientId === grant.clientId && previous.customerId === customer.id && !previous.revoked) this.revokeGrant(previous, 'replaced by a new consent');
    }
    state.grants.set(grant.id, grant);
    const code = secureToken('ANc', 24);
    state.codes.set(code, {
      grantId: grant.id,
      clientId: transaction.app.clientId,
      redirectUri: transaction.redirectUri,
      codeChallenge: transaction.codeChallenge,
      codeChallengeMethod: transaction.codeChallengeMethod,
      expiresAt: now + options.codeTtlSeconds * 1000,
      used: false,
    });
    redirect(response, withParams(transaction.redirectUri, { code, state: transaction.state }));
  }

  private sessionCustomer(brand: Brand, request: IncomingMessage): Customer | undefined {
    const session = cookies(request)[SESSION_COOKIE];
    if (!session) return undefined;
    return [...this.sandbox.state.customers.values()].find((customer) => customer.brand === brand && customer.sessionId === session);
  }

  private formAction(brand: Brand, step: string): string {
    return `/${brand}/oauth/v2/authorize/${step}`;
  }
}

export const SESSION_COOKIE_NAME = SESSION_COOKIE;

/**
 * The pages' forms post to the sandbox, which then redirects to the app: CSP's form-action
 * applies to that redirect too, so it must name the app's origin or browsers stop there.
 */
function pageHeaders(transaction: Transaction, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${new URL(transaction.redirectUri).origin}`,
    ...extra,
  };
}

function withParams(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function isOneOf<T extends string>(choices: readonly T[], value: string): value is T {
  return (choices as readonly string[]).includes(value);
}
