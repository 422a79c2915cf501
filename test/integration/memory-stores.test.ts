import { randomUUID } from 'node:crypto';
import { DynamoDbAuthorizationStateStore, DynamoDbConnectionRepository } from '../../lambdas/adapters/connection-stores';
import { DynamoDbConnectionStatusStore, DynamoDbLeaseStore, DynamoDbRateLimitStore } from '../../lambdas/adapters/dynamodb-stores';
import { SecretsManagerAdmin } from '../../lambdas/adapters/aws-admin';
import { DynamoDbCollectStore, DynamoDbCompletionStore } from '../../lambdas/adapters/ingest-store';
import { DynamoDbConnectionDirectory, DynamoDbImportHistory } from '../../lambdas/adapters/listings';
import { DynamoDbNotificationQueryStore, DynamoDbQueryRepository } from '../../lambdas/adapters/query-store';
import { SecretsManagerStore } from '../../lambdas/adapters/secrets-manager-store';
import type { ConnectionDirectory, ImportHistory } from '../../lambdas/core/connections/listing';
import type { ConnectionRecord } from '../../lambdas/core/connections/model';
import { controlTable } from '../../lambdas/core/definitions';
import type { CollectStore } from '../../lambdas/core/ingest/collect';
import type { CompletionStore } from '../../lambdas/core/ingest/complete';
import type { NotificationQueryStore } from '../../lambdas/core/notifications/handle';
import type { AuthorizationStateStore, ConnectionRepository, ConnectionStatusStore, LeaseStore, RateLimitStore, SecretAdmin, SecretStore } from '../../lambdas/core/ports';
import type { QueryRepository } from '../../lambdas/core/queries/import';
import type { QueryRecord } from '../../lambdas/core/queries/model';
import { MemoryAuthorizationStateStore, MemoryConnectionRepository, MemoryConnectionStatusStore } from '../../local/memory/connection-stores';
import { MemoryLeaseStore, MemoryRateLimitStore } from '../../local/memory/dynamodb-stores';
import { MemoryConnectionDirectory, MemoryImportHistory } from '../../local/memory/listings';
import { MemoryCollectStore, MemoryCompletionStore, MemoryNotificationQueryStore, MemoryQueryRepository } from '../../local/memory/query-stores';
import { MemorySecrets } from '../../local/memory/secrets';
import { MemoryTable } from '../../local/memory/table';
import { createTable } from '../../local/provision';
import { localAws } from './support/local-aws';

/**
 * The in-memory stores (local/memory/, the simulation's AWS) against the DynamoDB and Secrets
 * Manager adapters on the emulators: the same calls must give the same answers, conditional
 * writes and orderings included. Each scenario runs once per implementation and the
 * transcripts are compared.
 */
const aws = localAws();
afterAll(() => aws.clients.destroy());

interface Stores {
  connections: ConnectionRepository;
  status: ConnectionStatusStore;
  states: AuthorizationStateStore;
  queries: QueryRepository;
  notifications: NotificationQueryStore;
  collect: CollectStore;
  completion: CompletionStore;
  directory: ConnectionDirectory;
  history: ImportHistory;
  leases: LeaseStore;
  rates: RateLimitStore;
  secrets: SecretStore & SecretAdmin;
}

async function dynamoDb(): Promise<Stores> {
  const { documents, secretsManager } = aws.clients;
  const table = await createTable(aws.clients, controlTable, `memory-contract-${randomUUID().slice(0, 8)}`);
  const store = new SecretsManagerStore(secretsManager);
  const admin = new SecretsManagerAdmin(secretsManager);
  return {
    connections: new DynamoDbConnectionRepository(documents, table),
    status: new DynamoDbConnectionStatusStore(documents, table),
    states: new DynamoDbAuthorizationStateStore(documents, table),
    queries: new DynamoDbQueryRepository(documents, table),
    notifications: new DynamoDbNotificationQueryStore(documents, table),
    collect: new DynamoDbCollectStore(documents, table),
    completion: new DynamoDbCompletionStore(documents, table),
    directory: new DynamoDbConnectionDirectory(documents, table),
    history: new DynamoDbImportHistory(documents, table),
    leases: new DynamoDbLeaseStore(documents, table),
    rates: new DynamoDbRateLimitStore(documents, table),
    secrets: { read: (id) => store.read(id), write: (id, value, token) => store.write(id, value, token), upsert: (name, value) => admin.upsert(name, value), remove: (id) => admin.remove(id) },
  };
}

