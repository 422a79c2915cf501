import type { Sandbox } from '../../sandbox/sandbox';
import { authorizeUrl, connect, control, createApp, createCustomer, pkce, REDIRECT_URI, startSandbox, tokenRequest, type TestApp } from './support';

let sandbox: Sandbox;
let app: TestApp;
beforeAll(async () => {
  sandbox = await startSandbox();
  app = await createApp(sandbox, { name: 'Acme Import' });
});
afterAll(() => sandbox.stop());

const get = (url: string, cookie?: string) => fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
const post = (path: string, form: Record<string, string>, cookie?: string) =>
  fetch(`${sandbox.baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(form).toString(),
  });
const txnOf = (html: string) => /name="txn" value="([^"]+)"/.exec(html)?.[1] ?? '';
const DENIED = `${REDIRECT_URI}?error=access_denied&error_description=The+resource+owner+or+authorization+server+denied+the+request&state=state-123`;

describe('GET /v2/authorize', () => {
  it('shows an error page, never a redirect, for an unknown client or an unregistered redirect_uri', async () => {
    const challenge = pkce();
    for (const url of [
      authorizeUrl(sandbox, 'ring', { clientId: 'nope', clientSecret: '' }, challenge),
      authorizeUrl(sandbox, 'ring', app, challenge, { redirect_uri: 'http://127.0.0.1:9/evil' }),
      authorizeUrl(sandbox, 'ring', app, challenge, { redirect_uri: `${REDIRECT_URI}/` }),
    ]) {
      const response = await get(url);
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toContain('<h1>');
    }
  });

  it.each([
    [{ response_type: 'token' }, 'unsupported_response_type'],
    [{ scope: 'profile' }, 'invalid_scope'],
    [{ code_challenge_method: 'S512' }, 'invalid_request'],
    [{ code_challenge: 'short' }, 'invalid_request'],
  ])('redirects %j back with error %s and the state', async (override, error) => {
    const response = await get(authorizeUrl(sandbox, 'ring', app, pkce(), override));
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe('state-123');
  });

  it('walks a person through Sign in, Authorization and User Transfer Preferences, then redirects with a code', async () => {
    const customer = await createCustomer(sandbox, { brand: 'ring' });
    const signIn = await get(authorizeUrl(sandbox, 'ring', app, pkce()));
    // Browsers apply form-action to the redirect after a form post: it must allow the app.
    expect(signIn.headers.get('content-security-policy')).toContain(`form-action 'self' ${new URL(REDIRECT_URI).origin}`);
    const signInHtml = await signIn.text();
    expect(signInHtml).toContain('<h1>Sign in</h1>');
    expect(signInHtml).toMatch(/id="email"[\s\S]*id="password"[\s\S]*id="sign-in"/);
    const txn = txnOf(signInHtml);

    const wrong = await post('/ring/oauth/v2/authorize/signin', { txn, email: customer.email, password: 'wrong-password', action: 'sign-in' });
    expect(await wrong.text()).toContain('The email or password is incorrect.');

    const authorization = await post('/ring/oauth/v2/authorize/signin', { txn, email: customer.email, password: customer.password, action: 'sign-in' });
    const authorizationHtml = await authorization.text();
    expect(authorizationHtml).toContain('<h1>Authorization</h1>');
    expect(authorizationHtml).toContain('Acme Import');
    expect(authorizationHtml).toMatch(/id="confirm"[\s\S]*id="cancel"/);
    expect(authorization.headers.get('set-cookie')).toMatch(/^ring_sandbox_session=.*HttpOnly/);

    const preferences = await post('/ring/oauth/v2/authorize/consent', { txn, action: 'confirm' });
    expect(preferences.headers.get('content-security-policy')).toContain(`form-action 'self' ${new URL(REDIRECT_URI).origin}`);
    const preferencesHtml = await preferences.text();
    expect(preferencesHtml).toContain('<h1>User Transfer Preferences</h1>');
    for (const label of ['5 days ago', '30 days ago', '60 days ago', '1 year ago', 'Since date', 'One time transfer', 'For the next 30 days', 'For the next 90 days', 'For the next 180 days', 'For the next 1 year', 'I authorize the third party to receive my EU data']) {
      expect(preferencesHtml).toContain(label);
    }

    const unticked = await post('/ring/oauth/v2/authorize/preferences', { txn, history: '60d', duration: '180d', action: 'authorize' });
    expect(await unticked.text()).toContain('id="error"');

    const done = await post('/ring/oauth/v2/authorize/preferences', { txn, history: '60d', duration: '180d', authorizeEuData: 'yes', action: 'authorize' });
    expect(done.status).toBe(302);
    const location = new URL(done.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('code')).toMatch(/^ANc/);
    expect(location.searchParams.get('state')).toBe('state-123');

    const grants = await control<{ choice: { history: string; duration: string }; active: boolean }[]>(sandbox, 'GET', `/customers/${customer.id}/grants`);
    expect(grants).toEqual([expect.objectContaining({ choice: { history: '60d', duration: '180d' }, active: true })]);
    // The transaction is single use.
    expect((await post('/ring/oauth/v2/authorize/preferences', { txn, history: '60d', duration: '180d', authorizeEuData: 'yes', action: 'authorize' })).status).toBe(400);
  });

  it.each(['signin', 'consent', 'preferences'])('Cancel on the %s step redirects with access_denied exactly as the reference shows', async (step) => {
    const customer = await createCustomer(sandbox, { brand: 'ring' });
    const page = await get(authorizeUrl(sandbox, 'ring', app, pkce()), step === 'signin' ? undefined : customer.sessionCookie);
    const txn = txnOf(await page.text());
    if (step === 'preferences') await post('/ring/oauth/v2/authorize/consent', { txn, action: 'confirm' });
    const response = await post(`/ring/oauth/v2/authorize/${step}`, { txn, action: 'cancel' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(DENIED);
  });

  it('redirects straight back with a code for a signed-in customer with preset consent', async () => {
    const customer = await createCustomer(sandbox, { brand: 'blink', consent: { history: '1y', duration: '1y' } });
    const response = await get(authorizeUrl(sandbox, 'blink', app, pkce()), customer.sessionCookie);
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });
});

describe('POST /oauth/token', () => {
  async function codeFor(method: 'S256' | 'plain' = 'S256', brand: 'ring' | 'blink' = 'ring') {
    const customer = await createCustomer(sandbox, { brand, consent: { history: '30d', duration: '90d' } });
    const challenge = pkce(method);
    const response = await get(authorizeUrl(sandbox, brand, app, challenge), customer.sessionCookie);
    return { code: new URL(response.headers.get('location')!).searchParams.get('code')!, verifier: challenge.verifier, customer };
  }
  const exchange = (code: string, verifier: string, extra: Record<string, string> = {}, brand: 'ring' | 'blink' = 'ring') =>
    tokenRequest(sandbox, brand, { grant_type: 'authorization_code', client_id: app.clientId, client_secret: app.clientSecret, code, redirect_uri: REDIRECT_URI, code_verifier: verifier, ...extra });

  it.each(['S256', 'plain'] as const)('exchanges a code with a %s PKCE verifier for Bearer tokens (4 h access token)', async (method) => {
    const { code, verifier } = await codeFor(method);
    const { status, body } = await exchange(code, verifier, { scope: 'data-portability' });
    expect(status).toBe(200);
    expect(body).toEqual({
      access_token: expect.stringMatching(/^Atza\|/),
      refresh_token: expect.stringMatching(/^Atzr\|/),
      expires_in: 14_400,
      scope: 'data-portability',
      token_type: 'Bearer',
    });
  });

  it('accepts a code once: a second exchange is invalid_grant and revokes the tokens of the first', async () => {
    const { code, verifier } = await codeFor();
    const first = await exchange(code, verifier);
    expect(first.status).toBe(200);
    expect(await exchange(code, verifier)).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: expect.any(String) } });
    const refresh = await tokenRequest(sandbox, 'ring', { grant_type: 'refresh_token', refresh_token: String(first.body.refresh_token), client_id: app.clientId, client_secret: app.clientSecret });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('rejects an expired code, a wrong verifier, a different redirect_uri and another brand', async () => {
    const expired = await codeFor();
    await control(sandbox, 'POST', '/clock/advance', { seconds: 301 });
    expect((await exchange(expired.code, expired.verifier)).body.error).toBe('invalid_grant');

    const wrongVerifier = await codeFor();
    expect((await exchange(wrongVerifier.code, pkce().verifier)).body.error).toBe('invalid_grant');

    const wrongRedirect = await codeFor();
    expect((await exchange(wrongRedirect.code, wrongRedirect.verifier, { redirect_uri: 'http://127.0.0.1:9/other' })).body.error).toBe('invalid_grant');

    const otherBrand = await codeFor('S256', 'ring');
    expect((await exchange(otherBrand.code, otherBrand.verifier, {}, 'blink')).body.error).toBe('invalid_grant');
  });

  it('authenticates the client: a bad secret is 401 invalid_client', async () => {
    const { code, verifier } = await codeFor();
    const { status, body } = await exchange(code, verifier, { client_secret: 'not-the-secret-at-all' });
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it('answers RFC 6749 errors for malformed requests', async () => {
    expect((await tokenRequest(sandbox, 'ring', { client_id: app.clientId, client_secret: app.clientSecret })).body.error).toBe('invalid_request');
    expect((await tokenRequest(sandbox, 'ring', { grant_type: 'password', client_id: app.clientId, client_secret: app.clientSecret })).body.error).toBe('unsupported_grant_type');
    expect((await tokenRequest(sandbox, 'ring', { grant_type: 'authorization_code', client_id: app.clientId, client_secret: app.clientSecret })).body.error).toBe('invalid_request');
  });

  it('rotates refresh tokens; presenting a rotated one revokes the whole grant', async () => {
    const { tokens } = await connect(sandbox, { app });
    const refresh = (token: string) => tokenRequest(sandbox, 'ring', { grant_type: 'refresh_token', refresh_token: token, client_id: app.clientId, client_secret: app.clientSecret });
    const second = await refresh(tokens.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(tokens.refresh_token);
    const third = await refresh(String(second.body.refresh_token));
    expect(third.status).toBe(200);

    expect((await refresh(tokens.refresh_token)).body.error).toBe('invalid_grant');
    // Reuse detected: the newest refresh token is dead too.
    expect((await refresh(String(third.body.refresh_token))).body.error).toBe('invalid_grant');
  });

  it('expires a refresh token left unused for 30 days', async () => {
    const { tokens } = await connect(sandbox, { app, consent: { duration: '1y' } });
    await control(sandbox, 'POST', '/clock/advance', { days: 30, seconds: 1 });
    const { body } = await tokenRequest(sandbox, 'ring', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: app.clientId, client_secret: app.clientSecret });
    expect(body.error).toBe('invalid_grant');
  });

  it('refuses to refresh once the customer revoked consent', async () => {
    const { tokens, customer } = await connect(sandbox, { app });
    await control(sandbox, 'POST', `/customers/${customer.id}/revoke`, {});
    const { body } = await tokenRequest(sandbox, 'ring', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: app.clientId, client_secret: app.clientSecret });
    expect(body.error).toBe('invalid_grant');
  });

  it('uses the configured access-token lifetime', async () => {
    const short = await startSandbox({ accessTokenTtlSeconds: 60 });
    try {
      expect((await connect(short)).tokens.expires_in).toBe(60);
    } finally {
      await short.stop();
    }
  });
});
