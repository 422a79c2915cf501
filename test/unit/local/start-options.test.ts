import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { START_OPTIONS, startOptions, USAGE } from '../../../local/start-options';

/** The flags in README's `npm start` table (the rows after `| flag | |`, up to the first line that is not one). */
function readmeFlags(): string[] {
  const readme = readFileSync(path.join(__dirname, '../../../README.md'), 'utf8').split('\n');
  const start = readme.indexOf('| flag | |');
  expect(start).toBeGreaterThan(-1);
  const rows = readme.slice(start + 2);
  const table = rows.slice(0, rows.findIndex((line) => !line.startsWith('|')));
  return table.flatMap((row) => [...row.split(' | ')[0].matchAll(/`(--[a-z-]+)/g)].map((match) => match[1]));
}

describe('npm start options', () => {
  const accepted = Object.keys(START_OPTIONS).map((name) => `--${name}`);

  it('the README lists every flag npm start accepts, and no other', () => {
    expect(readmeFlags().sort()).toEqual([...accepted].sort());
  });

  it('--help lists every flag npm start accepts, and no other', () => {
    expect([...new Set([...USAGE.matchAll(/^\s+(?:-\w, )?(--[a-z-]+)/gm)].map((match) => match[1]))].sort()).toEqual([...accepted].sort());
  });

  it('refuses a timeout that is not a number of minutes instead of never timing out', () => {
    expect(() => startOptions(['--timeout-minutes', 'soon'])).toThrow('--timeout-minutes must be a number of minutes above 0, got soon');
    expect(startOptions(['--timeout-minutes', '90']).timeoutMs).toBe(90 * 60_000);
  });
});
