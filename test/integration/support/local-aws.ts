import type { AwsClients } from '../../../local/clients';
import { connectLocalAws, type LocalAwsDescriptor } from '../../../local/local-aws';

export const LOCAL_AWS_ENV = 'RING_PORTABILITY_LOCAL_AWS';

/** The harness started by the global setup: where it is, and clients for it. */
export function localAws(): LocalAwsDescriptor & { clients: AwsClients } {
  const text = process.env[LOCAL_AWS_ENV];
  if (!text) throw new Error(`${LOCAL_AWS_ENV} is not set: run integration tests through jest's integration project (npm run test:integration)`);
  const descriptor = JSON.parse(text) as LocalAwsDescriptor;
  return { ...descriptor, clients: connectLocalAws(descriptor) };
}

export { eventually } from '../../support/eventually';
