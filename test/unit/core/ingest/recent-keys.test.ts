import { hash } from 'node:crypto';
import fc from 'fast-check';
import { RecentKeys } from '../../../../lambdas/core/ingest/load';

/** The window as it was defined: two generations of `limit` digests in Sets of the hex strings. */
class ReferenceWindow {
  private current = new Set<string>();
  private previous = new Set<string>();

  constructor(private readonly limit: number) {}

  addIfNew(digest: string): boolean {
    if (this.current.has(digest) || this.previous.has(digest)) return false;
    if (this.current.size >= this.limit) {
      this.previous = this.current;
      this.current = new Set();
    }
    this.current.add(digest);
    return true;
  }
}

const digest = (n: number) => hash('sha256', String(n), 'hex');

describe('the recent-keys window', () => {
  it('answers as two generations of Sets would, over any sequence of repeats', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.nat({ max: 120 }), { maxLength: 600 }), (limit, sequence) => {
        const window = new RecentKeys(limit);
        const reference = new ReferenceWindow(limit);
        for (const n of sequence) expect(window.addIfNew(digest(n))).toBe(reference.addIfNew(digest(n)));
      }),
      { numRuns: 300 },
    );
  });

  it('tells digests apart that share any part but not all of their bits', () => {
    const window = new RecentKeys(1_000);
    const base = digest(1);
    expect(window.addIfNew(base)).toBe(true);
    // The same first word (the table's probe start) and each other word differing in turn: all distinct.
    for (let position = 8; position < 64; position++) {
      const other = `${base.slice(0, position)}${base[position] === 'f' ? '0' : 'f'}${base.slice(position + 1)}`;
      expect(window.addIfNew(other)).toBe(true);
      expect(window.addIfNew(other)).toBe(false);
    }
    expect(window.addIfNew(base)).toBe(false);
    expect(window.addIfNew('0'.repeat(64))).toBe(true);
    expect(window.addIfNew('0'.repeat(64))).toBe(false);
  });
});
