import type { Sandbox } from '../sandbox/sandbox';
import type { Engine } from './engine';

export type RingOperation = 'token' | 'createDataQuery' | 'listDataQueryRecords' | 'other';

/** One call the product made to Ring, as seen on the wire. */
export interface RingCall {
  readonly at: number;
  readonly operation: RingOperation;
  /** Whose token it carried (undefined: one the tap never saw issued). */
  readonly customerId?: string;
  readonly status: number;
  /** Ring's error type (intake) or OAuth error code (token), when refused. */
  readonly error?: string;
}

/**
 * The product's `fetch` to Ring, recorded: which customer each call was for (from the token it
 * carries: an intake call's access token, a token request's refresh token or code), what it
 * was and what came back. The tap reads the sandbox's state only to learn whose refresh token
 * or code it is (the product never tells Ring), and remembers whose each issued access token
 * is, so a call with a token Ring has since forgotten (a revoked consent's) is still counted.
 */
export class RingTap {
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly sandbox: Sandbox,
    private readonly engine: Engine,
    private readonly onCall: (call: RingCall) => void,
  ) {}

  /** A `fetch` for the product's IntakeClient and OAuthClient. */
  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const method = (init?.method ?? 'GET').toUpperCase();
    const operation: RingOperation = url.pathname.endsWith('/oauth/oauth/token')
      ? 'token'
      : method === 'POST' && url.pathname.endsWith('/data-queries')
        ? 'createDataQuery'
        : url.pathname.endsWith('/records')
          ? 'listDataQueryRecords'
          : 'other';
    const customerId = operation === 'token' ? this.tokenRequestOwner(init?.body) : this.bearerOwner(init?.headers);
    const invocation = this.engine.current();
    if (invocation) invocation.ringCalls++;
    const response = await fetch(input, init);
    const text = await response.text();
    let error: string | undefined;
    if (text !== '') {
      try {
        const body = JSON.parse(text) as Record<string, unknown>;
        if (operation === 'token' && response.ok && typeof body.access_token === 'string' && customerId) this.owners.set(body.access_token, customerId);
        error = typeof body.type === 'string' ? body.type : typeof body.error === 'string' ? body.error : undefined;
        // Ring's two 429 TOO_MANY_REQUESTS rows differ by category: name the 20-minute window's THROTTLED.
        if (body.category === 'THROTTLED') error = 'THROTTLED';
      } catch {
        error = response.ok ? undefined : 'unparsable';
      }
    }
    this.onCall({ at: this.engine.now(), operation, customerId, status: response.status, error: response.ok ? undefined : error });
    return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
  };

  /** Remembers whose access token this is (one issued before the tap was in place). */
  own(accessToken: string, customerId: string): void {
    this.owners.set(accessToken, customerId);
  }

  private bearerOwner(headers: RequestInit['headers']): string | undefined {
    const value = new Headers(headers).get('authorization') ?? '';
    return this.owners.get(value.replace(/^Bearer\s+/i, ''));
  }

  private tokenRequestOwner(body: RequestInit['body']): string | undefined {
    if (typeof body !== 'string') return undefined;
    const form = new URLSearchParams(body);
    const { state } = this.sandbox;
    const refresh = form.get('refresh_token');
    const code = form.get('code');
    const grantId = refresh ? state.refreshTokens.get(refresh)?.grantId : code ? state.codes.get(code)?.grantId : undefined;
    return grantId === undefined ? undefined : state.grants.get(grantId)?.customerId;
  }
}
