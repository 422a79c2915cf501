import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  PutSecretValueCommand,
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

  it('answers an unknown secret with ResourceNotFoundException', async () => {
    await expect(valueOf(`missing-${randomUUID()}`)).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
