import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderEventSchemas } from '../../scripts/event-schemas';
import { committedEventValidators } from '../support/event-schemas';

const detail = {
  eventId: 'q-1',
  customerId: 'c-1',
  brand: 'ring',
  region: 'eu-west-1',
  queryId: 'q-1',
  completedAt: '2026-01-02T03:04:05.678Z',
  manifest: { bucket: 'raw', key: 'raw/c-1/q-1/manifest.json' },
  totals: { files: 1, bytes: 10, records: 4, recordsNew: 2, recordsUnchanged: 1, duplicates: 1, rejected: 0 },
  datasets: { 'Ring.Alarm.HistoryLog': { files: 1, bytes: 10, records: 4, recordsNew: 2, recordsUnchanged: 1, duplicates: 1, rejected: 0 } },
};

describe('docs/events/*.schema.json', () => {
  it('match the zod schemas of the event details (run `npm run docs:events` after changing them)', () => {
    for (const [file, text] of Object.entries(renderEventSchemas())) {
      expect({ file, text: readFileSync(path.join(__dirname, '..', '..', 'docs', 'events', file), 'utf8') }).toEqual({ file, text });
    }
  });

  it('are valid draft 2020-12 schemas that accept a detail and refuse one missing a field or carrying another', () => {
    const validate = committedEventValidators()['Import Completed'];
    expect(validate(detail)).toBe(true);
    const { customerId: _customerId, ...missing } = detail;
    expect(validate(missing)).toBe(false);
    expect(validate({ ...detail, token: 'x' })).toBe(false);
    expect(validate({ ...detail, totals: { ...detail.totals, recordsNew: -1 } })).toBe(false);
  });
});
