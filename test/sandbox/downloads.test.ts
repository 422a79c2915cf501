import { createHash } from 'node:crypto';
import { FAULT_PROFILES } from '../../local/faults';
import { DATASETS, type DatasetName } from '../../sandbox/data/datasets';
import { schemaText } from '../../sandbox/data/files';
import type { Sandbox } from '../../sandbox/sandbox';
import { connect, control, intake, startSandbox } from './support';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ queryDelayMs: 100 });
});
afterAll(() => sandbox.stop());
beforeEach(() => control(sandbox, 'DELETE', '/faults'));

interface GroundTruth {
  files: { id: string; dataset: string; bytes: number; sha256: string; records: number; malformed: boolean }[];
  totalRecords: number;
  uniqueRecords: number;
  datasets: Record<string, { files: number; records: number; uniqueRecords: number }>;
}

async function listed(customer: Record<string, unknown> = {}) {
  const { tokens } = await connect(sandbox, { customer });
  const { body } = await intake(sandbox, 'POST', '/data-portability/data-queries', { token: tokens.access_token });
  const queryId = String(body.id);
  await control(sandbox, 'POST', '/clock/advance', { ms: 100 });
  const list = await intake(sandbox, 'GET', `/data-portability/data-queries/${queryId}/records`, { token: tokens.access_token });
  const truth = await control<GroundTruth>(sandbox, 'GET', `/queries/${queryId}/ground-truth`);
  return { queryId, records: list.body.records as { schema: string; file: string }[], truth };
}

