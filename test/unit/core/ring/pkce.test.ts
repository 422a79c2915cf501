import fc from 'fast-check';
import { buildAuthorizeUrl, createState, createVerifier, s256Challenge } from '../../../../lambdas/core/ring/pkce';
import { Secret } from '../../../../lambdas/core/secret';

const UNRESERVED = /^[A-Za-z0-9\-._~]+$/;

describe('PKCE', () => {
  it("matches RFC 7636 appendix B's S256 test vector", () => {
    expect(s256Challenge(new Secret('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'))).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('makes 43-character base64url verifiers from 32 random bytes, each different', () => {
    const verifiers = Array.from({ length: 100 }, () => createVerifier().reveal());
    for (const verifier of verifiers) {
      expect(verifier).toHaveLength(43);
      expect(verifier).toMatch(UNRESERVED);
    }
    expect(new Set(verifiers).size).toBe(100);
  });

  it('derives a 43-character unreserved challenge from any valid verifier (43..128 unreserved characters)', () => {
    const verifier = fc.stringMatching(/^[A-Za-z0-9\-._~]{43,128}$/);
    fc.assert(
      fc.property(verifier, (value) => {
        const challenge = s256Challenge(new Secret(value));
        return challenge.length === 43 && UNRESERVED.test(challenge) && challenge === s256Challenge(new Secret(value));
      }),
    );
  });

  it('makes unguessable states', () => {
    const states = new Set(Array.from({ length: 100 }, createState));
    expect(states.size).toBe(100);
    for (const state of states) expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('builds the authorize URL exactly as the reference’s example, S256 always', () => {
    const url = buildAuthorizeUrl({
      authorizeUrl: 'https://oauth.ring.com/v2/authorize',
      clientId: 'client-1',
      redirectUri: 'https://app.example.com/oauth/callback',
      scope: 'data-portability',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      state: 'abc',
    });
    expect(url).toBe(
      'https://oauth.ring.com/v2/authorize?redirect_uri=https%3A%2F%2Fapp.example.com%2Foauth%2Fcallback&client_id=client-1&response_type=code&scope=data-portability&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=abc',
    );
  });
});
