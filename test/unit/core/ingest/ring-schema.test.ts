import { DATASET_NAMES } from '../../../../lambdas/core/ingest/datasets';
import { bothAccept, compileRingSchema, MAX_SCHEMA_BYTES } from '../../../../lambdas/core/ingest/ring-schema';
import { recordAt, schemaText } from '../../../../sandbox/data/files';

const listOf = (items: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', title: 'T', type: 'array', items, ...extra });

describe("Ring's schema files (ajv)", () => {
  it.each(DATASET_NAMES)('compile the sandbox schema of %s and accept every record it generates', (dataset) => {
    const schema = compileRingSchema(schemaText(dataset));
    expect(schema.problem).toBeUndefined();
    const spec = { seed: 'ajv', windowStart: Date.parse('2026-01-01'), windowEnd: Date.parse('2026-03-01'), counts: { [dataset]: 200 }, recordsPerFile: 200, malformed: [] };
    for (let i = 0; i < 200; i++) {
      const reason = schema.check!(recordAt(spec, dataset, i));
      if (reason) throw new Error(`${dataset} #${i}: ${reason}`);
    }
  });

  it('check each element of a list schema, with references resolved against the whole file', () => {
    const schema = compileRingSchema(listOf({ $ref: '#/definitions/event' }, { definitions: { event: { type: 'object', required: ['eventDate'], properties: { eventDate: { type: 'string', format: 'date-time' }, duration: { type: 'integer' } } } } }));
    expect(schema.check!({ eventDate: '2026-01-01T00:00:00Z', duration: 3 })).toBeUndefined();
    expect(schema.check!({ eventDate: 'yesterday' })).toMatch(/record\/eventDate must match format "date-time"/);
    expect(schema.check!({ duration: 3 })).toMatch(/must have required property 'eventDate'/);
    expect(schema.check!({ eventDate: '2026-01-01T00:00:00Z', duration: 'long' })).toMatch(/record\/duration must be integer/);
  });

  it('accept a schema of one record, and draft 2020-12', () => {
    const one = compileRingSchema(JSON.stringify({ type: 'object', properties: { a: { type: 'number' } } }));
    expect(one.check!({ a: 1 })).toBeUndefined();
    expect(one.check!({ a: '1' })).toMatch(/must be number/);
    const modern = compileRingSchema(listOf({ type: 'object', properties: { a: { type: 'number' } } }, { $schema: 'https://json-schema.org/draft/2020-12/schema' }));
    expect(modern.check!({ a: 'x' })).toMatch(/must be number/);
  });

  it.each([
    ['missing', undefined, /no schema file/],
    ['not JSON', '{"title": ', /not valid JSON/],
    ['not an object', '[1, 2]', /not a JSON object/],
    ['a tuple', JSON.stringify({ type: 'array', items: [{ type: 'string' }] }), /neither a list of records nor a record/],
    ['too large', JSON.stringify({ type: 'object', description: 'x'.repeat(MAX_SCHEMA_BYTES) }), /over 262144 bytes/],
    ['too deep', JSON.stringify({ type: 'object', properties: { a: JSON.parse(`${'{"items":'.repeat(40)}{}${'}'.repeat(40)}`) } }), /deeper than 32/],
    ['an unbounded pattern', listOf({ type: 'object', properties: { a: { type: 'string', pattern: '^(a+)+$' } } }), /unsafe to run on untrusted data/],
    ['an unknown type', listOf({ type: 'object', properties: { a: { type: 'strng' } } }), /does not compile/],
    ['a remote reference', listOf({ $ref: 'https://example.com/schema.json' }), /does not compile/],
  ])('report a schema that is %s, instead of compiling it', (_name, text, problem) => {
    const schema = compileRingSchema(text);
    expect(schema.check).toBeUndefined();
    expect(schema.problem).toMatch(problem);
  });

  it('compile a schema once, whatever the number of files that carry it', () => {
    const text = listOf({ type: 'object' });
    expect(compileRingSchema(text)).toBe(compileRingSchema(text));
  });

  it('compile the one-pass check of a schema and a dataset once, with or without a usable schema', () => {
    const text = listOf({ type: 'object' });
    expect(bothAccept(compileRingSchema(text), 'Ring.Alarm.HubData')).toBe(bothAccept(compileRingSchema(text), 'Ring.Alarm.HubData'));
    expect(bothAccept(compileRingSchema(undefined), 'Ring.Alarm.HubData')).toBe(bothAccept(compileRingSchema('{"title": '), 'Ring.Alarm.HubData'));
  });
});