function memory(): Stores {
  const table = new MemoryTable();
  return {
    connections: new MemoryConnectionRepository(table),
    status: new MemoryConnectionStatusStore(table),
    states: new MemoryAuthorizationStateStore(table),
    queries: new MemoryQueryRepository(table),
    notifications: new MemoryNotificationQueryStore(table),
    collect: new MemoryCollectStore(table),
    completion: new MemoryCompletionStore(table),
    directory: new MemoryConnectionDirectory(table),
    history: new MemoryImportHistory(table),
    leases: new MemoryLeaseStore(table),
    rates: new MemoryRateLimitStore(table),
    secrets: new MemorySecrets(),
  };
}

/** What a call gave: its value, or the name of what it threw. */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { value: await call() };
  } catch (error) {
    return { threw: (error as Error).name };
  }
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Runs the scenario on both and expects the same transcript. */
async function same(scenario: (stores: Stores, run: string) => Promise<unknown[]>): Promise<void> {
  const run = randomUUID().slice(0, 8);
  const expected = await scenario(await dynamoDb(), run);
  const actual = await scenario(memory(), run);
  expect(actual).toEqual(expected);
}

const NOW = Date.parse('2031-01-06T12:00:00.000Z');
const iso = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();

const connection = (customerId: string, status: ConnectionRecord['status'] = 'ACTIVE'): ConnectionRecord => ({
  customerId,
  brand: 'ring',
  region: 'eu-west-1',
  scopeId: 'data-portability',
  status,
  secretId: `secret-${customerId}`,
  connectedAt: iso(0),
});

const query = (queryId: string, createdAt: string, customerId = 'c1'): QueryRecord => ({
  queryId,
  customerId,
  brand: 'ring',
  region: 'eu-west-1',
  scopeId: 'data-portability',
  status: 'REQUESTED',
  createdAt,
  attempt: 1,
});

