import { progressFrom, type QueryItems, type Truth } from '../../../local/demo';
import { importTotals, progressLines, stageSummary } from '../../../local/progress-view';

const head = (status: string) => ({ pk: 'QUERY#q', sk: 'QUERY', status });
const file = (n: number, fields: Record<string, unknown> = {}) => ({ pk: 'QUERY#q', sk: `FILE#${String(n).padStart(6, '0')}`, ...fields });
const fetched = (bytes: number) => ({ sha256: 'ab'.repeat(32), bytes });

/** Four files of 100 bytes and 1,000 records each. */
const truth: Truth = {
  datasets: { 'Ring.EventManager.Events': { files: 4, records: 4_000, uniqueRecords: 4_000 } },
  files: [0, 1, 2, 3].map(() => ({ dataset: 'Ring.EventManager.Events', bytes: 100, sha256: 'ab'.repeat(32), records: 1_000 })),
  totalRecords: 4_000,
  uniqueRecords: 4_000,
};

describe('npm start progress', () => {
  it('moves with the first file fetched and the first checkpoint, long before a file or the query is finished', () => {
    const query: QueryItems = { id: 'q', items: [head('LOADING'), file(0, { ...fetched(100), checkpoint: { offset: 40, records: 500 } }), file(1), file(2), file(3)] };
    const progress = progressFrom('c', [query], truth);
    expect(progress).toMatchObject({
      stage: 'LOADING',
      files: { listed: 4, fetched: 1, loaded: 0, expected: 4 },
      bytes: { fetched: 100, expected: 400 },
      records: { loaded: 500, expected: 4_000 },
      queries: { total: 1, done: 0, failed: 0 },
      truthKnown: true,
    });
    // A quarter of the bytes and an eighth of the records.
    expect(progress.share).toBeCloseTo((0.25 + 0.125) / 2);
    expect(progressLines([progress]).find((line) => line.name === 'import')).toMatchObject({ done: progress.share, of: 1 });
  });

  it('shows what is known before the ground truth is: the files collect listed, bytes and records unknown', () => {
    const query: QueryItems = { id: 'q', items: [head('COLLECTING'), file(0, fetched(100)), file(1)] };
    const progress = progressFrom('c', [query], undefined);
    expect(progress).toMatchObject({ stage: 'COLLECTING', truthKnown: false, files: { listed: 2, fetched: 1, expected: 2 }, bytes: { fetched: 100, expected: 0 }, records: { loaded: 0, expected: 0 } });
    expect(progress.share).toBe(0);
    expect(stageSummary([progress])).toBe('1 COLLECTING');
  });

  it('follows the first DONE query once there is one, and is whole then', () => {
    const done: QueryItems = { id: 'q1', items: [head('DONE'), ...[0, 1, 2, 3].map((n) => file(n, { ...fetched(100), status: 'LOADED', checkpoint: { offset: -1, records: 1_000 } }))] };
    const later: QueryItems = { id: 'q2', items: [head('REQUESTED')] };
    const progress = progressFrom('c', [done, later], truth);
    expect(progress).toMatchObject({ doneQueryId: 'q1', stage: 'DONE', share: 1, files: { fetched: 4, loaded: 4 }, records: { loaded: 4_000 }, queries: { total: 2, done: 1 } });
  });

  it('waits for a query before anything moves', () => {
    expect(progressFrom('c', [], undefined)).toMatchObject({ stage: 'WAITING', share: 0, files: { listed: 0, expected: 0 } });
  });
});

describe('an Import Completed event as npm start prints it', () => {
  it('names the records repeated in the files, so the parts add up to the records', () => {
    expect(importTotals({ records: 61305, recordsNew: 61304, recordsUnchanged: 0, duplicates: 1, rejected: 0 })).toBe('61305 records (61304 new, 0 unchanged, 1 repeated in the files; 0 rejected)');
    expect(importTotals({ records: 10, recordsNew: 4, recordsUnchanged: 6, duplicates: 0, rejected: 2 })).toBe('10 records (4 new, 6 unchanged; 2 rejected)');
  });
});
