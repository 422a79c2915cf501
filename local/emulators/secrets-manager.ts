import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import * as path from 'node:path';
import { regionOf, sendAwsJson, ServiceError } from './aws-json';
import { closeServer, listenOnLoopback, type RunningService } from './running-service';

/**
 * A minimal, wire-compatible Secrets Manager for local runs and tests (no emulator for it
 * exists on npm). It speaks the AWS JSON 1.1 protocol the SDK's SecretsManagerClient uses and
 * implements only what the product calls: CreateSecret, GetSecretValue, PutSecretValue,
 * DescribeSecret and DeleteSecret, with AWS's rules for ClientRequestToken idempotency and
 * the AWSCURRENT / AWSPREVIOUS staging labels. Secrets live in memory and, given a file, are
 * written to it after every change (temporary file + rename, so a kill leaves the old state or
 * the new one, never half of one) and read back at start. Versions left without
 * a label are dropped at once (AWS deletes them later), and KMS keys are accepted but unused.
 *
 * It refuses what AWS refuses, so a test catches a request that would fail in production:
 * the length limits of the service's model (a ValidationException, checked first, as AWS
 * does) and the characters of a secret name (an InvalidParameterException). It does not
 * refuse a name ending in a hyphen and six characters: AWS accepts it too, and only warns
 * that such a name is ambiguous in a partial ARN (the product never looks secrets up by one).
 */

const ACCOUNT = '000000000000';
const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const MAX_BODY_BYTES = 1024 * 1024;
const NAME_CHARACTERS = /^[A-Za-z0-9/_+=.@-]*$/;

/**
 * A member's length limits, from the service's model (aws-sdk-js-v3's
 * `codegen/sdk-codegen/aws-models/secrets-manager.json`). Strings count characters, except a
 * secret value, counted in bytes as its 64 KB quota is (never looser than a count of
 * characters); a list counts items and `items` limits each item.
 */
interface Constraint {
  readonly key: string;
  readonly min: number;
  readonly max: number;
  readonly required?: boolean;
  readonly measure?: 'bytes' | 'base64';
  readonly items?: { readonly min: number; readonly max: number };
}

const SECRET_ID: Constraint = { key: 'SecretId', min: 1, max: 2048, required: true };
const CLIENT_REQUEST_TOKEN: Constraint = { key: 'ClientRequestToken', min: 32, max: 64 };
const SECRET_STRING: Constraint = { key: 'SecretString', min: 1, max: 65_536, measure: 'bytes' };
const SECRET_BINARY: Constraint = { key: 'SecretBinary', min: 1, max: 65_536, measure: 'base64' };

const CONSTRAINTS: Record<string, readonly Constraint[]> = {
  CreateSecret: [
    { key: 'Name', min: 1, max: 512, required: true },
    CLIENT_REQUEST_TOKEN,
    { key: 'Description', min: 0, max: 2048 },
    { key: 'KmsKeyId', min: 0, max: 2048 },
    SECRET_STRING,
    SECRET_BINARY,
  ],
  PutSecretValue: [SECRET_ID, CLIENT_REQUEST_TOKEN, SECRET_STRING, SECRET_BINARY, { key: 'VersionStages', min: 1, max: 20, items: { min: 1, max: 256 } }],
  GetSecretValue: [SECRET_ID, { key: 'VersionId', min: 32, max: 64 }, { key: 'VersionStage', min: 1, max: 256 }],
  DescribeSecret: [SECRET_ID],
  DeleteSecret: [SECRET_ID],
};

interface Version {
  readonly id: string;
  readonly secretString?: string;
  readonly secretBinary?: string;
  readonly createdDate: number;
  stages: Set<string>;
}

interface StoredSecret {
  readonly arn: string;
  readonly name: string;
  readonly description?: string;
  readonly kmsKeyId?: string;
  readonly createdDate: number;
  readonly tags?: unknown;
  lastChangedDate: number;
  deletedDate?: number;
  readonly versions: Map<string, Version>;
}


type Input = Record<string, unknown>;

const now = (): number => Date.now() / 1000;

/** A secret as the state file holds it: Maps and Sets as arrays. */
interface SavedSecret extends Omit<StoredSecret, 'versions'> {
  readonly versions: (Omit<Version, 'stages'> & { stages: string[] })[];
}

