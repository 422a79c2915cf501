import { secretNames } from '../../lambdas/core/definitions';
import type { Settings } from '../../lambdas/core/settings';
import type { StatefulResources } from '../stateful/stateful-resources';
import type { PortabilityFunction } from './portability-function';

/**
 * What a function needs to call Ring for a connection: the control table (leases, rate-limit
 * logs, query rows), the imports queue, the client credentials, and the connection secrets
 * (read, and rotate on refresh) with their key.
 */
export function grantRingCalls(fn: PortabilityFunction, stateful: StatefulResources, settings: Settings): PortabilityFunction {
  fn.bindTable('CONTROL_TABLE', stateful.controlTable, 'readWrite')
    .bindQueue('IMPORTS_QUEUE_URL', stateful.queues.queues.imports.queue)
    .grantSecretsUnder(
      secretNames.connection(settings.resourcePrefix, ''),
      ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:DescribeSecret'],
      stateful.key,
    )
    .bindClientCredentials(stateful.clientSecrets, stateful.clientSecretKeyArns);
  return fn;
}
