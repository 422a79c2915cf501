import { hash } from 'node:crypto';
import fc from 'fast-check';
import { canonicalBytes } from '../../../../lambdas/core/ingest/canonical-bytes';
import { recordDigest, recordKey } from '../../../../lambdas/core/ingest/record-key';
import { DATASET_NAMES } from '../../../../sandbox/data/datasets';
import { recordAt, type DataSpec } from '../../../../sandbox/data/files';
import { Rng } from '../../../../sandbox/random';

/** The definition the keys of stored records were made with (as in record-key.test.ts). */
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

/** The key as the records already stored got it: reference canonical JSON, sha256. */
function referenceKey(customerId: string, dataset: string, record: Record<string, unknown>): { pk: string; sk: string } {
  const eventDate = typeof record.eventDate === 'string' && record.eventDate !== '' ? record.eventDate : '-';
  return { pk: `${customerId}#${dataset}`, sk: `${eventDate}#${hash('sha256', reference(record), 'hex')}` };
}

const SPACES = [' ', '\n', '\t', '\r\n', '  '];

/**
 * Writes a JSON value as another file could spell it: keys in any order, whitespace between
 * tokens, characters as `\uXXXX` or `\/`, numbers as `1.0`, `1e2`, `-0` or all their digits,
 * and (when `duplicates`) a key given twice, the first value then overwritten by the parse.
 */
function spell(value: unknown, rng: Rng, duplicates: boolean): string {
  const space = () => (rng.chance(0.3) ? rng.pick(SPACES) : '');
  if (typeof value === 'string') return spellString(value, rng);
  if (typeof value === 'number') return spellNumber(value, rng);
  if (Array.isArray(value)) return `[${space()}${value.map((item) => `${space()}${spell(item, rng, duplicates)}${space()}`).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = shuffled(Object.keys(value), rng);
    const members = keys.map((key) => `${space()}${spellString(key, rng)}${space()}:${space()}${spell((value as Record<string, unknown>)[key], rng, duplicates)}${space()}`);
    if (duplicates && keys.length > 0 && rng.chance(0.3)) members.unshift(`${spellString(rng.pick(keys), rng)}:${rng.pick(['"overwritten"', '0', '{"a":1}', 'null'])}`);
    return `{${members.join(',')}${space()}}`;
  }
  return JSON.stringify(value);
}

function spellString(text: string, rng: Rng): string {
  let out = '"';
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (char === '/' && rng.chance(0.5)) out += '\\/';
    else if (char.length === 1 && rng.chance(0.15)) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else if (char.length === 1 && code > 0x7f && rng.chance(0.5)) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += JSON.stringify(char).slice(1, -1);
  }
  return `${out}"`;
}

/** Spellings of the same double: JSON.parse gives back exactly `value` for each. */
function spellNumber(value: number, rng: Rng): string {
  const plain = JSON.stringify(value);
  const spellings = [plain, value.toExponential(), value.toExponential().toUpperCase().replace('E+', 'E')];
  if (!plain.includes('e')) spellings.push(`${plain}${plain.includes('.') ? '0' : '.0'}`, `${plain}e0`, `${plain}E+00`);
  if (Number.isInteger(value) && Math.abs(value) >= 1e21) spellings.push(BigInt(value).toString());
  if (value === 0) spellings.push('-0', '-0.0', '0e5', '-0E-3');
  return rng.pick(spellings);
}

function shuffled<T>(items: T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Keys V8 enumerates first (array indices), keys that sort around them, and `__proto__`. */
const AWKWARD_KEYS = ['0', '1', '2', '10', '9', '01', '-1', '1.5', '4294967294', '4294967295', ' ', '!', '__proto__', 'toJSON', 'é', 'ß', '😀', 'Z', 'a'];

const extraMember = fc.tuple(
  fc.oneof(fc.constantFrom(...AWKWARD_KEYS), fc.string({ unit: 'binary', maxLength: 6 })),
  fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(Number),
    fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, Number.MAX_SAFE_INTEGER + 2, 0.1, 100),
  ),
);

const SPEC: DataSpec = { seed: 'record keys', windowStart: Date.parse('2026-01-01'), windowEnd: Date.parse('2026-03-01'), counts: Object.fromEntries(DATASET_NAMES.map((name) => [name, 1_000])), recordsPerFile: 1_000, malformed: [] };

describe('record keys of every dataset, from the element text as load computes them', () => {
  it('equal the reference keys and do not depend on how the record is spelled', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DATASET_NAMES),
        fc.nat({ max: 999 }),
        fc.array(extraMember, { maxLength: 4 }),
        fc.nat(),
        fc.boolean(),
        (dataset, i, extras, seed, duplicates) => {
          const record: Record<string, unknown> = { ...recordAt(SPEC, dataset, i) };
          for (const [key, value] of extras) Object.defineProperty(record, key, { value, enumerable: true, configurable: true, writable: true });
          const original = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
          const text = spell(original, new Rng(seed), duplicates);
          const parsed = JSON.parse(text) as Record<string, unknown>;
          const key = recordKey('customer', dataset, parsed);
          expect(key).toEqual(referenceKey('customer', dataset, parsed));
          expect(key).toEqual(referenceKey('customer', dataset, original));
          // Load's path: the canonical form written from the element's bytes, whatever their spelling.
          expect(`${key.sk.slice(0, key.sk.indexOf('#'))}#${recordDigest(parsed, Buffer.from(text))}`).toBe(key.sk);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('equal the reference keys for the sandbox’s own files, record by record', () => {
    for (const dataset of DATASET_NAMES) {
      for (let i = 0; i < 200; i++) {
        const text = JSON.stringify(recordAt(SPEC, dataset, i));
        const record = JSON.parse(text) as Record<string, unknown>;
        expect(recordKey('customer', dataset, record)).toEqual(referenceKey('customer', dataset, record));
        // The sandbox spells records as Ring does: the bytes path must take them, not fall back.
        expect(Buffer.from(canonicalBytes(Buffer.from(text)) ?? []).toString()).toBe(reference(record));
      }
    }
  });
});
