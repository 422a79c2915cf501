import {
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type DeleteObjectsCommandInput,
  type DeleteObjectsCommandOutput,
  type ListObjectVersionsCommandOutput,
} from '@aws-sdk/client-s3';
import { GetSecretValueCommand, ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AwsCustomerDataStore } from '../../lambdas/adapters/aws-admin';
import { INGESTION_MAX_INVOCATION_SECONDS, secretNames } from '../../lambdas/core/definitions';
import { buildAuthorizeUrl, createState, createVerifier, s256Challenge } from '../../lambdas/core/ring/pkce';
import { ConnectionTokens } from '../../lambdas/core/ring/token-service';
import { disconnect } from '../../lambdas/core/connections/manage';
import { rawPrefixes } from '../../lambdas/core/connections/partitions';
import { Secret } from '../../lambdas/core/secret';
import { connectLocalAws } from '../../local/local-aws';
import { connectWorld, RETURN_ORIGIN, type ConnectWorld } from './support/connect-world';
import { REDIRECT_URI } from './support/ring-world';

let world: ConnectWorld;
beforeAll(async () => {
  world = await connectWorld();
});
afterAll(() => world.stop());

const bodyOf = (response: APIGatewayProxyStructuredResultV2) => JSON.parse(response.body ?? '{}') as Record<string, unknown>;
let next = 0;
const customerId = () => `customer-${Date.now()}-${next++}`;

async function connected(id = customerId(), returnUrl?: string) {
  const link = await world.createLink({ customerId: id, brand: 'ring', region: 'eu-west-1', returnUrl });
  expect(link.statusCode).toBe(201);
  const redirect = await world.consentAt(String(bodyOf(link).authorizeUrl));
  const response = await world.callback(redirect);
  return { id, redirect, response };
}

