import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidRequestException, ResourceExistsException, ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import type { SecretAdmin, SecretStore, StoredSecret } from '../../lambdas/core/ports';

interface StoredSecretEntry {
  readonly arn: string;
  readonly name: string;
  /** Versions by ClientRequestToken (Secrets Manager's version id): a retried write names the same one. */
  readonly versions: Map<string, string>;
  current: string;
}

/**
 * Secrets Manager in memory, as lambdas/adapters/secrets-manager-store.ts (`SecretsManagerStore`)
 * and aws-admin.ts (`SecretsManagerAdmin`) use it: a secret is found by name or ARN (an ARN
 * with Secrets Manager's six-character suffix); PutSecretValue with a ClientRequestToken
 * already used is a no-op for the same value and refused for another; a secret that does not
 * exist cannot be written, only created; a force-deleted one is gone at once.
 */
export class MemorySecrets implements SecretStore, SecretAdmin {
  private readonly byName = new Map<string, StoredSecretEntry>();
  private readonly byArn = new Map<string, StoredSecretEntry>();

  constructor(private readonly arnPrefix = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:') {}

  read(secretId: string): Promise<StoredSecret | undefined> {
    const secret = this.find(secretId);
    return Promise.resolve(secret ? { value: secret.versions.get(secret.current)!, versionId: secret.current } : undefined);
  }

  write(secretId: string, value: string, clientRequestToken: string): Promise<void> {
    const secret = this.find(secretId);
    if (!secret) return Promise.reject(notFound());
    const existing = secret.versions.get(clientRequestToken);
    if (existing !== undefined && existing !== value) {
      return Promise.reject(new ResourceExistsException({ message: 'A version with this ClientRequestToken already exists with different contents', $metadata: {} }));
    }
    secret.versions.set(clientRequestToken, value);
    secret.current = clientRequestToken;
    // Secrets Manager keeps AWSCURRENT and AWSPREVIOUS (and up to 100 versions); two are enough to tell a retried write from a new one.
    for (const version of secret.versions.keys()) if (secret.versions.size > 2 && version !== secret.current) secret.versions.delete(version);
    return Promise.resolve();
  }

  upsert(name: string, value: string): Promise<string> {
    if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) return Promise.reject(new InvalidRequestException({ message: `invalid secret name ${name}`, $metadata: {} }));
    const existing = this.byName.get(name);
    if (existing) {
      // CreateSecret says ResourceExists; the adapter then puts a new version (the SDK makes up its token).
      return this.write(name, value, randomUUID()).then(() => existing.arn);
    }
    const version = randomUUID();
    const secret: StoredSecretEntry = { arn: `${this.arnPrefix}${name}-${randomBytes(3).toString('hex')}`, name, versions: new Map([[version, value]]), current: version };
    this.byName.set(name, secret);
    this.byArn.set(secret.arn, secret);
    return Promise.resolve(secret.arn);
  }

  remove(secretId: string): Promise<void> {
    const secret = this.find(secretId);
    if (secret) {
      this.byName.delete(secret.name);
      this.byArn.delete(secret.arn);
    }
    return Promise.resolve();
  }

  /** How many secrets exist. */
  get size(): number {
    return this.byName.size;
  }

  private find(secretId: string): StoredSecretEntry | undefined {
    return this.byArn.get(secretId) ?? this.byName.get(secretId);
  }
}

function notFound(): Error {
  return new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
}
