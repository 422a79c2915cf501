import type { Context } from 'aws-lambda';
import { parseSettings } from '../../lambdas/core/settings';
import { makeScheduleHandler, type ScheduleHandlerDeps } from '../../lambdas/schedule/app';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('the schedule’s poll-overdue run', () => {
  it('puts the change events left unannounced, after polling', async () => {
    const reconcile = jest.fn(() => Promise.resolve({ imports: 2, statuses: 1, failed: 1 }));
    const counted: [string, number | undefined][] = [];
    // Only what poll-overdue touches when no query is overdue: the rest is never called.
    const deps = {
      settings: parseSettings({}),
      queryRecords: { listRequestedBefore: async function* () {} },
      clock: { now: () => Date.parse('2026-01-01T00:00:00.000Z'), sleep: () => Promise.resolve() },
      logger: silent,
      announcer: { reconcile },
      metrics: { count: (name: string, value?: number) => void counted.push([name, value]) },
    } as unknown as ScheduleHandlerDeps;
    const handler = makeScheduleHandler(deps);
    expect(await handler({ task: 'poll-overdue' }, {} as Context)).toMatchObject({ task: 'poll-overdue', probed: 0, reannounced: { imports: 2, statuses: 1, failed: 1 } });
    expect(reconcile).toHaveBeenCalledTimes(1);
    // What it could not put again is counted, for the ChangeEventsNotPut alarm.
    expect(counted).toContainEqual(['ChangeEventsNotPut', 1]);
  });
});
