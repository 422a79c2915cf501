import fc from 'fast-check';
import { canonicalJson, recordKey } from '../../../../lambdas/core/ingest/record-key';

/** The definition the keys of stored records were made with; the fast version must match it. */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${reference((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('record keys', () => {
  it('canonical JSON equals the reference definition for any parsed JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const parsed = JSON.parse(JSON.stringify(value)) as unknown;
        expect(canonicalJson(parsed)).toBe(reference(parsed));
      }),
      { numRuns: 2_000 },
    );
  });

  it('is the same for the same record in any key order, and stable across versions', () => {
    const a = { eventDate: '2026-01-01T00:00:00Z', b: [1, { y: 2, x: 'é"\\n' }], a: null };
    const b = { a: null, b: [1, { x: 'é"\\n', y: 2 }], eventDate: '2026-01-01T00:00:00Z' };
    expect(recordKey('c', 'd', a)).toEqual(recordKey('c', 'd', b));
    expect(recordKey('c', 'Ring.Alarm.HubData', { deviceName: 'Alarm', status: 'ok' })).toEqual({
      pk: 'c#Ring.Alarm.HubData',
      sk: '-#462154f3809111553ba601b0985f0b8a9af81ba5dc19b045a6462f6d621bf865',
    });
  });

  it('keeps the key stored records got for a nested record with unsorted and integer-like keys', () => {
    const text = '{"eventType":"motion","eventDate":"2025-01-01T00:22:31Z","latitude":46.0415,"detections":[{"eventDate":"2025-01-01T00:22:31Z","detectionType":"package"}],"meta":{"10":"é","2":-0,"b":1e21,"a":[]}}';
    expect(recordKey('c', 'Ring.EventManager.Events', JSON.parse(text) as Record<string, unknown>).sk).toBe('2025-01-01T00:22:31Z#e8a0cc103b855f2883dc782c28e53ad4dbebc71edb20c195564a06d19ccaf6d8');
  });
});