describe('POST /connections', () => {
  it('returns an authorize URL at the sandbox, as the reference shows it, and when it expires', async () => {
    const response = await world.createLink({ customerId: customerId(), brand: 'ring' });
    expect(response.statusCode).toBe(201);
    const { authorizeUrl, expiresAt } = bodyOf(response) as { authorizeUrl: string; expiresAt: string };
    const url = new URL(authorizeUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${world.sandbox.baseUrl}/ring/oauth/v2/authorize`);
    expect([...url.searchParams.keys()]).toEqual(['redirect_uri', 'client_id', 'response_type', 'scope', 'code_challenge', 'code_challenge_method', 'state']);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    const ttl = Date.parse(expiresAt) - world.clock.now();
    expect(ttl).toBeGreaterThan(9 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000);
  });

  it.each([
    [{ customerId: 'ok', brand: 'nest' }, 'body.brand'],
    [{ customerId: 'no spaces', brand: 'ring' }, 'body.customerId'],
    [{ customerId: 'x'.repeat(200), brand: 'ring' }, 'body.customerId'],
    [{ customerId: 'ok', brand: 'ring', region: 'eu-central-1' }, 'body.region'],
    [{ customerId: 'ok', brand: 'ring', extra: 1 }, 'extra'],
    [{ customerId: 'ok', brand: 'ring', returnUrl: 'https://evil.example.net/after' }, 'not one of the allowed return origins'],
    [{ customerId: 'ok', brand: 'ring', returnUrl: 'javascript:alert(1)' }, 'not one of the allowed return origins'],
  ])('rejects %j with 400 naming the problem', async (body, problem) => {
    const response = await world.createLink(body);
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response)).toEqual({ error: 'bad_request', message: expect.stringContaining(problem) });
  });

  it('rejects an oversized body with 413', async () => {
    const response = await world.createLink({ customerId: 'ok', brand: 'ring', returnUrl: `${RETURN_ORIGIN}/${'x'.repeat(20_000)}` });
    expect(response.statusCode).toBe(413);
  });
});

describe('GET /oauth/callback', () => {
  it('connects: the secret holds a working refresh token, the connection is ACTIVE, one import is queued', async () => {
    const { id, response } = await connected();
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('Connected');

    const status = await world.status(id);
    expect(bodyOf(status)).toMatchObject({ customerId: id, status: 'ACTIVE', brand: 'ring', region: 'eu-west-1', scopeId: 'data-portability', connectedAt: expect.any(String) });
    expect(bodyOf(status)).not.toHaveProperty('secretId');

    const stored = await world.aws.clients.secretsManager.send(new GetSecretValueCommand({ SecretId: `${world.prefix}/connections/${id}` }));
    const tokens = ConnectionTokens.parse(JSON.parse(stored.SecretString!));
    const refreshed = await world.oauth.refresh(world.endpointsOf({ brand: 'ring', region: 'eu-west-1' }).tokenUrl, await world.credentials.get('ring'), new Secret(tokens.refreshToken));
    expect(refreshed.expiresIn).toBe(14_400);

    expect(await world.queuedImports()).toEqual([{ customerId: id, reason: 'connected', requestedAt: expect.any(String), attempt: 1, ticket: expect.any(String) }]);
  });

  it('redirects to the return URL with status and customerId, never the code', async () => {
    const { id, redirect, response } = await connected(customerId(), `${RETURN_ORIGIN}/settings?tab=ring`);
    expect(response.statusCode).toBe(302);
    const location = response.headers!.location as string;
    expect(location).toBe(`${RETURN_ORIGIN}/settings?tab=ring&status=connected&customerId=${id}`);
    expect(location).not.toContain(redirect.code);
    await world.queuedImports();
  });

  it('refuses a replayed state without exchanging the code again', async () => {
    const { redirect } = await connected();
    await world.control('DELETE', '/calls');
    const replay = await world.callback(redirect);
    expect(replay.statusCode).toBe(400);
    expect(replay.body).toContain('expired or was already used');
    expect(await world.tokenCalls()).toBe(0);
    await world.queuedImports();
  });

  it('refuses an expired state (10 minutes) and a tampered one', async () => {
    const link = await world.createLink({ customerId: customerId(), brand: 'ring' });
    const redirect = await world.consentAt(String(bodyOf(link).authorizeUrl));
    const tampered = await world.callback({ ...redirect, state: `${redirect.state.slice(0, -2)}xx` });
    expect(tampered.statusCode).toBe(400);
    world.sandbox.clock.advance(10 * 60_000 + 1);
    await world.control('DELETE', '/calls');
    const late = await world.callback(redirect);
    expect(late.statusCode).toBe(400);
    expect(await world.tokenCalls()).toBe(0);
  });

  it('records a refusal (error=access_denied) and sends the customer back with status=denied', async () => {
    const id = customerId();
    const link = await world.createLink({ customerId: id, brand: 'ring', returnUrl: `${RETURN_ORIGIN}/done` });
    const state = new URL(String(bodyOf(link).authorizeUrl)).searchParams.get('state')!;
    const response = await world.callback({ error: 'access_denied', error_description: 'The resource owner or authorization server denied the request', state });
    expect(response.statusCode).toBe(302);
    expect(response.headers!.location).toBe(`${RETURN_ORIGIN}/done?status=denied&customerId=${id}`);
    expect((await world.status(id)).statusCode).toBe(404);
  });

  it('replaces the old grant cleanly when the same customer connects again', async () => {
    const { id } = await connected();
    const first = ConnectionTokens.parse(JSON.parse((await world.secrets.read(`${world.prefix}/connections/${id}`))!.value));
    await connected(id);
    const second = ConnectionTokens.parse(JSON.parse((await world.secrets.read(`${world.prefix}/connections/${id}`))!.value));
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(bodyOf(await world.status(id))).toMatchObject({ status: 'ACTIVE' });
    const tokenUrl = world.endpointsOf({ brand: 'ring', region: 'eu-west-1' }).tokenUrl;
    await expect(world.oauth.refresh(tokenUrl, await world.credentials.get('ring'), new Secret(second.refreshToken))).resolves.toMatchObject({ expiresIn: 14_400 });
    await world.queuedImports();
  });
});

describe('customer ids and their secrets', () => {
  const digits = '0123456789';
  const upper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const lower = upper.toLowerCase();
  // Every character CustomerId allows, each where it may stand; ":" is the one a secret name cannot hold.
  const ids = [
    `Z-._:@${digits}${upper}${lower}`,
    `9${':'.repeat(127)}`,
    'urn:acme:customer:42',
    'a:',
    'c-123456',
    ...['look:1', 'look.1', 'look-1', 'look_1', 'look@1'],
  ];

  /** Receives this world's queued imports until all of `count` are in (none stays behind for the next test). */
  async function drainImports(count: number): Promise<string[]> {
    const received: string[] = [];
    while (received.length < count) {
      const batch = await world.queuedImports();
      if (batch.length === 0) break;
      received.push(...batch.map((request) => request.customerId));
    }
    return received;
  }

  it('connects a customer whatever its id: each id has a secret of its own, found again by the id', async () => {
    for (const id of ids) {
      const { response } = await connected(id);
      expect({ id, statusCode: response.statusCode }).toEqual({ id, statusCode: 200 });
      expect(bodyOf(await world.status(id))).toMatchObject({ customerId: id, status: 'ACTIVE' });
    }
    const refreshTokens = new Set<string>();
    for (const id of ids) {
      const name = secretNames.connection(world.prefix, id);
      expect(name.slice(`${world.prefix}/connections/`.length)).toBe(id.replaceAll(':', '='));
      refreshTokens.add(ConnectionTokens.parse(JSON.parse((await world.secrets.read(name))!.value)).refreshToken);
    }
    expect(refreshTokens.size).toBe(ids.length);
    expect((await drainImports(ids.length)).sort()).toEqual([...ids].sort());

    // The stored tokens work, and a disconnect finds the secret again.
    const [everyCharacter] = ids;
    const name = secretNames.connection(world.prefix, everyCharacter);
    const tokens = ConnectionTokens.parse(JSON.parse((await world.secrets.read(name))!.value));
    await expect(world.oauth.refresh(world.endpointsOf({ brand: 'ring', region: 'eu-west-1' }).tokenUrl, await world.credentials.get('ring'), new Secret(tokens.refreshToken))).resolves.toMatchObject({ expiresIn: 14_400 });
    expect((await world.disconnect(everyCharacter, false)).statusCode).toBe(200);
    await expect(world.aws.clients.secretsManager.send(new GetSecretValueCommand({ SecretId: name }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('never spends the code of a state whose customer id cannot name a secret', async () => {
    // States written before the id's rules changed: one no secret name can hold, one that would take the name of "a:b".
    for (const customerId of ['legacy id', 'a=b']) {
      const verifier = createVerifier();
      const state = createState();
      await world.connectDeps.states.put({ state, customerId, brand: 'ring', region: 'eu-west-1', returnUrl: `${RETURN_ORIGIN}/done`, verifier: verifier.reveal(), expiresAt: world.clock.now() + 60_000 });
      const client = await world.credentials.get('ring');
      const tokenUrl = world.endpointsOf({ brand: 'ring', region: 'eu-west-1' }).tokenUrl;
      const authorizeUrl = buildAuthorizeUrl({ authorizeUrl: world.endpointsOf({ brand: 'ring', region: 'eu-west-1' }).authorizeUrl, clientId: client.clientId, redirectUri: REDIRECT_URI, scope: world.settings.scopeId, codeChallenge: s256Challenge(verifier), state });
      const redirect = await world.consentAt(authorizeUrl);
      await world.control('DELETE', '/calls');

      const response = await world.callback(redirect);

      expect(response.statusCode).toBe(302);
      expect(new URL(response.headers!.location as string).searchParams.get('status')).toBe('error');
      expect(await world.tokenCalls()).toBe(0);
      // The code is still good: the customer's consent was not spent.
      await expect(world.oauth.exchangeCode(tokenUrl, client, { code: new Secret(redirect.code), redirectUri: REDIRECT_URI, verifier, scope: world.settings.scopeId })).resolves.toMatchObject({ expiresIn: 14_400 });
    }
    expect((await world.status('a:b')).statusCode).toBe(404);
    expect(await world.queuedImports()).toEqual([]);
  });

  it('refuses a customer id a secret cannot be named for before the customer consents', async () => {
    for (const customerId of ['a=b', 'a/b', 'a+b']) {
      const response = await world.createLink({ customerId, brand: 'ring' });
      expect(response.statusCode).toBe(400);
      expect(bodyOf(response)).toEqual({ error: 'bad_request', message: expect.stringContaining('body.customerId') });
    }
  });
});

describe('connection management', () => {
  it('queues an import on request for an ACTIVE connection, merges one asked while another is waiting or in flight, 404s an unknown one', async () => {
    const { id } = await connected();
    const [first] = await world.queuedImports();
    // The first import is in flight: a request is merged into it.
    const merged = await world.importNow(id);
    expect(merged.statusCode).toBe(202);
    expect(bodyOf(merged)).toEqual({ queued: true, merged: true, state: 'IN_FLIGHT', requestedAt: first.requestedAt });
    expect(await world.queuedImports()).toEqual([]);
    // Once it has brought the data, a request queues a new import, ahead of recurring ones.
    await world.release.release(id, { queryId: 'q-first', createdAt: first.requestedAt, succeeded: true });
    const asked = await world.importNow(id);
    expect(bodyOf(asked)).toEqual({ queued: true, merged: false, state: 'QUEUED', requestedAt: expect.any(String) });
    expect(await world.importNow(id)).toMatchObject({ statusCode: 202 });
    expect(await world.queuedImports()).toEqual([expect.objectContaining({ customerId: id, reason: 'requested', requestedAt: bodyOf(asked).requestedAt })]);
    expect((await world.importNow('nobody')).statusCode).toBe(404);
  });

  it('disconnects with purge: every object and record of the customer goes, nothing of another customer', async () => {
    const { id } = await connected();
    const { id: other } = await connected();
    const { s3, documents } = world.aws.clients;
    const bucket = world.aws.resources.rawDataBucket;
    const table = world.aws.resources.recordsTable;
    for (const who of [id, other]) {
      for (let i = 0; i < 30; i++) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `raw/${who}/q1/Ring.EventManager.Events/${i}.json`, Body: '[]' }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `rejected/${who}/q1.jsonl`, Body: '{}' }));
      for (const dataset of ['Ring.EventManager.Events', 'Ring.Alarm.HubData']) {
        const items = Array.from({ length: 60 }, (_, i) => ({ PutRequest: { Item: { pk: `${who}#${dataset}`, sk: `2026-01-01#${i}`, record: { i } } } }));
        for (let i = 0; i < items.length; i += 25) await documents.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(i, i + 25) } }));
      }
    }

    // Everything goes at once; the purge is complete once ingestion already running has had its 16 minutes.
    const response = await world.disconnect(id, true);
    expect(response.statusCode).toBe(202);
    expect(response.headers!['retry-after']).toBe(String(INGESTION_MAX_INVOCATION_SECONDS + 60));
    expect(bodyOf(response)).toEqual({ customerId: id, status: 'REVOKED', purged: { objects: 31, records: 120, complete: false, settlesAt: expect.any(String), remains: expect.any(Array) } });

    const remaining = async (who: string) => {
      const raw = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `raw/${who}/` }));
      const rejected = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `rejected/${who}/` }));
      const records = await documents.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${who}#Ring.EventManager.Events` } }));
      return { objects: (raw.KeyCount ?? 0) + (rejected.KeyCount ?? 0), records: records.Count };
    };
    expect(await remaining(id)).toEqual({ objects: 0, records: 0 });
    expect(await remaining(other)).toEqual({ objects: 31, records: 60 });
    expect(bodyOf(await world.status(id))).toMatchObject({ status: 'REVOKED' });
    await expect(world.aws.clients.secretsManager.send(new GetSecretValueCommand({ SecretId: `${world.prefix}/connections/${id}` }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect((await world.importNow(id)).statusCode).toBe(409);

    // Idempotent: a second call finishes cleanly, and once settled it is complete.
    expect(bodyOf(await world.disconnect(id, true))).toMatchObject({ customerId: id, status: 'REVOKED', purged: { objects: 0, records: 0, complete: false } });
    world.sandbox.clock.advance(16 * 60_000);
    const settled = await world.disconnect(id, true);
    expect(settled.statusCode).toBe(200);
    expect(bodyOf(settled)).toEqual({ customerId: id, status: 'REVOKED', purged: { objects: 0, records: 0, complete: true, remains: expect.any(Array) } });
    await world.queuedImports();
  });

  it('stops a purge at its time budget and continues on the next call (202, then 200)', async () => {
    const { id } = await connected();
    const { s3 } = world.aws.clients;
    const bucket = world.aws.resources.rawDataBucket;
    for (let i = 0; i < 5; i++) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `raw/${id}/q/${i}.json`, Body: '[]' }));
    // A budget already spent: nothing is deleted yet, and the answer says to call again.
    const first = await disconnect(world.manageDeps, id, { purge: true, rawPrefixes, deadline: world.clock.now() });
    expect(first.purged).toEqual({ objects: 0, records: 0, complete: false, remains: expect.any(Array) });
    world.sandbox.clock.advance(16 * 60_000);
    const second = await world.disconnect(id, true);
    expect(second.statusCode).toBe(200);
    expect(bodyOf(second)).toMatchObject({ purged: { objects: 5, complete: true } });
    await world.queuedImports();
  });

  it('purges every version of every object (overwritten, deleted, over a thousand) and uploads left open, and says what remains and until when', async () => {
    const { id } = await connected();
    const { id: other } = await connected();
    const { s3 } = world.aws.clients;
    const Bucket = world.aws.resources.rawDataBucket;
    const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket, Key, Body }));
    // 1,100 versions of two files: more than one page of versions (1,000), cut in the middle of a file.
    const events = (n: number) => `raw/${id}/q1/Ring.EventManager.Events/${n % 2}.json`;
    for (let i = 0; i < 1_100; i += 50) await Promise.all(Array.from({ length: 50 }, (_, n) => put(events(i + n), `[${i + n}]`)));
    // A file deleted before the purge (a delete marker over its bytes), a reject report, an upload a crashed fetch left open.
    await put(`raw/${id}/q1/manifest.json`, '{}');
    await s3.send(new DeleteObjectCommand({ Bucket, Key: `raw/${id}/q1/manifest.json` }));
    await put(`rejected/${id}/q1/0.jsonl`, '{}');
    const open = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: `raw/${id}/q2/Ring.Alarm.HubData/0.json` }));
    await s3.send(new UploadPartCommand({ Bucket, Key: `raw/${id}/q2/Ring.Alarm.HubData/0.json`, UploadId: open.UploadId, PartNumber: 1, Body: '[{"customer":"bytes"}' }));
    for (const body of ['[1]', '[1,2]']) await put(`raw/${other}/q1/Ring.EventManager.Events/0.json`, body);

    /** What S3 still holds for a customer, every version and every open upload counted. */
    const stored = async (who: string) => {
      const held = { versions: 0, markers: 0, uploads: 0 };
      for (const Prefix of rawPrefixes(who)) {
        let page: ListObjectVersionsCommandOutput | undefined;
        do {
          page = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix, KeyMarker: page?.NextKeyMarker, VersionIdMarker: page?.NextVersionIdMarker }));
          held.versions += page.Versions?.length ?? 0;
          held.markers += page.DeleteMarkers?.length ?? 0;
        } while (page.IsTruncated);
        held.uploads += (await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix }))).Uploads?.length ?? 0;
      }
      return held;
    };
    expect(await stored(id)).toEqual({ versions: 1_102, markers: 1, uploads: 1 });

    const first = await world.disconnect(id, true);
    expect(first.statusCode).toBe(202);
    expect(bodyOf(first)).toMatchObject({ purged: { objects: 1_102, complete: false } });
    expect(await stored(id)).toEqual({ versions: 0, markers: 0, uploads: 0 });
    expect(await stored(other)).toEqual({ versions: 2, markers: 0, uploads: 0 });

    world.sandbox.clock.advance(16 * 60_000);
    const settled = await world.disconnect(id, true);
    expect(settled.statusCode).toBe(200);
    const day = 86_400_000;
    const at = (ms: number) => new Date(ms).toISOString();
    const now = world.clock.now();
    const { retention, pipeline } = world.settings;
    expect(bodyOf(settled)).toEqual({
      customerId: id,
      status: 'REVOKED',
      purged: {
        objects: 0,
        records: 0,
        complete: true,
        // Nothing the API can delete is left; these outlive the purge, each until its retention ends.
        remains: [
          { what: expect.stringMatching(/deleted records.*records table's point-in-time recovery/), until: at(now + 35 * day) },
          { what: expect.stringMatching(/control-table items.*control table's point-in-time recovery/), until: at(now + 35 * day) },
          { what: expect.stringMatching(/server access logs/), until: at(Math.ceil((now + day + retention.accessLogDays * day) / day) * day) },
          { what: expect.stringMatching(/CloudWatch logs/), until: at(now + (retention.logRetentionDays + 3) * day) },
          { what: expect.stringMatching(/dead-letter queues/), until: at(now + pipeline.queueRetentionDays * day) },
          { what: expect.stringMatching(/control-table items .*kept as the record of the connection/) },
        ],
      },
    });
    await world.queuedImports();
  });

  it('does not call a purge complete while S3 refuses to delete some versions; the next call deletes them', async () => {
    const { id } = await connected();
    const { s3, documents } = world.aws.clients;
    const Bucket = world.aws.resources.rawDataBucket;
    for (let i = 0; i < 3; i++) await s3.send(new PutObjectCommand({ Bucket, Key: `raw/${id}/q/${i}.json`, Body: '[]' }));
    // S3 answers DeleteObjects with 200 and a per-key error for a version it will not delete
    // (for instance AccessDenied under Object Lock): here, the first key of each request.
    const refusing = connectLocalAws(world.aws);
    refusing.s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'DeleteObjectsCommand') return next(args);
        const input = args.input as DeleteObjectsCommandInput;
        const [kept, ...rest] = input.Delete!.Objects!;
        const result = await next({ ...args, input: { ...input, Delete: { ...input.Delete, Objects: rest } } });
        (result.output as DeleteObjectsCommandOutput).Errors = [{ Key: kept.Key, VersionId: kept.VersionId, Code: 'AccessDenied', Message: 'Access Denied' }];
        return result;
      },
      { step: 'initialize' },
    );
    const deps = { ...world.manageDeps, data: new AwsCustomerDataStore(refusing.s3, Bucket, documents, world.aws.resources.recordsTable) };
    try {
      const refused = await disconnect(deps, id, { purge: true, rawPrefixes, settleMs: 0 });
      expect(refused.purged).toMatchObject({ objects: 2, failed: 1, complete: false });
      const left = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: `raw/${id}/` }));
      expect(left.Versions).toHaveLength(1);
    } finally {
      refusing.destroy();
    }
    const retried = await disconnect(world.manageDeps, id, { purge: true, rawPrefixes, settleMs: 0 });
    expect(retried.purged).toEqual({ objects: 1, records: 0, complete: true, remains: expect.any(Array) });
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: `raw/${id}/` }))).Versions).toBeUndefined();
    await world.queuedImports();
  });
});
