import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level: equal records give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The records table key of a record: partition `<customerId>#<dataset>`, sort
 * `<eventDate or ->#<sha256 of the canonical record>`. The same record imported twice (an
 * overlapping window, a redelivered load) gets the same key, so it is written once.
 */
export function recordKey(customerId: string, dataset: string, record: Record<string, unknown>): { pk: string; sk: string } {
  const eventDate = typeof record.eventDate === 'string' && record.eventDate !== '' ? record.eventDate : '-';
  const digest = createHash('sha256').update(canonicalJson(record)).digest('hex');
  return { pk: `${customerId}#${dataset}`, sk: `${eventDate}#${digest}` };
}