describe('in-memory stores behave as the AWS adapters', () => {
  it('connections: put, conditional status changes, lastImport ordering, next import, purge mark, listing by status', () =>
    same(async ({ connections, status }, run) => {
      const [a, b, c] = ['a', 'b', 'c'].map((name) => `${name}-${run}`);
      const transcript: unknown[] = [];
      for (const id of [c, a, b]) await connections.put(connection(id));
      await connections.setStatus(b, 'ON_HOLD', 'held', NOW + 1, ['ACTIVE']);
      await connections.setStatus(b, 'ACTIVE', 'not from here', NOW + 2, ['REVOKED']);
      await connections.setStatus(`missing-${run}`, 'ACTIVE', 'gone', NOW);
      await status.markRelinkRequired(c, 'refused', NOW + 3);
      await status.markRelinkRequired(c, 'again', NOW + 4);
      await status.markRelinkRequired(`missing-${run}`, 'gone', NOW);
      await connections.setStatus(a, 'REVOKED', 'disconnected', NOW + 5);
      await status.markRelinkRequired(a, 'not from REVOKED', NOW + 6);
      await connections.recordImport(b, { requestedAt: iso(10), trigger: 'scheduled', state: 'REQUESTED', queryId: 'q2', updatedAt: iso(11) });
      await connections.recordImport(b, { requestedAt: iso(5), trigger: 'requested', state: 'FAILED', detail: undefined, updatedAt: iso(12) });
      await connections.recordImport(`missing-${run}`, { requestedAt: iso(1), trigger: 'scheduled', state: 'QUEUED', updatedAt: iso(1) });
      transcript.push(await connections.setNextImport(b, iso(100), undefined), await connections.setNextImport(b, iso(200), undefined), await connections.setNextImport(b, iso(300), iso(100)));
      transcript.push(await connections.setNextImport(`missing-${run}`, iso(100), undefined));
      transcript.push(await connections.markPurgeRequested(b, NOW + 20), await connections.markPurgeRequested(b, NOW + 30), await outcome(() => connections.markPurgeRequested(`missing-${run}`, NOW)));
      for (const id of [a, b, c, `missing-${run}`]) transcript.push(await connections.get(id));
      for (const state of ['ACTIVE', 'ON_HOLD', 'RELINK_REQUIRED', 'REVOKED'] as const) transcript.push((await all(connections.listByStatus(state))).map((record) => record.customerId));
      return transcript;
    }));

  it('OAuth states: written once, consumed once', () =>
    same(async ({ states }, run) => {
      const pending = { state: `s-${run}`, customerId: 'c1', brand: 'ring', region: 'eu-west-1', verifier: 'v'.repeat(43), expiresAt: NOW + 600_000 };
      return [await outcome(() => states.put(pending)), await outcome(() => states.put({ ...pending, customerId: 'other' })), await states.consume(pending.state), await states.consume(pending.state), await states.consume(`unknown-${run}`)];
    }));

  it('queries: created once, listed REQUESTED oldest first before a bound, failed and finished only from REQUESTED, completion claimed once', () =>
    same(async ({ queries, notifications }, run) => {
      const ids = ['q1', 'q2', 'q3', 'q4'].map((name) => `${name}-${run}`);
      await queries.create(query(ids[1], iso(2000)));
      await queries.create(query(ids[0], iso(1000)));
      await queries.create({ ...query(ids[0], iso(9999)), customerId: 'someone else' });
      await queries.create(query(ids[2], iso(3000)));
      // A different createdAt: DynamoDB leaves the order of index items with the same sort key unspecified.
      await queries.create(query(ids[3], iso(1500)));
      const transcript: unknown[] = [(await all(queries.listRequestedBefore(iso(2500)))).map((record) => record.queryId).filter((id) => ids.includes(id))];
      await queries.fail(ids[2], 'lost', NOW + 1);
      await queries.fail(ids[2], 'twice', NOW + 2);
      transcript.push(await notifications.finish(ids[0], 'COMPLETED', NOW + 3), await notifications.finish(ids[0], 'CANCELED', NOW + 4), await notifications.finish(ids[2], 'COMPLETED', NOW + 5), await notifications.finish(`unknown-${run}`, 'COMPLETED', NOW));
      transcript.push(await notifications.finish(ids[1], 'CANCELED', NOW + 6));
      transcript.push(await notifications.claimCompletion(ids[0], 'm1'), await notifications.claimCompletion(ids[0], 'm2'), await notifications.claimCompletion(`unknown-${run}`, 'm1'));
      await notifications.releaseCompletion(ids[0]);
      transcript.push(await notifications.claimCompletion(ids[0], 'm3'));
      for (const id of ids) transcript.push(await queries.get(id));
      transcript.push((await all(queries.listRequestedBefore(iso(5000)))).map((record) => record.queryId).filter((id) => ids.includes(id)));
      return transcript;
    }));

  it('collect and completion: COMPLETED → COLLECTING → LOADING → DONE, each only from the one before; file tasks once', () =>
    same(async ({ queries, notifications, collect, completion }, run) => {
      const id = `q-${run}`;
      const other = `other-${run}`;
      await queries.create(query(id, iso(0)));
      await queries.create(query(other, iso(0)));
      const transcript: unknown[] = [await collect.startCollecting(id, NOW)];
      await notifications.finish(id, 'COMPLETED', NOW + 1);
      transcript.push(await collect.startCollecting(id, NOW + 2), await collect.startCollecting(id, NOW + 3), await collect.startCollecting(`unknown-${run}`, NOW));
      // Where listing goes on: saved only while COLLECTING, answered by the next start.
      await collect.saveCollectFrom(id, { n: 250, pageToken: 'page-2' });
      await collect.saveCollectFrom(other, { n: 500, pageToken: 'page-3' });
      transcript.push(await collect.startCollecting(id, NOW + 4));
      const task = { queryId: id, customerId: 'c1', n: 0, pageIndex: 0, listedAt: iso(3), dataset: 'Ring.Alarm.HubData' };
      transcript.push(await collect.putTask(task), await collect.putTask({ ...task, listedAt: iso(4) }), await collect.isEnqueued(id, 0));
      await collect.markEnqueued(id, 0);
      transcript.push(await collect.isEnqueued(id, 0));
      await collect.finishCollecting(other, 7, NOW + 4);
      await collect.finishCollecting(id, 1, NOW + 5);
      transcript.push((await all(completion.listLoadingBefore(iso(1)))).map((row) => row.queryId).filter((queryId) => queryId === id || queryId === other));
      transcript.push(await completion.countLoaded(id, 0), await completion.countLoaded(id, 0), await completion.countLoaded(id, 1), await all(completion.files(id)));
      transcript.push(await completion.markDone(other, { files: 0 }, NOW + 6), await completion.markDone(id, { files: 1 }, NOW + 7), await completion.markDone(id, { files: 1 }, NOW + 8));
      await collect.fail(other, 'listing window elapsed', NOW + 9);
      transcript.push(await queries.get(id), await queries.get(other));
      return transcript;
    }));

  it('listings: connections of a status a bounded read at a time, brand filtered after the read; a customer’s queries newest first', () =>
    same(async ({ connections, directory, queries, collect, notifications, history }, run) => {
      const transcript: unknown[] = [];
      for (const [i, name] of ['d', 'a', 'c', 'b', 'e'].entries()) await connections.put({ ...connection(`${name}-${run}`), brand: i % 2 === 0 ? 'ring' : 'blink' });
      await connections.setStatus(`c-${run}`, 'REVOKED', 'disconnected', NOW);
      for (const brand of [undefined, 'blink'] as const) {
        let after: string | undefined;
        do {
          const slice = await directory.slice('ACTIVE', { after, limit: 2, brand });
          transcript.push({ brand, ids: slice.connections.map((record) => record.customerId), read: slice.read, last: slice.last });
          after = slice.last;
        } while (after !== undefined);
      }
      transcript.push(await directory.slice('REVOKED', { limit: 5 }), await directory.slice('ON_HOLD', { limit: 5 }));

      const customer = `h-${run}`;
      for (const [i, id] of ['q2', 'q0', 'q3', 'q1'].entries()) await queries.create(query(`${id}-${run}`, iso(Number(id[1]) * 1000 - i), customer));
      await queries.create(query(`elsewhere-${run}`, iso(5000)));
      await notifications.finish(`q3-${run}`, 'COMPLETED', NOW + 9000);
      await collect.startCollecting(`q3-${run}`, NOW + 9001);
      let before: { createdAt: string; queryId: string } | undefined;
      do {
        const slice = await history.slice(customer, { before, limit: 3 });
        transcript.push(slice);
        before = slice.last;
      } while (before !== undefined);
      transcript.push(await history.slice(`nobody-${run}`, { limit: 3 }));
      return transcript;
    }));

  it('leases: free or expired only, released by their holder only', () =>
    same(async ({ leases }, run) => {
      const key = `LEASE#${run}`;
      const transcript = [await leases.acquire(key, 'a', NOW, 30_000), await leases.acquire(key, 'b', NOW + 10_000, 30_000)];
      await leases.release(key, 'b');
      transcript.push(await leases.acquire(key, 'b', NOW + 20_000, 30_000), await leases.acquire(key, 'b', NOW + 30_001, 30_000));
      await leases.release(key, 'b');
      transcript.push(await leases.acquire(key, 'c', NOW + 30_002, 30_000));
      return transcript;
    }));

  it('rate-limit logs and counters: optimistic versions, a counter below its limit', () =>
    same(async ({ rates }, run) => {
      const key = `RATE#${run}`;
      const transcript: unknown[] = [await rates.readLog(key), await rates.writeLog(key, [1, 2], 0, 99), await rates.writeLog(key, [3], 0, 99)];
      const log = await rates.readLog(key);
      transcript.push(log, await rates.writeLog(key, [...log.times, 5], log.version, 99), await rates.writeLog(key, [6], log.version, 99), await rates.readLog(key));
      for (let i = 0; i < 4; i++) transcript.push(await rates.incrementBelow(`${key}#day`, 3, 99));
      return transcript;
    }));

  it('secrets: created once by name, read by name or ARN, a retried write a no-op, a write of another value under the same token refused', () =>
    same(async ({ secrets }, run) => {
      const name = `memory-contract/connections/${run}`;
      const arn = await secrets.upsert(name, 'v1');
      const token = 'a'.repeat(64);
      const transcript: unknown[] = [/-[A-Za-z0-9]{6}$/.test(arn) && arn.endsWith(`:secret:${name}${arn.slice(-7)}`)];
      const value = async (id: string) => (await secrets.read(id))?.value;
      transcript.push(await value(name), await value(arn), await outcome(() => secrets.write(arn, 'v2', token)), await value(name));
      transcript.push(await outcome(() => secrets.write(arn, 'v2', token)), await outcome(() => secrets.write(arn, 'v3', token)), await value(arn));
      transcript.push((await secrets.upsert(name, 'v4')) === arn, await value(arn));
      transcript.push(await outcome(() => secrets.write(`${name}-missing`, 'v', 'b'.repeat(64))), await secrets.read(`${name}-missing`));
      await secrets.remove(arn);
      await secrets.remove(arn);
      transcript.push(await secrets.read(name), await secrets.read(arn));
      return transcript;
    }));
});
