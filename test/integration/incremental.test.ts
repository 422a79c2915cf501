import { GetObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbRecordWriter } from '../../lambdas/adapters/raw-files';
import type { DatasetCounts } from '../../lambdas/core/ingest/complete';
import { addRecordHashes } from '../../sandbox/data/files';
import { connectWorld, type ConnectWorld } from './support/connect-world';
import { countingDocuments } from './support/counting-dynamodb';
import { crashOn, drive } from './support/drive';
import { anotherCompletedQuery, completedQuery } from './support/pipeline';

/**
 * Incremental imports (README: Incremental imports): the same customer imported again writes
 * only what is new or changed, measured on the wire by a counting DynamoDB client, and the
 * counts say so — under redelivered messages and a load that dies mid-file.
 */
let world: ConnectWorld;
let counting: ReturnType<typeof countingDocuments>;
beforeAll(async () => {
  world = await connectWorld({ sandbox: { queryDelayMs: 100 }, retry: { scheduleSeconds: [] } });
  counting = countingDocuments(world.aws, world.aws.resources.recordsTable);
});
afterAll(() => {
  counting.destroy();
  return world.stop();
});

interface Truth {
  datasets: Record<string, { records: number; uniqueRecords: number; changes: { before: number; added: number; changed: number }[] }>;
  totalRecords: number;
  uniqueRecords: number;
}

interface Manifest {
  totals: Record<string, number>;
  datasets: Record<string, DatasetCounts>;
}

const MIX = {
  'Ring.EventManager.Events': 400,
  'Ring.EventManager.DeviceEvents': 100,
  'Ring.Alarm.HistoryLog': 100,
  'Ring.Alarm.DeviceInformation': 3,
  'Ring.Alarm.HubData': 6,
};

const truthOf = (queryId: string) => world.control<Truth>('GET', `/queries/${queryId}/ground-truth`);

async function manifestOf(customerId: string, queryId: string): Promise<Manifest> {
  const object = await world.aws.clients.s3.send(new GetObjectCommand({ Bucket: world.aws.resources.rawDataBucket, Key: `raw/${customerId}/${queryId}/manifest.json` }));
  return JSON.parse(await object.Body!.transformToString()) as Manifest;
}

