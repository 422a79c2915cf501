import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { EVENT_SCHEMA_FILES } from '../../scripts/event-schemas';

/** Validators of each detail-type's detail, compiled from the committed docs/events/ files (what integrators read). */
export function committedEventValidators(): Record<string, ValidateFunction> {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  return Object.fromEntries(
    Object.entries(EVENT_SCHEMA_FILES).map(([detailType, file]) => [detailType, ajv.compile(JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'docs', 'events', file), 'utf8')) as object)]),
  );
}
