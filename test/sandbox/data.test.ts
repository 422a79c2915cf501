import { DATASET_NAMES, DATASETS, schemaFor } from '../../sandbox/data/datasets';
import { canonicalJson, fileStream, planFiles, recordAt, type DataSpec } from '../../sandbox/data/files';

const spec = (counts: DataSpec['counts'], extra: Partial<DataSpec> = {}): DataSpec => ({
  seed: 'customer-1',
  windowStart: Date.parse('2026-09-01T00:00:00Z'),
  windowEnd: Date.parse('2026-10-01T00:00:00Z'),
  counts,
  recordsPerFile: 1_000,
  malformed: [],
  ...extra,
});

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
}

describe('data generator', () => {
  it('covers the 15 datasets of the reference, each with a schema titled by its name', () => {
    expect(DATASET_NAMES).toHaveLength(15);
    for (const name of DATASET_NAMES) expect(schemaFor(name)).toMatchObject({ title: name, type: 'array', items: { type: 'object' } });
  });

  it('is deterministic: the same seed gives the same bytes, another seed other bytes', async () => {
    const counts = Object.fromEntries(DATASET_NAMES.map((name) => [name, 20]));
    const a = planFiles(spec(counts));
    const once = await Promise.all(a.map((file) => text(fileStream(spec(counts), file))));
    const twice = await Promise.all(a.map((file) => text(fileStream(spec(counts), file))));
    expect(twice).toEqual(once);
    const other = await text(fileStream(spec(counts, { seed: 'customer-2' }), a[0]));
    expect(other).not.toEqual(once[0]);
  });

  it('adds and changes exactly the asked share of records, seeded, without moving the dates of existing ones', () => {
    const counts = { 'Ring.EventManager.Events': 400, 'Ring.Alarm.AuditLog': 200 } as const;
    const before = spec(counts);
    const after = spec(counts, { changes: [{ addPercent: 5, changePercent: 1 }] });
    for (const [name, count] of Object.entries(counts) as [keyof typeof counts, number][]) {
      const old = Array.from({ length: count }, (_, i) => recordAt(before, name, i));
      const now = Array.from({ length: count + count * 0.05 }, (_, i) => recordAt(after, name, i));
      expect(planFiles(after).filter((file) => file.dataset === name).reduce((sum, file) => sum + file.recordCount, 0)).toBe(count * 1.05);
      const changed = old.filter((record, i) => canonicalJson(record) !== canonicalJson(now[i]));
      expect(changed).toHaveLength(count * 0.01);
      expect(now.slice(0, count).map((record) => record.eventDate)).toEqual(old.map((record) => record.eventDate));
      const oldSet = new Set(old.map(canonicalJson));
      expect(now.filter((record) => !oldSet.has(canonicalJson(record)))).toHaveLength(count * 0.06);
      expect(Array.from({ length: count * 1.05 }, (_, i) => canonicalJson(recordAt(after, name, i)))).toEqual(now.map(canonicalJson));
    }
    // A second change builds on the first: 10 % of 420 added, 5 % of 420 changed (some changed again).
    const twice = spec(counts, { changes: [{ addPercent: 5, changePercent: 1 }, { addPercent: 10, changePercent: 5 }] });
    expect(planFiles(twice).filter((file) => file.dataset === 'Ring.EventManager.Events').reduce((sum, file) => sum + file.recordCount, 0)).toBe(462);
    const afterFirst = Array.from({ length: 420 }, (_, i) => canonicalJson(recordAt(after, 'Ring.EventManager.Events', i)));
    expect(afterFirst.filter((record, i) => record !== canonicalJson(recordAt(twice, 'Ring.EventManager.Events', i)))).toHaveLength(21);
  });

  it('dates every dated record inside the chosen history window', () => {
    const s = spec({ 'Ring.EventManager.Events': 500, 'Ring.Alarm.AuditLog': 50 }, { changes: [{ addPercent: 20, changePercent: 0 }] });
    for (const name of ['Ring.EventManager.Events', 'Ring.Alarm.AuditLog'] as const) {
      for (let i = 0; i < (s.counts[name] ?? 0) * 1.2; i++) {
        const at = Date.parse(String(recordAt(s, name, i).eventDate));
        expect(at).toBeGreaterThanOrEqual(s.windowStart);
        expect(at).toBeLessThanOrEqual(s.windowEnd);
      }
    }
    expect(DATASETS['Ring.Alarm.HubData'].dated).toBe(false);
  });

  it('reproduces the quirks the reference lists', () => {
    const s = spec({ 'Ring.Alarm.DeviceInformation': 200, 'Ring.EventManager.Events': 200, 'Ring.EventManager.DeviceEvents': 20, 'Ring.Alarm.HistoryLog': 200 });
    const info = Array.from({ length: 200 }, (_, i) => recordAt(s, 'Ring.Alarm.DeviceInformation', i));
    expect(info.some((record) => 'ethMac' in record)).toBe(true);
    expect(info.some((record) => 'ethmac' in record)).toBe(true);
    const events = Array.from({ length: 200 }, (_, i) => recordAt(s, 'Ring.EventManager.Events', i));
    expect(events.some((record) => typeof record.expiresAt === 'number')).toBe(true);
    expect(events.some((record) => typeof record.expiresAt === 'string')).toBe(true);
    expect(events.some((record) => !('securityAlerts' in record))).toBe(true); // optional fields absent
    expect(Array.isArray(recordAt(s, 'Ring.EventManager.DeviceEvents', 0).eventMetadata)).toBe(true);
    const history = Array.from({ length: 200 }, (_, i) => recordAt(s, 'Ring.Alarm.HistoryLog', i));
    expect(history.every((record) => /\.00Z$/.test(String(record.eventDate)))).toBe(true);
    expect(history.some((record) => !('impulseTypes' in record))).toBe(true);
  });

  it('splits a large dataset across files of recordsPerFile records', () => {
    const files = planFiles(spec({ 'Ring.EventManager.Events': 2_500 }, { recordsPerFile: 1_000 }));
    expect(files.map((file) => [file.id, file.firstRecord, file.recordCount])).toEqual([
      ['Ring.EventManager.Events/0', 0, 1_000],
      ['Ring.EventManager.Events/1', 1_000, 1_000],
      ['Ring.EventManager.Events/2', 2_000, 500],
    ]);
  });

  it('writes a valid JSON array with one record per element', async () => {
    const s = spec({ 'Ring.RingDeviceRegistry.Device': 3 });
    const parsed = JSON.parse(await text(fileStream(s, planFiles(s)[0]))) as unknown[];
    expect(parsed).toEqual([0, 1, 2].map((i) => recordAt(s, 'Ring.RingDeviceRegistry.Device', i)));
  });
});