const MUTATIONS = new Set(['CreateSecret', 'PutSecretValue', 'DeleteSecret']);

export class SecretsManagerEmulator {
  private readonly secrets = new Map<string, StoredSecret>();

  /** @param stateFile where the secrets are kept between runs; in memory only without one. */
  constructor(private readonly stateFile?: string) {
    if (!stateFile) return;
    mkdirSync(path.dirname(stateFile), { recursive: true });
    if (!existsSync(stateFile)) return;
    for (const saved of JSON.parse(readFileSync(stateFile, 'utf8')) as SavedSecret[]) {
      const versions = new Map(saved.versions.map((version) => [version.id, { ...version, stages: new Set(version.stages) }]));
      this.secrets.set(saved.name, { ...saved, versions });
    }
  }

  handle(operation: string, input: Input, region: string): unknown {
    const result = this.run(operation, input, region);
    if (MUTATIONS.has(operation)) this.save();
    return result;
  }

  private save(): void {
    if (!this.stateFile) return;
    const saved: SavedSecret[] = [...this.secrets.values()].map((secret) => ({
      ...secret,
      versions: [...secret.versions.values()].map((version) => ({ ...version, stages: [...version.stages] })),
    }));
    const temporary = `${this.stateFile}.${randomUUID()}.tmp`;
    writeFileSync(temporary, JSON.stringify(saved), { mode: 0o600 });
    renameSync(temporary, this.stateFile);
  }

  private run(operation: string, input: Input, region: string): unknown {
    validate(input, CONSTRAINTS[operation] ?? []);
    switch (operation) {
      case 'CreateSecret':
        return this.createSecret(input, region);
      case 'GetSecretValue':
        return this.getSecretValue(input);
      case 'PutSecretValue':
        return this.putSecretValue(input);
      case 'DescribeSecret':
        return this.describeSecret(input);
      case 'DeleteSecret':
        return this.deleteSecret(input);
      default:
        throw new ServiceError('UnknownOperationException', `Operation ${operation} is not supported by the local Secrets Manager`);
    }
  }

