import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  type CreateSecretCommandInput,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  PutSecretValueCommand,
  type PutSecretValueCommandInput,
  ResourceExistsException,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import { clientCredentialsPlaceholder } from '../../lambdas/core/definitions';
import { localAws } from './support/local-aws';

const aws = localAws();
const { secretsManager } = aws.clients;
afterAll(() => aws.clients.destroy());

const newSecret = async (value: object) => {
  const Name = `ring-portability/connections/test-${randomUUID()}`;
  const created = await secretsManager.send(new CreateSecretCommand({ Name, SecretString: JSON.stringify(value) }));
  return { Name, arn: created.ARN!, firstVersion: created.VersionId! };
};

const valueOf = async (SecretId: string, VersionStage?: string) => {
  const result = await secretsManager.send(new GetSecretValueCommand({ SecretId, VersionStage }));
  return { value: JSON.parse(result.SecretString!) as unknown, versionId: result.VersionId, stages: result.VersionStages };
};

describe('local Secrets Manager (local/emulators/secrets-manager.ts)', () => {
  it('holds the client-credential placeholders it was provisioned with, per enabled brand', async () => {
    for (const arn of Object.values(aws.resources.clientSecrets)) {
      expect((await valueOf(arn)).value).toEqual(clientCredentialsPlaceholder);
    }
    expect(Object.keys(aws.resources.clientSecrets).sort()).toEqual(['blink', 'ring']);
  });

  it('finds a secret by name and by ARN, and refuses to create it twice', async () => {
    const { Name, arn } = await newSecret({ refreshToken: 'r1' });
    expect(arn).toMatch(new RegExp(`^arn:aws:secretsmanager:${aws.region}:\\d{12}:secret:${Name}-[0-9a-f]{6}$`));
    expect((await valueOf(Name)).value).toEqual({ refreshToken: 'r1' });
    expect((await valueOf(arn)).value).toEqual({ refreshToken: 'r1' });
    await expect(secretsManager.send(new CreateSecretCommand({ Name, SecretString: '{}' }))).rejects.toBeInstanceOf(
      ResourceExistsException,
    );
  });

  it('rotates staging labels: the new version is AWSCURRENT, the old one AWSPREVIOUS', async () => {
    const { Name, firstVersion } = await newSecret({ refreshToken: 'r1' });
    const second = await secretsManager.send(
      new PutSecretValueCommand({ SecretId: Name, SecretString: JSON.stringify({ refreshToken: 'r2' }) }),
    );
    const third = await secretsManager.send(
      new PutSecretValueCommand({ SecretId: Name, SecretString: JSON.stringify({ refreshToken: 'r3' }) }),
    );

    expect(third.VersionStages).toEqual(['AWSCURRENT']);
    expect(await valueOf(Name)).toEqual({ value: { refreshToken: 'r3' }, versionId: third.VersionId, stages: ['AWSCURRENT'] });
    expect(await valueOf(Name, 'AWSPREVIOUS')).toEqual({
      value: { refreshToken: 'r2' },
      versionId: second.VersionId,
      stages: ['AWSPREVIOUS'],
    });
    const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: Name }));
    expect(described.VersionIdsToStages).toEqual({
      [second.VersionId!]: ['AWSPREVIOUS'],
      [third.VersionId!]: ['AWSCURRENT'],
    });
    expect(described.VersionIdsToStages).not.toHaveProperty(firstVersion);
  });

  it('treats a retried PutSecretValue with the same ClientRequestToken as a no-op', async () => {
    const { Name } = await newSecret({ refreshToken: 'r1' });
    const ClientRequestToken = randomUUID();
    const put = (refreshToken: string) =>
      secretsManager.send(
        new PutSecretValueCommand({ SecretId: Name, ClientRequestToken, SecretString: JSON.stringify({ refreshToken }) }),
      );

    const first = await put('r2');
    const retried = await put('r2');

    expect(retried.VersionId).toBe(first.VersionId);
    expect(await valueOf(Name)).toMatchObject({ value: { refreshToken: 'r2' }, versionId: ClientRequestToken });
    // The retry did not push r2 into AWSPREVIOUS: the version before it is still there.
    expect((await valueOf(Name, 'AWSPREVIOUS')).value).toEqual({ refreshToken: 'r1' });
    // The same token with another value is a conflicting write, not a new version.
    await expect(put('r3')).rejects.toBeInstanceOf(ResourceExistsException);
    expect((await valueOf(Name)).value).toEqual({ refreshToken: 'r2' });
  });

  it('schedules deletion, then refuses reads; force deletion removes the secret', async () => {
    const scheduled = await newSecret({ refreshToken: 'r1' });
    const deletion = await secretsManager.send(new DeleteSecretCommand({ SecretId: scheduled.Name, RecoveryWindowInDays: 7 }));
    expect(deletion.DeletionDate!.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    await expect(valueOf(scheduled.Name)).rejects.toBeInstanceOf(InvalidRequestException);
    const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: scheduled.Name }));
    expect(described.DeletedDate).toBeInstanceOf(Date);
    await expect(secretsManager.send(new CreateSecretCommand({ Name: scheduled.Name, SecretString: '{}' }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );

    const forced = await newSecret({ refreshToken: 'r1' });
    await secretsManager.send(new DeleteSecretCommand({ SecretId: forced.arn, ForceDeleteWithoutRecovery: true }));
    await expect(valueOf(forced.Name)).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      secretsManager.send(new DeleteSecretCommand({ SecretId: forced.Name, ForceDeleteWithoutRecovery: true, RecoveryWindowInDays: 7 })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  describe("refuses what AWS refuses (the service model's limits, a name's characters)", () => {
    const prefix = () => `ring-portability/limits/${randomUUID()}`;
    const create = (input: Partial<CreateSecretCommandInput>) => secretsManager.send(new CreateSecretCommand({ Name: prefix(), SecretString: '{}', ...input }));
    const validationError = (...breaches: string[]) => ({
      name: 'ValidationException',
      message: `${breaches.length} validation error${breaches.length === 1 ? '' : 's'} detected: ${breaches.map((breach) => `Value at '${breach}`).join('; ')}`,
    });
    const longest = (length: number) => `${prefix()}/${'n'.repeat(length)}`.slice(0, length);

    it('takes a name of 1-512 letters, digits and /_+=.@- and nothing else', async () => {
      for (const Name of [`${prefix()}/AZaz09/_+=.@-`, 'x', longest(512), `${prefix()}/c-123456`]) {
        const created = await create({ Name });
        expect((await valueOf(Name)).value).toEqual({});
        expect((await valueOf(created.ARN!)).value).toEqual({});
        // 'x' has no prefix of its own: gone again, a second run can create it.
        await secretsManager.send(new DeleteSecretCommand({ SecretId: created.ARN, ForceDeleteWithoutRecovery: true }));
      }
      await expect(create({ Name: longest(513) })).rejects.toMatchObject(validationError("name' failed to satisfy constraint: Member must have length less than or equal to 512"));
      await expect(create({ Name: '' })).rejects.toMatchObject(validationError("name' failed to satisfy constraint: Member must have length greater than or equal to 1"));
      for (const char of [':', ' ', '!', '#', '%', '*', '?', '|', '\\', '~', 'é']) {
        await expect(create({ Name: `${prefix()}/a${char}b` })).rejects.toBeInstanceOf(InvalidParameterException);
      }
    });

    it('takes a ClientRequestToken of 32-64 characters', async () => {
      for (const ClientRequestToken of ['t'.repeat(32), 't'.repeat(64)]) {
        expect((await create({ ClientRequestToken })).VersionId).toBe(ClientRequestToken);
      }
      await expect(create({ ClientRequestToken: 't'.repeat(31) })).rejects.toMatchObject(validationError("clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 32"));
      const { Name } = await newSecret({});
      await expect(secretsManager.send(new PutSecretValueCommand({ SecretId: Name, SecretString: '{}', ClientRequestToken: 't'.repeat(65) }))).rejects.toMatchObject(
        validationError("clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 64"),
      );
    });

    it('takes a secret value of 1 byte to 64 KB, and a description of up to 2048 characters', async () => {
      const { Name } = await newSecret({});
      const put = (input: Partial<PutSecretValueCommandInput>) => secretsManager.send(new PutSecretValueCommand({ SecretId: Name, ...input }));
      await put({ SecretString: 'x'.repeat(65_536) });
      await put({ SecretBinary: new Uint8Array(65_536) });
      await expect(put({ SecretString: 'x'.repeat(65_537) })).rejects.toMatchObject(validationError("secretString' failed to satisfy constraint: Member must have length less than or equal to 65536"));
      // Counted in bytes: 32,769 two-byte characters are over the limit.
      await expect(put({ SecretString: 'é'.repeat(32_769) })).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(put({ SecretBinary: new Uint8Array(65_537) })).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(put({ SecretString: '' })).rejects.toMatchObject(validationError("secretString' failed to satisfy constraint: Member must have length greater than or equal to 1"));
      await create({ Description: 'd'.repeat(2048) });
      await expect(create({ Description: 'd'.repeat(2049), Name: longest(513) })).rejects.toMatchObject(
        validationError(
          "name' failed to satisfy constraint: Member must have length less than or equal to 512",
          "description' failed to satisfy constraint: Member must have length less than or equal to 2048",
        ),
      );
    });

    it('takes 1-20 staging labels of 1-256 characters, and makes a first version AWSCURRENT whatever it is labelled', async () => {
      const Name = prefix();
      await secretsManager.send(new CreateSecretCommand({ Name }));
      const first = await secretsManager.send(new PutSecretValueCommand({ SecretId: Name, SecretString: '{"v":1}', VersionStages: ['AWSPENDING'] }));
      expect([...first.VersionStages!].sort()).toEqual(['AWSCURRENT', 'AWSPENDING']);
      const labels = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(256, 'l'));
      const labelled = await secretsManager.send(new PutSecretValueCommand({ SecretId: Name, SecretString: '{"v":2}', VersionStages: labels }));
      expect(labelled.VersionStages).toEqual(labels);
      expect((await valueOf(Name)).value).toEqual({ v: 1 });
      const put = (VersionStages: string[]) => secretsManager.send(new PutSecretValueCommand({ SecretId: Name, SecretString: '{"v":3}', VersionStages }));
      await expect(put([])).rejects.toMatchObject(validationError("versionStages' failed to satisfy constraint: Member must have length greater than or equal to 1"));
      await expect(put([...labels, 'one-too-many'])).rejects.toMatchObject(validationError("versionStages' failed to satisfy constraint: Member must have length less than or equal to 20"));
      await expect(put(['AWSCURRENT', ''])).rejects.toMatchObject(validationError("versionStages.2.member' failed to satisfy constraint: Member must have length greater than or equal to 1"));
      await expect(put(['l'.repeat(257)])).rejects.toMatchObject(validationError("versionStages.1.member' failed to satisfy constraint: Member must have length less than or equal to 256"));
    });
  });

  it('answers an unknown secret with ResourceNotFoundException', async () => {
    await expect(valueOf(`missing-${randomUUID()}`)).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
