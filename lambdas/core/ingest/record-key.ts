import { hash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level: equal records give equal text. It runs once per
 * record, so it is one loop per level with the quoted keys cached (records share their keys).
 * Its output must never change, or the same record would get a new key: a property test holds
 * it to the plain recursive definition.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const key of keys) {
    const item = object[key];
    if (item === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${quoted(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

const QUOTED = new Map<string, string>();

function quoted(key: string): string {
  let text = QUOTED.get(key);
  if (text === undefined) {
    text = JSON.stringify(key);
    if (QUOTED.size < 10_000) QUOTED.set(key, text);
  }
  return text;
}

/**
 * The records table key of a record: partition `<customerId>#<dataset>`, sort
 * `<eventDate or ->#<sha256 of the canonical record>`. The same record imported twice (an
 * overlapping window, a redelivered load) gets the same key, so it is written once.
 */
export function recordKey(customerId: string, dataset: string, record: Record<string, unknown>): { pk: string; sk: string } {
  const eventDate = typeof record.eventDate === 'string' && record.eventDate !== '' ? record.eventDate : '-';
  return { pk: `${customerId}#${dataset}`, sk: `${eventDate}#${hash('sha256', canonicalJson(record), 'hex')}` };
}
