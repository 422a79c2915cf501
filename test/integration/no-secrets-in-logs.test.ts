import { inspect } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ConnectionTokens } from '../../lambdas/core/ring/token-service';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { connectWorld, RETURN_ORIGIN } from './support/connect-world';
import { ringWorld } from './support/ring-world';

describe('no secret in any log line or error', () => {
  it('runs connect, create, list, refresh, a refused token, a revoked grant and bad client credentials; no token, code, verifier or client secret is ever printed', async () => {
    const lines: string[] = [];
    const capture = (stream: NodeJS.WriteStream) =>
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    const out = capture(process.stdout);
    const err = capture(process.stderr);
    const errors: unknown[] = [];
    const secrets: string[] = [];
    const world = await ringWorld({ logger: new Logger({ serviceName: 'no-secrets', logLevel: 'DEBUG' }), retry: { scheduleSeconds: [] } });
    try {
      secrets.push(world.app.clientSecret);
      const { connection, issued, code, verifier, sandboxCustomer } = await world.connect({ customer: { datasets: { 'Ring.EventManager.Events': 3 }, recordsPerFile: 1 } });
      secrets.push(issued.accessToken.reveal(), issued.refreshToken.reveal(), code.reveal(), verifier.reveal());

      const { queryId } = await world.intake.createDataQuery(connection);
      await world.control('POST', '/clock/advance', { seconds: 1 });
      for await (const page of world.intake.listDataQueryRecords(connection, queryId, { maxResults: 1 })) lines.push(JSON.stringify(page.records.map((record) => new URL(record.file).pathname)));

      await world.control('POST', '/clock/advance', { hours: 4 });
      await world.control('PUT', '/faults', { rules: [{ operation: 'listDataQueryRecords', nth: [1], error: 'ACCESS_DENIED' }, { operation: 'createDataQuery', nth: [1], error: 'INTERNAL_SERVER_ERROR' }] });
      await world.intake.listPage(connection, queryId).catch((error: unknown) => errors.push(error));
      await world.intake.createDataQuery(connection).catch((error: unknown) => errors.push(error));
      const stored = ConnectionTokens.parse(JSON.parse((await world.secrets.read(connection.secretId))!.value));
      secrets.push(stored.refreshToken, stored.accessToken!);

      await world.control('POST', `/customers/${sandboxCustomer.id}/revoke`, {});
      await world.control('POST', '/clock/advance', { hours: 4 });
      await world.tokens.getAccessToken(connection).catch((error: unknown) => errors.push(error));

      await world.aws.clients.secretsManager.send(
        new PutSecretValueCommand({ SecretId: `${world.prefix}/client/blink`, SecretString: JSON.stringify({ client_id: world.app.clientId, client_secret: 'blink-client-secret-value' }) }),
      );
      secrets.push('blink-client-secret-value');
      const refused = await world.connect({ brand: 'blink' }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toMatchObject({ name: 'ClientCredentialsError' });
      errors.push(refused);
    } finally {
      out.mockRestore();
      err.mockRestore();
      await world.stop();
    }

    expect(errors.length).toBeGreaterThanOrEqual(3);
    const printed = [...lines, ...errors.flatMap((error) => [String(error), JSON.stringify(error), inspect(error, { depth: 5 })])].join('\n');
    expect(lines.some((line) => line.includes('refreshed the access token'))).toBe(true);
    expect(secrets.filter((secret) => secret.length >= 8)).toHaveLength(secrets.length);
    for (const secret of secrets) expect(printed).not.toContain(secret);
  });

  it('runs the connect flow through its handlers: link, consent, callback, replay, status, import, disconnect; nothing secret is printed', async () => {
    const lines: string[] = [];
    const spies = [process.stdout, process.stderr].map((stream) =>
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      }),
    );
    const secrets: string[] = [];
    const world = await connectWorld({ logger: new Logger({ serviceName: 'no-secrets', logLevel: 'DEBUG' }) });
    try {
      secrets.push(world.app.clientSecret);
      const customerId = 'log-check-customer';
      const link = JSON.parse((await world.createLink({ customerId, brand: 'ring', returnUrl: `${RETURN_ORIGIN}/back` })).body!) as { authorizeUrl: string };
      const state = new URL(link.authorizeUrl).searchParams.get('state')!;
      const pending = await world.aws.clients.documents.send(new GetCommand({ TableName: world.table, Key: { pk: `STATE#${state}`, sk: 'STATE' } }));
      secrets.push(String(pending.Item!.verifier), state);
      const redirect = await world.consentAt(link.authorizeUrl);
      secrets.push(redirect.code);
      const response = await world.callback(redirect);
      lines.push(JSON.stringify(response));
      lines.push(JSON.stringify(await world.callback(redirect)));
      const stored = ConnectionTokens.parse(JSON.parse((await world.secrets.read(`${world.prefix}/connections/${customerId}`))!.value));
      secrets.push(stored.refreshToken, stored.accessToken!);
      lines.push(JSON.stringify(await world.status(customerId)), JSON.stringify(await world.importNow(customerId)), JSON.stringify(await world.disconnect(customerId, true)));
    } finally {
      for (const spy of spies) spy.mockRestore();
      await world.stop();
    }
    const printed = lines.join('\n');
    expect(printed).toContain('connection established');
    for (const secret of secrets) expect(printed).not.toContain(secret);
  });
});
