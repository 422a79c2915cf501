import { GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretStore, StoredSecret } from '../core/ports';

/** SecretStore on Secrets Manager: AWSCURRENT reads, idempotent writes by ClientRequestToken. */
export class SecretsManagerStore implements SecretStore {
  constructor(private readonly client: SecretsManagerClient) {}

  async read(secretId: string): Promise<StoredSecret | undefined> {
    try {
      const result = await this.client.send(new GetSecretValueCommand({ SecretId: secretId }));
      return result.SecretString === undefined ? undefined : { value: result.SecretString, versionId: result.VersionId };
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  async write(secretId: string, value: string, clientRequestToken: string): Promise<void> {
    await this.client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value, ClientRequestToken: clientRequestToken }));
  }
}
