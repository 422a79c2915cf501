/**
 * Jest's own order (failed first, then the longest by the last run's times), except that the
 * few files known to take minutes start first even when jest has no times yet (a fresh clone,
 * as in CI): it orders those by file size, which put the small simulation test last and left
 * one worker running it alone for minutes at the end of the run.
 */
import Sequencer from '@jest/test-sequencer';

const LONGEST_FIRST = ['/test/integration/simulation.test.ts', '/test/e2e/flow.test.ts', '/test/unit/core/notifications/sns-verifier.test.ts', '/test/cdk/bundles.test.ts'];

export default class LongestFirst extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const index = LONGEST_FIRST.findIndex((suffix) => test.path.replaceAll('\\', '/').endsWith(suffix));
      return index === -1 ? LONGEST_FIRST.length : index;
    };
    const sorted = super.sort(tests);
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}
