import { GetObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DATASET_PARTITIONS } from '../lambdas/core/connections/partitions';
import type { Region } from '../lambdas/core/settings';
import { sessionCookieOf } from '../sandbox/oauth';
import type { Runtime } from './runtime';
import { sandboxCall } from './runtime';

/** Bytes a record of each dataset takes in the sandbox's files, roughly: to size a demo. */
const MIX: Record<string, { share: number; bytesPerRecord: number }> = {
  'Ring.EventManager.Events': { share: 0.62, bytesPerRecord: 570 },
  'Ring.EventManager.DeviceEvents': { share: 0.14, bytesPerRecord: 190 },
  'Ring.Alarm.HistoryLog': { share: 0.1, bytesPerRecord: 230 },
  'Ring.Alarm.SmartLightingHistoryLog': { share: 0.04, bytesPerRecord: 230 },
  'Ring.Alarm.DeviceLog': { share: 0.04, bytesPerRecord: 200 },
  'Ring.Alarm.AuditLog': { share: 0.03, bytesPerRecord: 260 },
  'Ring.Alarm.ModeSettingPreference': { share: 0.01, bytesPerRecord: 200 },
  'Ring.RGDS.DeviceLocationMapReference': { share: 0.01, bytesPerRecord: 250 },
  'Ring.Alarm.ModeSharingPreference': { share: 0.01, bytesPerRecord: 120 },
};
/** Datasets of a household, not of its history: a handful of records whatever the size. */
const FIXED = {
  'Ring.RingDeviceRegistry.Location': 2,
  'Ring.RingDeviceRegistry.Authorization': 3,
  'Ring.RingDeviceRegistry.Device': 6,
  'Ring.RingDeviceRegistry.Group': 2,
  'Ring.Alarm.DeviceInformation': 4,
  'Ring.Alarm.HubData': 9,
};

/** A realistic mix of all 15 datasets adding up to about `bytes`. */
export function datasetMix(bytes: number): Record<string, number> {
  const counts: Record<string, number> = { ...FIXED };
  for (const [dataset, { share, bytesPerRecord }] of Object.entries(MIX)) counts[dataset] = Math.max(1, Math.round((bytes * share) / bytesPerRecord));
  return counts;
}

export interface DemoCustomer {
  readonly customerId: string;
  readonly brand: 'ring' | 'blink';
  readonly region: string;
  readonly sandboxId: string;
}

/**
 * Connects one customer the way a person would: the integrator asks for a connect link, the
 * customer (already signed in at the sandbox, consent preset) follows it, Ring redirects to
 * the product's callback, which answers "Connected".
 */
export async function connectCustomer(runtime: Runtime, input: DemoCustomerInput): Promise<DemoCustomer> {
  const customer = await createSandboxCustomer(runtime, input);
  await linkCustomer(runtime, customer);
  return customer;
}

export interface DemoCustomerInput {
  readonly customerId: string;
  readonly brand: 'ring' | 'blink';
  readonly region: string;
  readonly bytes: number;
  readonly recordsPerFile: number;
}

/** The customer's account at the sandbox, with its data and its consent preset: not connected yet. */
export async function createSandboxCustomer(runtime: Runtime, input: DemoCustomerInput): Promise<DemoCustomer> {
  const customer = await sandboxCall<{ id: string }>(runtime.sandbox, 'POST', '/customers', {
    brand: input.brand,
    region: input.region,
    consent: { history: '1y', duration: '1y' },
    datasets: datasetMix(input.bytes),
    recordsPerFile: input.recordsPerFile,
    seed: input.customerId,
  });
  return { customerId: input.customerId, brand: input.brand, region: input.region, sandboxId: customer.id };
}

/** The connect flow for a customer the sandbox knows, signed in with its session there. */
export async function linkCustomer(runtime: Runtime, customer: DemoCustomer): Promise<void> {
  const account = runtime.sandbox.state.customers.get(customer.sandboxId);
  if (!account) throw new Error(`the sandbox has no customer ${customer.sandboxId} (its state was not kept: start with --reset)`);
  const link = await runtime.client.createConnectLink({ customerId: customer.customerId, brand: customer.brand, region: customer.region as Region });
  const authorize = await fetch(link.authorizeUrl, { redirect: 'manual', headers: { cookie: sessionCookieOf(account) } });
  const callback = authorize.headers.get('location');
  if (!callback?.startsWith(runtime.apiUrl)) throw new Error(`Ring's authorize page answered ${authorize.status} without a redirect to the callback`);
  const connected = await fetch(callback, { redirect: 'manual' });
  const page = await connected.text();
  if (connected.status !== 200 || !page.includes('Connected')) throw new Error(`the callback answered ${connected.status}: ${page.slice(0, 200)}`);
}

