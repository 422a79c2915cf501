import { DECISIONS, downloadFailure, parseRetryAfter, RingApiError } from '../../../../lambdas/core/ring/errors';

describe('RingApiError', () => {
  it('maps every type of the reference’s table to a decision', () => {
    expect(Object.keys(DECISIONS)).toHaveLength(32); // 33 rows; TOO_MANY_REQUESTS appears twice
    const error = RingApiError.fromResponse(409, { category: 'CONFLICT', type: 'REQUEST_CONFLICT', message: 'There is a conflicting request in progress' });
    expect(error).toMatchObject({ status: 409, category: 'CONFLICT', type: 'REQUEST_CONFLICT', decision: 'wait' });
  });

  it.each([
    [503, 'retry'],
    [429, 'retry'],
    [409, 'wait'],
    [418, 'fail'],
    [404, 'fail'],
  ])('decides by status when the body is unknown (%i → %s), never crashing', (status, decision) => {
    for (const body of [undefined, null, 'text', { type: 'SOMETHING_NEW' }, { type: 42 }]) {
      expect(RingApiError.fromResponse(status, body).decision).toBe(decision);
    }
  });

  it('honours Retry-After (seconds or date) and waits for midnight UTC on a daily quota', () => {
    expect(RingApiError.fromResponse(429, { type: 'TOO_MANY_REQUESTS' }, '7').retryAfterSeconds).toBe(7);
    const now = Date.parse('2026-11-26T23:59:00Z');
    expect(parseRetryAfter('Thu, 26 Nov 2026 23:59:30 GMT', now)).toBe(30);
    expect(RingApiError.fromResponse(429, { category: 'TOO_MANY_REQUESTS', type: 'QUOTA_EXCEEDED' }, null, now)).toMatchObject({ decision: 'wait', retryAfterSeconds: 60 });
  });
});

describe('downloadFailure', () => {
  it('re-lists an expired URL (S3 AccessDenied "Request has expired")', () => {
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>300</X-Amz-Expires></Error>';
    expect(downloadFailure(403, body)).toMatchObject({ status: 403, type: 'AccessDenied', ringMessage: 'Request has expired', decision: 'relist' });
  });

  it.each([
    [503, '<Error><Code>SlowDown</Code></Error>', 'retry'],
    [500, '<Error><Code>InternalError</Code></Error>', 'retry'],
    [404, '<Error><Code>NoSuchKey</Code></Error>', 'relist'],
    [416, '', 'fail'],
  ])('%i %s → %s', (status, body, decision) => {
    expect(downloadFailure(status, body).decision).toBe(decision);
  });
});
