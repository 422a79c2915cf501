import { countingQueryFailures, type Counter } from '../../lambdas/shared/metrics';

describe('QueriesFailed', () => {
  it('is counted each time a store marks a query failed, and not when marking it fails', async () => {
    const counted: string[] = [];
    const counter: Counter = { count: (name) => void counted.push(name) };
    const failedIds: string[] = [];
    const store = {
      other: () => 'kept',
      fail: (queryId: string, _reason: string, _now: number) => {
        if (queryId === 'broken') return Promise.reject(new Error('DynamoDB down'));
        failedIds.push(queryId);
        return Promise.resolve();
      },
    };
    const counting = countingQueryFailures(store, counter);
    await counting.fail('q1', 'listing window elapsed', 0);
    await expect(counting.fail('broken', 'x', 0)).rejects.toThrow('DynamoDB down');
    expect(failedIds).toEqual(['q1']);
    expect(counted).toEqual(['QueriesFailed']);
    expect(counting.other()).toBe('kept');
  });
});