  private createSecret(input: Input, region: string): unknown {
    const name = requiredString(input, 'Name');
    if (!NAME_CHARACTERS.test(name)) throw new ServiceError('InvalidParameterException', 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    const value = secretValue(input, false);
    const token = clientRequestToken(input);
    const existing = this.secrets.get(name);
    if (existing) {
      const version = existing.versions.get(token);
      if (version && !existing.deletedDate && sameValue(version, value)) {
        return { ARN: existing.arn, Name: existing.name, VersionId: version.id };
      }
      if (existing.deletedDate) {
        throw new ServiceError('InvalidRequestException', "You can't create this secret because a secret with this name is already scheduled for deletion.");
      }
      throw new ServiceError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    const created = now();
    const secret: StoredSecret = {
      arn: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`,
      name,
      description: optionalString(input, 'Description'),
      kmsKeyId: optionalString(input, 'KmsKeyId'),
      tags: input.Tags,
      createdDate: created,
      lastChangedDate: created,
      versions: new Map(),
    };
    this.secrets.set(name, secret);
    if (!value) return { ARN: secret.arn, Name: secret.name };
    secret.versions.set(token, { id: token, ...value, createdDate: created, stages: new Set([CURRENT]) });
    return { ARN: secret.arn, Name: secret.name, VersionId: token };
  }

  private getSecretValue(input: Input): unknown {
    const secret = this.live(input);
    const versionId = optionalString(input, 'VersionId');
    const stage = optionalString(input, 'VersionStage') ?? (versionId ? undefined : CURRENT);
    const version = [...secret.versions.values()].find(
      (candidate) => (!versionId || candidate.id === versionId) && (!stage || candidate.stages.has(stage)),
    );
    if (!version) {
      throw new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for the given version or staging label.");
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      SecretString: version.secretString,
      SecretBinary: version.secretBinary,
      VersionStages: [...version.stages],
      CreatedDate: version.createdDate,
    };
  }

  private putSecretValue(input: Input): unknown {
    const secret = this.live(input);
    const value = secretValue(input, true)!;
    const token = clientRequestToken(input);
    const existing = secret.versions.get(token);
    if (existing) {
      if (!sameValue(existing, value)) {
        throw new ServiceError('ResourceExistsException', "You can't modify an existing version, you can only create a new version.");
      }
      // A retried request with the same token and value is ignored, as AWS does.
      return { ARN: secret.arn, Name: secret.name, VersionId: existing.id, VersionStages: [...existing.stages] };
    }
    const stages = optionalStringList(input, 'VersionStages') ?? [CURRENT];
    // The first version of a secret is AWSCURRENT whatever labels the request names.
    const first = ![...secret.versions.values()].some((other) => other.stages.has(CURRENT));
    const version: Version = { id: token, ...value, createdDate: now(), stages: new Set() };
    secret.versions.set(token, version);
    for (const stage of first && !stages.includes(CURRENT) ? [...stages, CURRENT] : stages) moveStage(secret, stage, version);
    secret.lastChangedDate = now();
    return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: [...version.stages] };
  }

  private describeSecret(input: Input): unknown {
    const secret = this.find(input);
    const versionIdsToStages = Object.fromEntries(
      [...secret.versions.values()].map((version) => [version.id, [...version.stages]]),
    );
    return {
      ARN: secret.arn,
      Name: secret.name,
      Description: secret.description,
      KmsKeyId: secret.kmsKeyId,
      CreatedDate: secret.createdDate,
      LastChangedDate: secret.lastChangedDate,
      DeletedDate: secret.deletedDate,
      Tags: secret.tags,
      VersionIdsToStages: versionIdsToStages,
    };
  }

  private deleteSecret(input: Input): unknown {
    const force = input.ForceDeleteWithoutRecovery === true;
    const windowDays = input.RecoveryWindowInDays;
    if (force && windowDays !== undefined) {
      throw new ServiceError('InvalidParameterException', "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    }
    const days = windowDays === undefined ? 30 : windowDays;
    if (!force && (typeof days !== 'number' || !Number.isInteger(days) || days < 7 || days > 30)) {
      throw new ServiceError('InvalidParameterException', 'RecoveryWindowInDays must be a whole number between 7 and 30.');
    }
    const secret = this.find(input);
    if (force) {
      this.secrets.delete(secret.name);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: now() };
    }
    secret.deletedDate ??= now();
    return { ARN: secret.arn, Name: secret.name, DeletionDate: secret.deletedDate + (days as number) * 86_400 };
  }

  /** Finds a secret by name, full ARN or partial ARN (without the random suffix). */
  private find(input: Input): StoredSecret {
    const id = requiredString(input, 'SecretId');
    const secret =
      this.secrets.get(id) ??
      [...this.secrets.values()].find((candidate) => candidate.arn === id || candidate.arn.slice(0, -7) === id);
    if (!secret) throw new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  }

  private live(input: Input): StoredSecret {
    const secret = this.find(input);
    if (secret.deletedDate !== undefined) {
      throw new ServiceError('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
    }
    return secret;
  }
}

/** Attaches `stage` to `version` alone; AWSCURRENT leaving a version leaves AWSPREVIOUS behind. */
function moveStage(secret: StoredSecret, stage: string, version: Version): void {
  for (const other of secret.versions.values()) {
    if (other === version || !other.stages.has(stage)) continue;
    other.stages.delete(stage);
    if (stage === CURRENT) {
      for (const candidate of secret.versions.values()) candidate.stages.delete(PREVIOUS);
      other.stages.add(PREVIOUS);
    }
  }
  version.stages.add(stage);
  for (const [id, candidate] of secret.versions) {
    if (candidate.stages.size === 0) secret.versions.delete(id);
  }
}

function sameValue(version: Version, value: Pick<Version, 'secretString' | 'secretBinary'> | undefined): boolean {
  return version.secretString === value?.secretString && version.secretBinary === value?.secretBinary;
}

function secretValue(input: Input, required: boolean): Pick<Version, 'secretString' | 'secretBinary'> | undefined {
  const secretString = optionalString(input, 'SecretString');
  const secretBinary = optionalString(input, 'SecretBinary');
  if (secretString !== undefined && secretBinary !== undefined) {
    throw new ServiceError('InvalidParameterException', 'You must provide either SecretString or SecretBinary, not both.');
  }
  if (secretString === undefined && secretBinary === undefined) {
    if (required) throw new ServiceError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
    return undefined;
  }
  return { secretString, secretBinary };
}

/** The SDK sends a UUID when the caller gives no token; a raw request without one gets one here. */
function clientRequestToken(input: Input): string {
  return optionalString(input, 'ClientRequestToken') ?? randomUUID();
}

/** Present by now: `validate` refused a request without it. */
function requiredString(input: Input, key: string): string {
  return optionalString(input, key)!;
}

/**
 * Checks the members' lengths as AWS's request validation does, before the operation runs,
 * and answers every breach at once in AWS's words: "2 validation errors detected: Value at
 * 'name' failed to satisfy constraint: Member must have length less than or equal to 512; …".
 * Values are never repeated back (a secret value must not be).
 */
function validate(input: Input, constraints: readonly Constraint[]): void {
  const errors: string[] = [];
  const check = (member: string, length: number, limits: { min: number; max: number }) => {
    if (length < limits.min) errors.push(`Value at '${member}' failed to satisfy constraint: Member must have length greater than or equal to ${limits.min}`);
    if (length > limits.max) errors.push(`Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${limits.max}`);
  };
  for (const constraint of constraints) {
    const member = constraint.key[0].toLowerCase() + constraint.key.slice(1);
    const value = input[constraint.key];
    if (value === undefined || value === null) {
      if (constraint.required) errors.push(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
    } else if (Array.isArray(value)) {
      check(member, value.length, constraint);
      value.forEach((item, i) => {
        if (constraint.items && typeof item === 'string') check(`${member}.${i + 1}.member`, [...item].length, constraint.items);
      });
    } else if (typeof value === 'string') {
      const length = constraint.measure === 'bytes' ? Buffer.byteLength(value) : constraint.measure === 'base64' ? Buffer.from(value, 'base64').length : [...value].length;
      check(member, length, constraint);
    }
  }
  if (errors.length > 0) {
    throw new ServiceError('ValidationException', `${errors.length} validation error${errors.length === 1 ? '' : 's'} detected: ${errors.join('; ')}`);
  }
}

function optionalString(input: Input, key: string): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ServiceError('InvalidParameterException', `${key} must be a string.`);
  return value;
}

function optionalStringList(input: Input, key: string): string[] | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string')) {
    throw new ServiceError('InvalidParameterException', `${key} must be a non-empty list of strings.`);
  }
  return value;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ServiceError('InvalidRequestException', 'Request body too large.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}



export async function startSecretsManager(options: { port?: number; dataDir?: string } = {}): Promise<RunningService & { emulator: SecretsManagerEmulator }> {
  const emulator = new SecretsManagerEmulator(options.dataDir ? path.join(options.dataDir, 'secrets.json') : undefined);
  const server: Server = createServer((request, response) => {
    void (async () => {
      try {
        const target = request.headers['x-amz-target'];
        const operation = typeof target === 'string' && target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : undefined;
        if (request.method !== 'POST' || !operation) {
          throw new ServiceError('UnknownOperationException', 'Expected a POST with an X-Amz-Target of secretsmanager.<Operation>.');
        }
        const region = regionOf(request);
        if (!region) throw new ServiceError('MissingAuthenticationTokenException', 'Request is missing a SigV4 Authorization header.');
        const text = await readBody(request);
        let input: Input;
        try {
          input = (text === '' ? {} : JSON.parse(text)) as Input;
        } catch {
          throw new ServiceError('SerializationException', 'Request body is not valid JSON.');
        }
        sendAwsJson(response, 200, emulator.handle(operation, input, region));
      } catch (error) {
        if (error instanceof ServiceError) {
          sendAwsJson(response, 400, { __type: error.type, message: error.message }, error.type);
        } else {
          sendAwsJson(response, 500, { __type: 'InternalServiceError', message: 'Local Secrets Manager failed.' }, 'InternalServiceError');
        }
      }
    })();
  });
  const endpoint = await listenOnLoopback(server, options.port);
  return {
    endpoint,
    emulator,
    stop: () => closeServer(server),
  };
}