export interface Truth {
  readonly datasets: Record<string, { files: number; records: number; uniqueRecords: number }>;
  readonly files: { dataset: string; bytes: number; sha256: string; records: number; malformed?: boolean }[];
  readonly totalRecords: number;
  readonly uniqueRecords: number;
}

interface Manifest {
  readonly totals: { files: number; bytes: number; records: number; rejected: number; malformedFiles: number };
  readonly files: { n: number; dataset?: string; bytes?: number; sha256?: string; records?: number; recordsNew?: number; recordsUnchanged?: number; rejected?: number }[];
}

export interface DatasetRow {
  readonly dataset: string;
  readonly files: number;
  readonly bytes: number;
  readonly records: number;
  /** Records this query wrote, and those already stored and not written again (the manifest's counts). */
  readonly recordsNew: number;
  readonly recordsUnchanged: number;
  readonly rejects: number;
  readonly truth: { readonly files: number; readonly bytes: number; readonly records: number };
  readonly matches: boolean;
}

export interface CustomerProgress {
  readonly customerId: string;
  readonly queries: { readonly total: number; readonly done: number; readonly failed: number };
  /** The customer's first DONE query, once there is one. */
  readonly doneQueryId?: string;
  /** Where the query followed stands (the control table's status; `WAITING` before there is one). */
  readonly stage: string;
  /** How far that query's import is, 0 to 1: half for the bytes fetched, half for the records loaded (1 once DONE). */
  readonly share: number;
  /**
   * `expected` is the sandbox's ground truth once it has measured the query's files (it
   * generates each one to do so, which takes a while at hundreds of MB); until then the files
   * are those collect has listed, and bytes and records are unknown (0): what is known so far.
   */
  readonly files: { readonly listed: number; readonly fetched: number; readonly loaded: number; readonly expected: number };
  readonly bytes: { readonly fetched: number; readonly expected: number };
  readonly records: { readonly loaded: number; readonly expected: number };
  /** Whether `expected` comes from the ground truth. */
  readonly truthKnown: boolean;
}

/** What `progressFrom` reads about one query: its head item's status and its file items. */
export interface QueryItems {
  readonly id: string;
  readonly items: readonly Record<string, unknown>[];
}

/**
 * Where one customer's import stands, from the control table's items of its queries (oldest
 * first) and, when known, the ground truth of the query followed: the first DONE one, or else
 * the latest. Every count moves as files are fetched and loaded, and records at each of load's
 * checkpoints (every 1,000 records), not only when a file or the query is finished.
 */
export function progressFrom(customerId: string, queries: readonly QueryItems[], truth: Truth | undefined): CustomerProgress {
  const statusOf = (query: QueryItems) => query.items.find((item) => item.sk === 'QUERY')?.status as string | undefined;
  const done = queries.filter((query) => statusOf(query) === 'DONE');
  const followed = done[0] ?? queries[queries.length - 1];
  let listed = 0;
  let fetched = 0;
  let loaded = 0;
  let bytes = 0;
  let records = 0;
  for (const item of followed?.items ?? []) {
    if (!String(item.sk).startsWith('FILE#')) continue;
    listed++;
    if (item.sha256) {
      fetched++;
      bytes += Number(item.bytes ?? 0);
    }
    if (item.status === 'LOADED' || item.status === 'MALFORMED') loaded++;
    records += Number((item.checkpoint as { records?: number } | undefined)?.records ?? 0);
  }
  const stage = followed ? (statusOf(followed) ?? 'REQUESTED') : 'WAITING';
  const expected = truth
    ? { files: truth.files.length, bytes: truth.files.reduce((sum, file) => sum + file.bytes, 0), records: truth.totalRecords }
    : { files: listed, bytes: 0, records: 0 };
  const part = (value: number, of: number) => (of > 0 ? Math.min(1, value / of) : 0);
  return {
    customerId,
    queries: { total: queries.length, done: done.length, failed: queries.filter((query) => statusOf(query) === 'FAILED').length },
    doneQueryId: done[0]?.id,
    stage,
    share: stage === 'DONE' ? 1 : (part(bytes, expected.bytes) + part(records, expected.records)) / 2,
    files: { listed, fetched, loaded, expected: expected.files },
    bytes: { fetched: bytes, expected: expected.bytes },
    records: { loaded: records, expected: expected.records },
    truthKnown: truth !== undefined,
  };
}

