import { createHash, randomBytes } from 'node:crypto';
import { Secret } from '../secret';

/** RFC 7636: a verifier from 32 random bytes is 43 base64url characters. */
export function createVerifier(): Secret {
  return new Secret(randomBytes(32).toString('base64url'));
}

/** S256: BASE64URL(SHA256(ASCII(code_verifier))). */
export function s256Challenge(verifier: Secret): string {
  return createHash('sha256').update(verifier.reveal(), 'ascii').digest('base64url');
}

/** An OAuth state: 32 bytes from the CSPRNG, base64url. */
export function createState(): string {
  return randomBytes(32).toString('base64url');
}

export interface AuthorizeRequest {
  readonly authorizeUrl: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly codeChallenge: string;
  readonly state: string;
}

/** The authorize URL, parameters in the order of the reference's example. */
export function buildAuthorizeUrl(request: AuthorizeRequest): string {
  const params = new URLSearchParams([
    ['redirect_uri', request.redirectUri],
    ['client_id', request.clientId],
    ['response_type', 'code'],
    ['scope', request.scope],
    ['code_challenge', request.codeChallenge],
    ['code_challenge_method', 'S256'],
    ['state', request.state],
  ]);
  return `${request.authorizeUrl}?${params.toString()}`;
}
