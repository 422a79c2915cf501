import fc from 'fast-check';
import { isIsoDate } from '../../../../lambdas/core/ingest/datasets';

/** Two digits, mostly in the field's range (up to `max`), sometimes anything from 00 to 99. */
const field = (min: number, max: number) => fc.oneof({ arbitrary: fc.integer({ min, max }), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 99 }), weight: 1 }).map((n) => String(n).padStart(2, '0'));

/** Strings in and around the one form Ring writes, fields in range or not, with spoilers. */
const nearlyIsoDates = fc
  .record({
    year: fc.oneof(fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')), fc.constantFrom('+2025', '20x5', '202')),
    month: field(1, 12),
    day: field(1, 31),
    hour: field(0, 23),
    minute: field(0, 59),
    second: field(0, 59),
    fraction: fc.oneof(fc.constant(''), fc.stringMatching(/^\.\d{0,12}$/), fc.constant('.x')),
    zone: fc.oneof(fc.constantFrom('Z', 'z', '', ' Z', 'Zx', 'UTC'), fc.tuple(fc.constantFrom('+', '-', '−'), field(0, 23), fc.constantFrom(':', ':', '', '-'), field(0, 59)).map((parts) => parts.join(''))),
    separator: fc.constantFrom('T', 'T', 'T', ' ', 't'),
  })
  .map(({ year, month, day, hour, minute, second, fraction, zone, separator }) => `${year}-${month}-${day}${separator}${hour}:${minute}:${second}${fraction}${zone}`);

describe('isIsoDate', () => {
  it('answers as Date.parse does, with or without the fast path for the common form', () => {
    fc.assert(
      fc.property(fc.oneof(nearlyIsoDates, fc.string({ maxLength: 30 })), (value) => {
        expect(isIsoDate(value)).toBe(Number.isFinite(Date.parse(value)));
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads the forms Ring writes and refuses what is not a date', () => {
    for (const date of ['2025-11-30T17:57:51Z', '2025-02-31T23:59:59.123Z', '2025-11-30T17:57:51+01:00', '2025-11-30']) expect(isIsoDate(date)).toBe(true);
    for (const date of ['2025-13-01T00:00:00Z', '2025-11-30T17:60:00Z', 'yesterday', '']) expect(isIsoDate(date)).toBe(false);
  });
});
