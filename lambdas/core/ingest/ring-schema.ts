import { createHash } from 'node:crypto';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import secureMetaSchema from 'ajv/lib/refs/json-schema-secure.json';
import { datasetJsonSchema, ISO_DATE_FORMAT, isIsoDate, type DatasetName, type JsonSchemaTarget } from './datasets';

/**
 * Ring's schema file beside each data file, compiled with ajv to check every record. The file
 * comes from outside, so it is treated as untrusted (ajv's own advice): it must be small,
 * shallow, and pass ajv's security meta-schema (no unbounded `pattern`, `patternProperties` or
 * `uniqueItems` on objects); formats are ajv-formats' own linear checks. A schema that does not
 * qualify is reported and the records are checked by our schemas alone.
 *
 * Our zod schema of the dataset is run by ajv too, exported to JSON Schema and compiled with
 * Ring's under `allOf`, so that a record is walked once by one compiled function (`bothAccept`).
 * Only a record that fails is checked again by each side alone, to say which refused and why.
 */

/** Checks one record: undefined when it conforms, else the reason. */
export type RecordCheck = (record: unknown) => string | undefined;

/** Whether a record conforms, without the reason: one call of a compiled ajv function. */
export type RecordTest = (record: unknown) => boolean;

export type RingSchema =
  | {
      readonly check: RecordCheck;
      readonly problem?: undefined;
      /** Ring's record schema and our schema of `dataset` (if known) in one compiled check. */
      readonly withOurs: (dataset: DatasetName | undefined) => RecordTest;
    }
  | { readonly check?: undefined; readonly problem: string };

/** Schema files larger than this are not compiled. */
export const MAX_SCHEMA_BYTES = 256 * 1024;
const MAX_SCHEMA_DEPTH = 32;
const CACHE_SIZE = 32;

const cache = new Map<string, RingSchema>();
let secureCheck: ValidateFunction | undefined;
let oursAlone: ((dataset: DatasetName) => RecordTest) | undefined;

/**
 * One compiled check of a record by Ring's schema (when usable) and our schema of the dataset
 * (when known): true when both accept it. Compiled once per schema file and dataset.
 */
export function bothAccept(ringSchema: RingSchema, dataset: DatasetName | undefined): RecordTest {
  if (ringSchema.check) return ringSchema.withOurs(dataset);
  if (!dataset) return () => true;
  oursAlone ??= perDataset(ajvFor(undefined), (ours) => ours);
  return oursAlone(dataset);
}

/** Compiles a schema file's text (cached by content: the 15 datasets repeat across files). */
export function compileRingSchema(text: string | undefined): RingSchema {
  if (text === undefined) return { problem: 'no schema file' };
  const id = createHash('sha256').update(text).digest('hex');
  const cached = cache.get(id);
  if (cached) return cached;
  const compiled = compile(text);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(id, compiled);
  return compiled;
}

function compile(text: string): RingSchema {
  if (Buffer.byteLength(text) > MAX_SCHEMA_BYTES) return { problem: `schema file is over ${MAX_SCHEMA_BYTES} bytes` };
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return { problem: 'schema file is not valid JSON' };
  }
  if (!isObject(root)) return { problem: 'schema file is not a JSON object' };
  if (depth(root) > MAX_SCHEMA_DEPTH) return { problem: `schema nests deeper than ${MAX_SCHEMA_DEPTH} levels` };
  const unsafe = unsafeKeywords(root);
  if (unsafe) return { problem: `schema is unsafe to run on untrusted data: ${unsafe}` };

  // A file's schema describes the file: a list of records (`type: array`, `items`), or one record.
  const recordPointer = isObject(root.items) ? '#/items' : root.type === 'object' || isObject(root.properties) ? '#' : undefined;
  if (!recordPointer) return { problem: 'schema describes neither a list of records nor a record' };
  try {
    const ajv = ajvFor(root.$schema);
    ajv.addSchema(root, 'ring');
    const ring = { $ref: `ring${recordPointer}` };
    const validate = ajv.compile(ring);
    const withDataset = perDataset(ajv, (ours) => ({ allOf: [ring, ours] }));
    return {
      check: (record) => (validate(record) ? undefined : describe(ajv, validate.errors)),
      withOurs: (dataset) => (dataset ? withDataset(dataset) : validate),
    };
  } catch (error) {
    return { problem: `schema does not compile: ${(error as Error).message.slice(0, 300)}` };
  }
}

/** Compiles `schemaOf(our schema of the dataset)` with `ajv` at the first use of each dataset. */
function perDataset(ajv: Ajv, schemaOf: (ours: Record<string, unknown>) => Record<string, unknown>): (dataset: DatasetName) => RecordTest {
  // 2019-09 reads our 2020-12 export alike: it uses no keyword the two spell differently.
  const target: JsonSchemaTarget = ajv instanceof Ajv2020 || ajv instanceof Ajv2019 ? 'draft-2020-12' : 'draft-07';
  const compiled = new Map<DatasetName, RecordTest>();
  return (dataset) => {
    let test = compiled.get(dataset);
    if (!test) {
      test = ajv.compile(schemaOf(datasetJsonSchema(dataset, target)));
      compiled.set(dataset, test);
    }
    return test;
  };
}

function ajvFor(dialect: unknown): Ajv {
  // strict: false — Ring's schemas may carry keywords of their own (titles, examples, vendor keys).
  const options = { strict: false, allErrors: false, validateFormats: true, loadSchema: undefined } as const;
  const ajv = typeof dialect === 'string' && dialect.includes('2020-12') ? new Ajv2020(options) : typeof dialect === 'string' && dialect.includes('2019-09') ? new Ajv2019(options) : new Ajv(options);
  addFormats(ajv, { mode: 'fast' });
  ajv.addFormat(ISO_DATE_FORMAT, { type: 'string', validate: isIsoDate });
  return ajv;
}

function describe(ajv: Ajv, errors: ErrorObject[] | null | undefined): string {
  return ajv.errorsText(errors, { dataVar: 'record' }).slice(0, 1_000);
}

/**
 * ajv's security meta-schema, less its rule that `format` needs `maxLength`: the formats here are
 * ajv-formats' "fast" checks, linear in the length of the string.
 */
function unsafeKeywords(root: Record<string, unknown>): string | undefined {
  if (!secureCheck) {
    const { format: _linear, ...dependencies } = secureMetaSchema.dependencies;
    secureCheck = new Ajv({ strict: false, allErrors: true }).compile({ ...secureMetaSchema, dependencies });
  }
  if (secureCheck(root)) return undefined;
  return (secureCheck.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''} (${error.schemaPath})`).join('; ').slice(0, 500);
}

/** How deeply the schema nests, counted without recursion (stops once past the limit). */
function depth(root: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0 && deepest <= MAX_SCHEMA_DEPTH) {
    const [value, level] = stack.pop()!;
    deepest = Math.max(deepest, level);
    if (value !== null && typeof value === 'object') for (const child of Object.values(value)) stack.push([child, level + 1]);
  }
  return deepest;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
