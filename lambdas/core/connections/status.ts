import type { ConnectionRepository } from '../ports';
import type { RingApiError } from '../ring/errors';

/**
 * Ring refused access to a token it had just issued (the `stop-connection` decision): the
 * authorization still refreshes, so of the reference's causes (revoked, expired, on hold) it
 * is the account on hold. ACTIVE → ON_HOLD once: a re-check that is refused again keeps the
 * time the hold was first seen.
 */
export async function holdConnection(connections: Pick<ConnectionRepository, 'setStatus'>, customerId: string, error: RingApiError, now: number): Promise<void> {
  const reason = `Ring refused access (${error.type ?? error.status}) to a token it had just issued: the account is on hold`;
  await connections.setStatus(customerId, 'ON_HOLD', reason, now, ['ACTIVE']);
}