/** Ground truths being measured, by query id: the progress does not wait for them. */
const measuring = new Map<string, Promise<void>>();

/** Where one customer's import stands, from the control table and the sandbox's ground truth. */
export async function progressOf(runtime: Runtime, customer: DemoCustomer, truths: Map<string, Truth>): Promise<CustomerProgress> {
  const queries = await sandboxCall<{ id: string }[]>(runtime.sandbox, 'GET', `/queries?customerId=${encodeURIComponent(customer.sandboxId)}`);
  const items: QueryItems[] = [];
  for (const query of queries) items.push({ id: query.id, items: await queryItems(runtime, `QUERY#${query.id}`) });
  const progress = progressFrom(customer.customerId, items, undefined);
  const followed = progress.doneQueryId ?? queries[queries.length - 1]?.id;
  if (!followed) return progress;
  if (progress.doneQueryId) await truthOf(runtime, followed, truths);
  else if (!truths.has(followed) && !measuring.has(followed)) {
    // Measured in the background: the first files are fetched and loaded meanwhile, and shown.
    const measured = truthOf(runtime, followed, truths).then(
      () => undefined,
      () => undefined,
    );
    measuring.set(followed, measured);
    void measured.finally(() => measuring.delete(followed));
  }
  return progressFrom(customer.customerId, items, truths.get(followed));
}

async function truthOf(runtime: Runtime, queryId: string, truths: Map<string, Truth>): Promise<Truth> {
  let truth = truths.get(queryId);
  if (!truth) {
    truth = await sandboxCall<Truth>(runtime.sandbox, 'GET', `/queries/${queryId}/ground-truth`);
    truths.set(queryId, truth);
  }
  return truth;
}

async function queryItems(runtime: Runtime, pk: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await runtime.aws.clients.documents.send(
      new QueryCommand({ TableName: runtime.aws.resources.controlTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function itemCount(runtime: Runtime, pk: string): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await runtime.aws.clients.documents.send(
      new QueryCommand({ TableName: runtime.aws.resources.recordsTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, Select: 'COUNT', ExclusiveStartKey: start }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

/**
 * One customer's import against the ground truth, per dataset: files and bytes from the DONE
 * query's manifest (each file's sha256 compared too), records from the records table (each
 * distinct record once), rejects from the manifest.
 */
export async function compareWithTruth(runtime: Runtime, customer: DemoCustomer, queryId: string, truths: Map<string, Truth>): Promise<DatasetRow[]> {
  const truth = await truthOf(runtime, queryId, truths);
  const object = await runtime.aws.clients.s3.send(new GetObjectCommand({ Bucket: runtime.aws.resources.rawDataBucket, Key: `raw/${customer.customerId}/${queryId}/manifest.json` }));
  const manifest = JSON.parse(await object.Body!.transformToString()) as Manifest;
  const rows: DatasetRow[] = [];
  for (const dataset of DATASET_PARTITIONS) {
    const truthFiles = truth.files.map((file, n) => ({ ...file, n })).filter((file) => file.dataset === dataset);
    const ours = manifest.files.filter((file) => file.dataset === dataset);
    const items = await itemCount(runtime, `${customer.customerId}#${dataset}`);
    if (truthFiles.length === 0 && ours.length === 0 && items === 0) continue;
    const sameBytes = truthFiles.every((file) => ours.some((mine) => mine.n === file.n && mine.sha256 === file.sha256 && mine.bytes === file.bytes));
    const expected = { files: truthFiles.length, bytes: truthFiles.reduce((sum, file) => sum + file.bytes, 0), records: truth.datasets[dataset]?.uniqueRecords ?? 0 };
    const row = {
      dataset,
      files: ours.length,
      bytes: ours.reduce((sum, file) => sum + (file.bytes ?? 0), 0),
      records: items,
      recordsNew: ours.reduce((sum, file) => sum + (file.recordsNew ?? 0), 0),
      recordsUnchanged: ours.reduce((sum, file) => sum + (file.recordsUnchanged ?? 0), 0),
      rejects: ours.reduce((sum, file) => sum + (file.rejected ?? 0), 0),
      truth: expected,
    };
    rows.push({ ...row, matches: sameBytes && row.files === expected.files && row.bytes === expected.bytes && row.records === expected.records });
  }
  return rows;
}
