import { DATASET_NAMES, DATASET_SCHEMAS, datasetJsonSchema, detectDataset, ISO_DATE_FORMAT } from '../../../../lambdas/core/ingest/datasets';
import { recordKey } from '../../../../lambdas/core/ingest/record-key';
import { DATASET_NAMES as SANDBOX_DATASETS } from '../../../../sandbox/data/datasets';
import { recordAt } from '../../../../sandbox/data/files';

describe('dataset schemas', () => {
  it('cover the same 15 datasets as the sandbox (and the reference)', () => {
    expect([...DATASET_NAMES].sort()).toEqual([...SANDBOX_DATASETS].sort());
  });

  it.each(DATASET_NAMES)('accept every record the sandbox generates for %s, quirks included', (dataset) => {
    const spec = { seed: 'schemas', windowStart: Date.parse('2026-01-01'), windowEnd: Date.parse('2026-03-01'), counts: { [dataset]: 300 }, recordsPerFile: 300, malformed: [] };
    for (let i = 0; i < 300; i++) {
      const record = recordAt(spec, dataset, i);
      const result = DATASET_SCHEMAS[dataset].safeParse(record);
      if (!result.success) throw new Error(`${dataset} #${i}: ${result.error.message}`);
    }
  });

  it('accept the reference’s own samples and table spellings', () => {
    expect(DATASET_SCHEMAS['Ring.Alarm.DeviceInformation'].safeParse({ locationId: '', deviceType: 'Base Station', ethMac: 'B0:09:DA:B2:75:8C' }).success).toBe(true);
    expect(DATASET_SCHEMAS['Ring.Alarm.DeviceInformation'].safeParse({ locationId: 'x', deviceType: 'Base Station', ethmac: 'B0:09:DA:1E:F1:94' }).success).toBe(true);
    expect(DATASET_SCHEMAS['Ring.EventManager.Events'].safeParse({ eventDate: '2021-07-12T01:06:45Z', expiresAt: 1631236005, endToEndEncryption: 'FALSE' }).success).toBe(true);
    expect(DATASET_SCHEMAS['Ring.EventManager.Events'].safeParse({ eventDate: '2021-07-12T01:06:45Z', expiresAt: '2021-09-10T02:06:45Z' }).success).toBe(true);
    expect(DATASET_SCHEMAS['Ring.EventManager.DeviceEvents'].safeParse({ eventDate: '2021-07-12T01:06:45Z', eventMetadata: { deviceState: 'enabled' } }).success).toBe(true);
    expect(DATASET_SCHEMAS['Ring.RingDeviceRegistry.Location'].safeParse({ latitude: 123456789, longitude: -122.4194, zipCode: '94105' }).success).toBe(true);
  });

  it('keep unknown fields and reject wrong types and missing dates', () => {
    expect(DATASET_SCHEMAS['Ring.Alarm.HubData'].parse({ deviceName: 'Alarm', brandNewField: 1 })).toEqual({ deviceName: 'Alarm', brandNewField: 1 });
    expect(DATASET_SCHEMAS['Ring.EventManager.Events'].safeParse({ duration: 0 }).success).toBe(false);
    expect(DATASET_SCHEMAS['Ring.Alarm.AuditLog'].safeParse({ eventDate: 'yesterday' }).success).toBe(false);
    expect(DATASET_SCHEMAS['Ring.RingDeviceRegistry.Group'].safeParse({ devices: 'not a list' }).success).toBe(false);
  });

  it.each(['draft-07', 'draft-2020-12'] as const)('export to JSON Schema (%s) what a refine or a finite number says in zod, for ajv to run', (target) => {
    const exported = datasetJsonSchema('Ring.EventManager.Events', target) as { $schema?: string; required: string[]; properties: Record<string, Record<string, unknown>> };
    expect(exported.$schema).toBeUndefined();
    expect(exported.required).toEqual(['eventDate']);
    expect(exported.properties.eventDate).toEqual({ type: 'string', format: ISO_DATE_FORMAT });
    expect(exported.properties.duration).toEqual({ type: 'number', minimum: -Number.MAX_VALUE, maximum: Number.MAX_VALUE });
    expect(exported.properties.expiresAt).toEqual({ anyOf: [{ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, { type: 'string', format: ISO_DATE_FORMAT }] });
  });

  it('detect the dataset from the schema title, else from the URL path', () => {
    expect(detectDataset({ schemaTitle: 'Ring.Alarm.HubData' })).toBe('Ring.Alarm.HubData');
    expect(detectDataset({ schemaTitle: 'Something', urlPath: '/ring/files/q/Ring.EventManager.DeviceEvents/0.json' })).toBe('Ring.EventManager.DeviceEvents');
    expect(detectDataset({ urlPath: '/files/Ring.EventManager.Events/0.json' })).toBe('Ring.EventManager.Events');
    expect(detectDataset({ urlPath: '/files/other/0.json' })).toBeUndefined();
  });
});

describe('recordKey', () => {
  it('is the same for the same record whatever its key order, and different for another record', () => {
    const a = recordKey('c1', 'Ring.EventManager.Events', { eventDate: '2026-01-01T00:00:00Z', b: 1, a: { y: 2, x: 1 } });
    const b = recordKey('c1', 'Ring.EventManager.Events', { a: { x: 1, y: 2 }, b: 1, eventDate: '2026-01-01T00:00:00Z' });
    expect(a).toEqual(b);
    expect(a.pk).toBe('c1#Ring.EventManager.Events');
    expect(a.sk).toMatch(/^2026-01-01T00:00:00Z#[0-9a-f]{64}$/);
    expect(recordKey('c1', 'Ring.EventManager.Events', { eventDate: '2026-01-01T00:00:00Z', b: 2 }).sk).not.toBe(a.sk);
  });

  it('uses "-" for records without an event date', () => {
    expect(recordKey('c1', 'Ring.Alarm.HubData', { deviceName: 'Alarm' }).sk).toMatch(/^-#[0-9a-f]{64}$/);
  });
});
