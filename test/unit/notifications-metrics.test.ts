import type { Context } from 'aws-lambda';
import { makeNotificationsHandler } from '../../lambdas/notifications/app';
import { NotificationRejectedError } from '../../lambdas/core/notifications/sns-verifier';

describe('notification metrics', () => {
  it('counts a rejection, and by reason with only our own words in the dimension', async () => {
    const counted: [string, number | undefined, Record<string, string> | undefined][] = [];
    const handler = makeNotificationsHandler({
      verifier: { verify: () => Promise.reject(new NotificationRejectedError('unsupported SignatureVersion "attacker-chosen"')) },
      metrics: { count: (name, value, dimensions) => void counted.push([name, value, dimensions]) },
      queries: { finish: () => Promise.reject(new Error('unused')), claimCompletion: () => Promise.resolve(false), releaseCompletion: () => Promise.resolve() },
      completed: { send: () => Promise.resolve() },
      imports: { send: () => Promise.resolve() },
      subscriptions: { keepPending: () => Promise.resolve(), markConfirmed: () => Promise.resolve() },
      confirmer: { confirm: () => Promise.resolve() },
      clock: { now: () => Date.parse('2030-06-15T12:00:00Z'), sleep: () => Promise.resolve() },
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const response = await handler({ body: '{}', headers: {}, isBase64Encoded: false } as never, {} as Context);
    expect(response.statusCode).toBe(400);
    expect(counted).toEqual([
      ['NotificationsRejected', undefined, undefined],
      ['NotificationsRejectedByReason', 1, { reason: 'unsupported SignatureVersion' }],
    ]);
  });
});
