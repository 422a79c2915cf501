import fc from 'fast-check';
import { DATASET_NAMES, DATASET_SCHEMAS, type DatasetName } from '../../../../lambdas/core/ingest/datasets';
import { recordValidator } from '../../../../lambdas/core/ingest/load';
import { bothAccept, compileRingSchema } from '../../../../lambdas/core/ingest/ring-schema';
import { DATASETS } from '../../../../sandbox/data/datasets';
import { recordAt, schemaText } from '../../../../sandbox/data/files';

/** The sandbox's schema file of a dataset, in another dialect of JSON Schema. */
const inDialect = (dataset: DatasetName, $schema: string) => JSON.stringify({ ...JSON.parse(schemaText(dataset)), $schema });

const SCHEMA_FILES: [string, (dataset: DatasetName) => string | undefined][] = [
  ['the sandbox’s schema file (draft-07)', schemaText],
  ['no schema file', () => undefined],
  ['a 2020-12 schema file', (dataset) => inDialect(dataset, 'https://json-schema.org/draft/2020-12/schema')],
  ['a 2019-09 schema file', (dataset) => inDialect(dataset, 'https://json-schema.org/draft/2019-09/schema')],
  ['a draft-07 schema of one record, every field required', (dataset) => JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: DATASETS[dataset].properties, required: Object.keys(DATASETS[dataset].properties) })],
];

/** Values a JSON record can hold that our schemas or Ring's treat as edge cases (±Infinity: what JSON.parse makes of `1e400`). */
const oddValue = fc.oneof(
  fc.constantFrom('2026-13-45', '', 'TRUE', 'FALSE', 'true', 'yes', '2026-01-01', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.123+02:00', 'Thu, 01 Jan 2026 00:00:00 GMT', '1', 'B0:09:DA:B2:75:8C'),
  fc.constantFrom(-1, 1.5, 0, -0, 2 ** 53, 2 ** 53 - 1, 1631236005, -1631236005.5, Infinity, -Infinity),
  fc.constantFrom(null, true, false, [], {}, [{}], ['a'], [1], [{ eventDate: 'nope' }], [{ eventDate: '2026-01-01T00:00:00Z' }], { eventDate: 'x' }),
  fc.string({ maxLength: 12 }),
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.jsonValue({ maxDepth: 2 }),
);

type Mutation = (record: Record<string, unknown>) => void;

/** Changes to a valid record: a field set to an odd value or removed, at the top or in an element of one of its arrays. */
function mutation(dataset: DatasetName): fc.Arbitrary<Mutation> {
  const fields = [...new Set([...Object.keys(DATASETS[dataset].properties), 'eventDate', 'detectionType', 'extraField'])];
  const field = fc.constantFrom(...fields);
  return fc.oneof(
    fc.tuple(field, oddValue).map(([name, value]): Mutation => (record) => void (record[name] = value)),
    field.map((name): Mutation => (record) => void delete record[name]),
    fc.tuple(field, field, oddValue).map(([list, name, value]): Mutation => (record) => {
      const element: unknown = Array.isArray(record[list]) ? (record[list] as unknown[])[0] : undefined;
      if (element !== null && typeof element === 'object' && !Array.isArray(element)) (element as Record<string, unknown>)[name] = value;
    }),
  );
}

function records(dataset: DatasetName): fc.Arbitrary<Record<string, unknown>> {
  const valid = fc.tuple(fc.string({ maxLength: 6 }), fc.nat(10_000)).map(([seed, i]) =>
    recordAt({ seed, windowStart: Date.parse('2026-01-01'), windowEnd: Date.parse('2026-03-01'), counts: { [dataset]: 10_001 }, recordsPerFile: 1_000, malformed: [] }, dataset, i),
  );
  return fc.tuple(valid, fc.array(mutation(dataset), { maxLength: 3 })).map(([record, mutations]) => {
    const copy = structuredClone(record);
    for (const mutate of mutations) mutate(copy);
    return copy;
  });
}

describe('one pass of validation (Ring’s schema and ours in one ajv call)', () => {
  describe.each(SCHEMA_FILES)('with %s', (_name, schemaFile) => {
    it.each(DATASET_NAMES)('accepts a record of %s exactly when Ring’s ajv check and zod both accept it', (dataset) => {
      const ring = compileRingSchema(schemaFile(dataset));
      const accepts = bothAccept(ring, dataset);
      fc.assert(
        fc.property(records(dataset), (record) => {
          const expected = ring.check?.(record) === undefined && DATASET_SCHEMAS[dataset].safeParse(record).success;
          expect(accepts(record)).toBe(expected);
        }),
        { numRuns: 300 },
      );
    });
  });

  it('checks a record of an unknown dataset by Ring’s schema alone, and accepts any object without one', () => {
    const ring = compileRingSchema(schemaText('Ring.Alarm.AuditLog'));
    expect(bothAccept(ring, 'Ring.Alarm.AuditLog')({ locationId: 'x' })).toBe(false);
    expect(bothAccept(ring, undefined)({ locationId: 'x' })).toBe(true);
    expect(bothAccept(ring, undefined)({ locationId: 7 })).toBe(false);
    expect(bothAccept(compileRingSchema(undefined), undefined)({ locationId: 7 })).toBe(true);
  });
});

describe('reasons of a refused record', () => {
  const events = 'Ring.EventManager.Events';
  const valid = { eventDate: '2026-01-01T00:00:00Z', duration: 3 };

  it('name Ring’s schema alone when only it refuses', () => {
    const validate = recordValidator(events, compileRingSchema(JSON.stringify({ type: 'object', required: ['status'] })));
    expect(validate(valid)).toEqual({ ringSchema: "record must have required property 'status'" });
  });

  it('name ours alone when only zod refuses, with zod’s message', () => {
    const validate = recordValidator(events, compileRingSchema(schemaText(events)));
    const reasons = validate({ ...valid, expiresAt: -5 });
    expect(Object.keys(reasons ?? {})).toEqual(['zod']);
    expect(reasons?.zod).toMatch(/expiresAt/);
    expect(validate({ ...valid, eventDate: '2026-13-45' })?.zod).toMatch(/must be an ISO-8601 date/);
  });

  it('name both when both refuse, and ours alone without a usable schema file', () => {
    const record = { eventDate: '2026-01-01T00:00:00Z', duration: 'long' };
    expect(recordValidator(events, compileRingSchema(schemaText(events)))(record)).toEqual({ ringSchema: 'record/duration must be integer', zod: expect.stringMatching(/duration/) });
    expect(recordValidator(events, compileRingSchema(undefined))(record)).toEqual({ zod: expect.stringMatching(/expected number/) });
  });

  it('refuse what is not a JSON object, and accept what both accept', () => {
    const validate = recordValidator(events, compileRingSchema(schemaText(events)));
    expect(validate([valid])).toEqual({ zod: 'not a JSON object' });
    expect(validate(valid)).toBeUndefined();
    expect(recordValidator('Unknown', compileRingSchema(undefined))({ anything: 1 })).toBeUndefined();
  });
});
