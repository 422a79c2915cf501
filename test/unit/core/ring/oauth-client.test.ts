import { RelinkRequiredError } from '../../../../lambdas/core/ring/errors';
import { OAuthClient } from '../../../../lambdas/core/ring/oauth-client';
import { Secret } from '../../../../lambdas/core/secret';

const client = { clientId: 'client', clientSecret: new Secret('client-secret-value') };
const request = { code: new Secret('ANc-code-value'), redirectUri: 'https://app.example.com/cb', verifier: new Secret('v'.repeat(43)), scope: 'data-portability', customerId: 'c-1' };

describe('OAuthClient.exchangeCode', () => {
  it('never sends a code twice: a lost answer is RelinkRequiredError after exactly one attempt', async () => {
    const fetch = jest.fn().mockRejectedValue(Object.assign(new Error('socket hang up'), { name: 'TypeError' }));
    const error = await new OAuthClient({ fetch }).exchangeCode('https://oauth.ring.com/oauth/token', client, request).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RelinkRequiredError);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(String((error as Error).message)).not.toMatch(/ANc-code-value|client-secret-value|vvvv/);
  });

  it.each([
    [502, { error: 'server_error' }],
    [400, { error: 'invalid_grant', error_description: 'code expired' }],
  ])('answers %i %j with RelinkRequiredError, once', async (status, body) => {
    const fetch = jest.fn().mockResolvedValue(new Response(JSON.stringify(body), { status }));
    await expect(new OAuthClient({ fetch }).exchangeCode('https://oauth.ring.com/oauth/token', client, request)).rejects.toBeInstanceOf(RelinkRequiredError);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('sends the form the reference describes', async () => {
    const fetch = jest.fn().mockResolvedValue(new Response(JSON.stringify({ access_token: 'a', refresh_token: 'r', expires_in: 14400, token_type: 'Bearer' }), { status: 200 }));
    const tokens = await new OAuthClient({ fetch }).exchangeCode('https://oauth.ring.com/oauth/token', client, request);
    expect(tokens.expiresIn).toBe(14_400);
    const [url, init] = fetch.mock.calls[0] as [string, RequestInit];
    expect(url).toBe('https://oauth.ring.com/oauth/token');
    expect(init.headers).toMatchObject({ 'content-type': 'application/x-www-form-urlencoded' });
    expect(Object.fromEntries(new URLSearchParams(init.body as string))).toEqual({
      grant_type: 'authorization_code',
      code: 'ANc-code-value',
      redirect_uri: 'https://app.example.com/cb',
      code_verifier: 'v'.repeat(43),
      scope: 'data-portability',
      client_id: 'client',
      client_secret: 'client-secret-value',
    });
  });
});
