import fc from 'fast-check';
import { canonicalBytes } from '../../../../lambdas/core/ingest/canonical-bytes';
import { canonicalJson } from '../../../../lambdas/core/ingest/record-key';

/** What the bytes path must give whenever it answers: the canonical JSON of the parse, in UTF-8. */
function expectCanonicalOrDeclined(text: string | Buffer): 'taken' | 'declined' {
  const source = typeof text === 'string' ? Buffer.from(text) : text;
  const fast = canonicalBytes(source);
  if (fast === undefined) return 'declined';
  expect(Buffer.from(fast).toString('utf8')).toBe(canonicalJson(JSON.parse(source.toString('utf8'))));
  return 'taken';
}

const SPACES = ['', ' ', '\n', '\t', '\r\n'];

/**
 * `value` written with keys in a shuffled order (or, in nested objects, often sorted as Ring
 * writes them) and, unless `compact`, whitespace between tokens.
 */
function respell(value: unknown, pick: () => number, compact: boolean, nested = false): string {
  const space = () => (compact ? '' : SPACES[pick() % SPACES.length]);
  if (Array.isArray(value)) return `[${space()}${value.map((item) => `${space()}${respell(item, pick, compact, true)}${space()}`).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = nested && pick() % 3 !== 0 ? Object.keys(value).sort() : Object.keys(value).sort(() => (pick() % 2 === 0 ? -1 : 1));
    return `{${keys.map((key) => `${space()}${JSON.stringify(key)}${space()}:${space()}${respell((value as Record<string, unknown>)[key], pick, compact, true)}`).join(',')}${space()}}`;
  }
  return JSON.stringify(value);
}

describe('canonical JSON written from the element bytes', () => {
  it('equals canonicalJson of the parse for any JSON value, in any key order and spacing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.dictionary(fc.string({ unit: fc.constantFrom('a', 'b', 'é', 'ÿ', 'Ā', '\uffff', '😀', '\ud7ff', '\ue000'), maxLength: 8 }), fc.nat()), fc.jsonValue()), fc.infiniteStream(fc.nat()), fc.boolean(), (value, stream, compact) => {
        const numbers = stream[Symbol.iterator]();
        expectCanonicalOrDeclined(respell(JSON.parse(JSON.stringify(value)), () => numbers.next().value as number, compact));
      }),
      { numRuns: 3_000 },
    );
  });

  it('takes or declines each spelling of a number, never writing another double', () => {
    const spellings = (value: number) => {
      const plain = JSON.stringify(value);
      return [plain, `${plain}0`, `${plain}.0`, value.toExponential(), value.toFixed(Math.min(100, 20)), value.toPrecision(15), value.toPrecision(17), `-${plain}`];
    };
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.double({ min: -1e4, max: 1e4, noNaN: true }).map((n) => Math.round(n * 1e4) / 1e4)), (value) => {
        for (const spelling of spellings(value)) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(`{"n":${spelling}}`);
          } catch {
            continue;
          }
          expect(parsed).toBeDefined();
          expectCanonicalOrDeclined(`{"n":${spelling}}`);
        }
      }),
      { numRuns: 5_000 },
    );
    // The forms Ring writes are taken; the ones JSON.stringify would write otherwise are declined.
    for (const taken of ['0', '148', '-1.146', '57.8091', '1769709591', '0.000001', '-0.5', '123456789012345']) expect(expectCanonicalOrDeclined(`{"n":${taken}}`)).toBe('taken');
    for (const declined of ['-0', '1.0', '1e2', '1E2', '0.0000001', '1234567890123456', '0.1000', '100000000000000000000000']) expect(expectCanonicalOrDeclined(`{"n":${declined}}`)).toBe('declined');
  });

  it('declines what it cannot copy as it is: escapes, repeated keys, keys beyond the BMP, bytes that are not UTF-8', () => {
    expect(expectCanonicalOrDeclined('{"a":"x\\ny"}')).toBe('declined');
    expect(expectCanonicalOrDeclined('{"a":"\\u00e9"}')).toBe('declined');
    expect(expectCanonicalOrDeclined('{"a":1,"a":2}')).toBe('declined');
    expect(expectCanonicalOrDeclined('{"b":0,"a":1,"b":2}')).toBe('declined');
    // A key beyond the BMP: its UTF-8 order is not the UTF-16 order of the reference's sort.
    expect(expectCanonicalOrDeclined('{"\uffff":2,"😀":1}')).toBe('declined');
    // Invalid UTF-8 (the decode makes it U+FFFD), and an encoded lone surrogate.
    expect(expectCanonicalOrDeclined(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))).toBe('declined');
    expect(expectCanonicalOrDeclined(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]))).toBe('declined');
    // Non-ASCII text and awkward keys that sort the same way in UTF-8 and UTF-16 are taken.
    expect(expectCanonicalOrDeclined('{"é":"ß😀","10":1,"2":2,"__proto__":{"a":{},"z":[{"b":0,"c":1}]},"":null}')).toBe('taken');
    expect(expectCanonicalOrDeclined('{"b":[true,false,null],"a":""}')).toBe('taken');
    // Whitespace between tokens is dropped; inside strings it stays.
    expect(expectCanonicalOrDeclined('{"b" : [ true , false , " x y " ] ,\n "a" : "" }')).toBe('taken');
    expect(expectCanonicalOrDeclined(JSON.stringify({ eventType: 'on_demand', eventDate: '2021-07-12T01:06:45Z', detections: [{ detectionType: 'motion', eventDate: '2021-07-12T01:06:45Z' }], latitude: 77.77 }, null, 2))).toBe('taken');
    // What the reference path must do: a nested object out of order.
    expect(expectCanonicalOrDeclined('{"a":{"z":[],"b":1}}')).toBe('declined');
    expect(expectCanonicalOrDeclined('{"a":[{"b":1,"b":2}]}')).toBe('declined');
  });

  it('still takes records of a size after declining one of that size for a repeated key found mid-sort', () => {
    // The repeat is found after the sort has moved "c" up: the order kept for 3 members must stay whole.
    expect(expectCanonicalOrDeclined('{"a":1,"c":2,"a":3}')).toBe('declined');
    expect(expectCanonicalOrDeclined('{"c":1,"b":2,"a":3}')).toBe('taken');
    expect(expectCanonicalOrDeclined('{"eventType":"x","eventDate":"y","id":3}')).toBe('taken');
  });

  it('declines what is not one JSON object', () => {
    for (const text of ['', '{', '{"a":1', '{"a":1}x', '{"a":1}}', '[1,2]', '{"a" 1}', '"abc"', '1', 'null']) expect(canonicalBytes(Buffer.from(text))).toBeUndefined();
  });
});