/** Record items per dataset, and how many of them each query wrote. */
async function tableOf(customerId: string): Promise<{ items: Record<string, number>; byQuery: Record<string, number> }> {
  const items: Record<string, number> = {};
  const byQuery: Record<string, number> = {};
  for (const dataset of Object.keys(MIX)) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await world.aws.clients.documents.send(
        new QueryCommand({ TableName: world.aws.resources.recordsTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${customerId}#${dataset}` }, ProjectionExpression: 'queryId', ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) {
        items[dataset] = (items[dataset] ?? 0) + 1;
        byQuery[item.queryId as string] = (byQuery[item.queryId as string] ?? 0) + 1;
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return { items, byQuery };
}

/** The pipeline with the counting client under the record writer; `crash` may wrap the load's collaborators. */
async function importOnce(body: unknown, options: { copies?: number; crashCheckpoints?: number[]; crashWrites?: number[] } = {}) {
  counting.reset();
  const delivered = await drive(world, [body], {
    copies: options.copies,
    crashes: {
      load: (deps) => {
        const writer = new DynamoDbRecordWriter(counting.documents, world.aws.resources.recordsTable);
        return {
          ...deps,
          writer: { write: crashOn((items) => writer.write(items), options.crashWrites ?? [], 'load: writing a batch'), existing: (keys) => writer.existing(keys) },
          store: { ...deps.store, progress: deps.store.progress.bind(deps.store), finish: deps.store.finish.bind(deps.store), saveCheckpoint: crashOn(deps.store.saveCheckpoint.bind(deps.store), options.crashCheckpoints ?? [], 'load: saving a checkpoint') },
        };
      },
    },
  });
  return { delivered, written: counting.use.itemsWritten, read: counting.use.keysRead };
}

/** The next query of the customer, past the intake's 5-minute answer cache. */
async function nextQuery(customerId: string) {
  world.sandbox.clock.advance(6 * 60_000);
  return anotherCompletedQuery(world, customerId);
}

/**
 * A query's distinct records per dataset, from the sandbox's own generator. A changed or added
 * record of a low-entropy dataset (a few devices, a few modes) can equal one that exists, so
 * what is new is a set difference, not the change log's count.
 */
function distinctRecords(queryId: string): Map<string, Set<string>> {
  const query = world.sandbox.state.queries.get(queryId)!;
  const sets = new Map<string, Set<string>>();
  for (const file of query.files) {
    const set = sets.get(file.dataset) ?? new Set<string>();
    addRecordHashes(query.spec, file, set);
    sets.set(file.dataset, set);
  }
  return sets;
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

describe('incremental imports', () => {
  it('writes nothing for an unchanged re-import, exactly the new and changed records after a data change, and keeps the counts exact under redelivery and a crash mid-file', async () => {
    const first = await completedQuery(world, { datasets: MIX, recordsPerFile: 60 }, 'incremental');
    const { customerId } = first;
    const truth1 = await truthOf(first.queryId);
    const firstRun = await importOnce(first.body);
    expect(firstRun.written).toBe(truth1.uniqueRecords);
    const manifest1 = await manifestOf(customerId, first.queryId);
    expect(manifest1.totals).toMatchObject({ records: truth1.totalRecords, recordsNew: truth1.uniqueRecords, recordsUnchanged: 0, duplicates: truth1.totalRecords - truth1.uniqueRecords });

    // The same data again, every message delivered twice at once: not one record item written.
    const second = await nextQuery(customerId);
    const truth2 = await truthOf(second.queryId);
    expect(truth2.uniqueRecords).toBe(truth1.uniqueRecords);
    const secondRun = await importOnce(second.body, { copies: 2 });
    expect(secondRun.written).toBe(0);
    expect(secondRun.read).toBeGreaterThanOrEqual(truth1.uniqueRecords);
    const manifest2 = await manifestOf(customerId, second.queryId);
    expect(manifest2.totals).toMatchObject({ records: truth2.totalRecords, recordsNew: 0, recordsUnchanged: truth2.uniqueRecords, duplicates: truth2.totalRecords - truth2.uniqueRecords });
    for (const [dataset, counts] of Object.entries(manifest2.datasets)) expect({ dataset, recordsNew: counts.recordsNew, recordsUnchanged: counts.recordsUnchanged }).toEqual({ dataset, recordsNew: 0, recordsUnchanged: truth2.datasets[dataset].uniqueRecords });
    expect((await tableOf(customerId)).byQuery).toEqual({ [first.queryId]: truth1.uniqueRecords });

    // The customer's data changes: 5 % new records, 1 % changed. Loads die mid-file (after a
    // batch is written, before its checkpoint; and before a write) and are delivered again.
    const sandboxCustomer = (await world.control<{ customerId: string }>('GET', `/queries/${first.queryId}`)).customerId;
    await world.control('POST', `/customers/${sandboxCustomer}/data-changes`, { addPercent: 5, changePercent: 1 });
    const third = await nextQuery(customerId);
    const truth3 = await truthOf(third.queryId);
    const changes = Object.fromEntries(Object.entries(truth3.datasets).map(([dataset, counts]) => [dataset, sum(counts.changes.map((change) => change.added + change.changed))]));
    expect(changes['Ring.EventManager.Events']).toBe(24);
    const [records1, records3] = [distinctRecords(first.queryId), distinctRecords(third.queryId)];
    const newRecords = Object.fromEntries([...records3].map(([dataset, set]) => [dataset, [...set].filter((hash) => !records1.get(dataset)?.has(hash)).length]));
    const expectedNew = sum(Object.values(newRecords));
    expect(expectedNew).toBeGreaterThan(sum(Object.values(changes)) * 0.9);
    const thirdRun = await importOnce(third.body, { crashCheckpoints: [3, 7], crashWrites: [2] });
    expect(thirdRun.delivered.failed).toBe(3);
    expect(thirdRun.written).toBe(expectedNew);
    const manifest3 = await manifestOf(customerId, third.queryId);
    expect(manifest3.totals).toMatchObject({ records: truth3.totalRecords, recordsNew: expectedNew, recordsUnchanged: truth3.uniqueRecords - expectedNew, duplicates: truth3.totalRecords - truth3.uniqueRecords });
    for (const [dataset, counts] of Object.entries(manifest3.datasets)) expect({ dataset, recordsNew: counts.recordsNew }).toEqual({ dataset, recordsNew: newRecords[dataset] });

    // The table is the union of every version: a changed record is a new item, its old version stays.
    const table = await tableOf(customerId);
    expect(table.items).toEqual(Object.fromEntries(Object.entries(truth1.datasets).map(([dataset, counts]) => [dataset, counts.uniqueRecords + newRecords[dataset]])));
    expect(table.byQuery).toEqual({ [first.queryId]: truth1.uniqueRecords, [third.queryId]: expectedNew });

    // A late copy of every finished load message: nothing read, nothing written.
    const again = await importOnce(third.body, { copies: 2 });
    expect(again).toMatchObject({ written: 0, read: 0 });
    expect(await tableOf(customerId)).toEqual(table);
    expect((await manifestOf(customerId, third.queryId)).totals).toEqual(manifest3.totals);
  });
});