describe('file downloads', () => {
  it('serves every listed file byte for byte as the ground truth says, with a JSON Schema beside it', async () => {
    const { records, truth } = await listed({ datasets: { 'Ring.EventManager.Events': 30, 'Ring.Alarm.DeviceInformation': 5, 'Ring.RingDeviceRegistry.Location': 1 }, recordsPerFile: 20 });
    expect(records).toHaveLength(truth.files.length);
    expect(truth.files.map((file) => file.id)).toEqual(['Ring.EventManager.Events/0', 'Ring.EventManager.Events/1', 'Ring.RingDeviceRegistry.Location/0', 'Ring.Alarm.DeviceInformation/0']);
    for (const [index, record] of records.entries()) {
      const url = new URL(record.file);
      expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
      expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
      expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);

      const response = await fetch(record.file);
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
      expect({ bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({
        bytes: truth.files[index].bytes,
        sha256: truth.files[index].sha256,
      });
      const parsed = JSON.parse(bytes.toString('utf8')) as unknown[];
      expect(parsed).toHaveLength(truth.files[index].records);

      const schema = (await (await fetch(record.schema)).json()) as { title: string; type: string };
      expect(schema).toMatchObject({ title: truth.files[index].dataset, type: 'array' });
    }
    expect(truth.totalRecords).toBe(36);
    expect(truth.datasets['Ring.EventManager.Events']).toEqual({ files: 2, records: 30, uniqueRecords: 30, changes: [] });
  });

  it('expires a URL after 5 minutes with S3’s XML AccessDenied "Request has expired"', async () => {
    const { records } = await listed();
    const fresh = await fetch(records[0].file);
    expect(fresh.status).toBe(200);
    // Read every response to its end: an unread body holds its connection open past the test.
    await fresh.arrayBuffer();
    await control(sandbox, 'POST', '/clock/advance', { seconds: 301 });
    const response = await fetch(records[0].file);
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBe('application/xml');
    const xml = await response.text();
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code><Message>Request has expired<\/Message><X-Amz-Expires>300<\/X-Amz-Expires>/);
  });

  it('checks the signature: a tampered URL is SignatureDoesNotMatch', async () => {
    const { records } = await listed();
    const tampered = records[0].file.replace('X-Amz-Expires=300', 'X-Amz-Expires=3000');
    const response = await fetch(tampered);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('serves byte ranges', async () => {
    const { records, truth } = await listed();
    const whole = Buffer.from(await (await fetch(records[0].file)).arrayBuffer());
    const part = await fetch(records[0].file, { headers: { range: 'bytes=10-' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-${truth.files[0].bytes - 1}/${truth.files[0].bytes}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(whole.subarray(10));
  });

  it('reads Range as S3 does, for a schema as for a data file: one range served (206), an unreadable one ignored (200), one past the end refused (416)', async () => {
    const { records } = await listed({ datasets: { 'Ring.EventManager.Events': 50 } });
    for (const url of [records[0].file, records[0].schema]) {
      const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
      const answer = async (range: string) => {
        const response = await fetch(url, { headers: { range } });
        const body = Buffer.from(await response.arrayBuffer());
        return { status: response.status, contentRange: response.headers.get('content-range'), body: response.status === 416 ? 'refused' : body.equals(whole) ? 'whole' : body.toString('latin1') };
      };
      expect(await answer('bytes=0-9')).toEqual({ status: 206, contentRange: `bytes 0-9/${whole.length}`, body: whole.subarray(0, 10).toString('latin1') });
      expect(await answer('bytes=-5')).toEqual({ status: 206, contentRange: `bytes ${whole.length - 5}-${whole.length - 1}/${whole.length}`, body: whole.subarray(-5).toString('latin1') });
      for (const ignored of ['bytes=5-2', 'bytes=0-0,5-6', 'items=0-9', 'bytes=-']) expect(await answer(ignored)).toEqual({ status: 200, contentRange: null, body: 'whole' });
      for (const refused of [`bytes=${whole.length}-`, 'bytes=-0']) expect(await answer(refused)).toEqual({ status: 416, contentRange: `bytes */${whole.length}`, body: 'refused' });
    }
  });

  it('cuts a download after N bytes when told to', async () => {
    const { records } = await listed({ datasets: { 'Ring.EventManager.Events': 500 } });
    await control(sandbox, 'PUT', '/faults', { rules: [{ operation: 'download', nth: [1], cutAfterBytes: 1000 }] });
    const response = await fetch(records[0].file);
    const declared = Number(response.headers.get('content-length'));
    expect(declared).toBeGreaterThan(1000);
    await expect(response.arrayBuffer()).rejects.toThrow();
    // The next attempt is whole.
    expect(Buffer.from(await (await fetch(records[0].file)).arrayBuffer())).toHaveLength(declared);
  });

  it('cuts a schema download too: it is an S3 object like the data file', async () => {
    const { records } = await listed({ datasets: { 'Ring.EventManager.Events': 5 } });
    await control(sandbox, 'PUT', '/faults', { rules: [{ operation: 'download', nth: [1], cutAfterBytes: 1 }] });
    const response = await fetch(records[0].schema);
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(1);
    await expect(response.arrayBuffer()).rejects.toThrow();
    expect(await control(sandbox, 'GET', '/faults/counts')).toMatchObject({ downloads: { cut: 1, refused: {} } });
    expect(await (await fetch(records[0].schema)).json()).toMatchObject({ title: 'Ring.EventManager.Events' });
  });

  it('a cut at the last byte or past it cuts nothing, and is not counted', async () => {
    const { records } = await listed({ datasets: { 'Ring.EventManager.Events': 5 } });
    const whole = Buffer.from(await (await fetch(records[0].file)).arrayBuffer());
    const schema = Buffer.from(await (await fetch(records[0].schema)).arrayBuffer());
    await control(sandbox, 'PUT', '/faults', { rules: [{ operation: 'download', nth: [1, 2], cutAfterBytes: whole.length }] });
    expect(Buffer.from(await (await fetch(records[0].file)).arrayBuffer())).toEqual(whole);
    expect(Buffer.from(await (await fetch(records[0].schema)).arrayBuffer())).toEqual(schema);
    expect(await control(sandbox, 'GET', '/faults/counts')).toMatchObject({ downloads: { cut: 0 } });
  });

  it('the flaky profile (npm start --faults flaky) cuts inside every schema file, not only data files', () => {
    const cut = FAULT_PROFILES.flaky.find((rule) => 'cutAfterBytes' in rule) as { cutAfterBytes: number };
    const smallest = Math.min(...Object.keys(DATASETS).map((dataset) => Buffer.byteLength(schemaText(dataset as DatasetName))));
    expect(cut.cutAfterBytes).toBeLessThan(smallest);
  });

  it('refuses or cuts a download, never both: the rule listed last decides', async () => {
    const { records } = await listed({ datasets: { 'Ring.EventManager.Events': 500 } });
    await control(sandbox, 'PUT', '/faults', {
      rules: [
        { operation: 'download', nth: [1, 2], downloadError: 'InternalError' },
        { operation: 'download', nth: [1], cutAfterBytes: 1000 },
        { operation: 'download', nth: [2], cutAfterBytes: 1000 },
        { operation: 'download', nth: [2], downloadError: 'SlowDown' },
      ],
    });
    const first = await fetch(records[0].file);
    expect(first.status).toBe(200);
    await expect(first.arrayBuffer()).rejects.toThrow();
    expect((await fetch(records[0].file)).status).toBe(503);
    expect(await control(sandbox, 'GET', '/faults/counts')).toMatchObject({ downloads: { cut: 1, refused: { SlowDown: 1 } } });
  });

  it('injects S3 errors into downloads', async () => {
    const { records } = await listed();
    await control(sandbox, 'PUT', '/faults', { rules: [{ operation: 'download', nth: [1], downloadError: 'SlowDown' }] });
    const response = await fetch(records[0].file);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('<Code>SlowDown</Code>');
  });

  it('serves the reference’s malformed HistoryLog on demand: the file is not valid JSON', async () => {
    const { records, truth } = await listed({ datasets: { 'Ring.Alarm.HistoryLog': 4 }, malformed: ['Ring.Alarm.HistoryLog'] });
    expect(truth.files[0].malformed).toBe(true);
    const text = await (await fetch(records[0].file)).text();
    expect(() => JSON.parse(text) as unknown).toThrow();
    expect(text.split('\n')[2]).toMatch(/^\{.*[^},]$/); // the second object lost its closing "},"
  });
});
