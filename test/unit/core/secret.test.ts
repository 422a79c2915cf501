import { inspect } from 'node:util';
import { Secret } from '../../../lambdas/core/secret';

describe('Secret', () => {
  const secret = new Secret('Atza|top-secret-token');

  it('never prints its value', () => {
    expect(String(secret)).toBe('[redacted]');
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- interpolating a Secret is what this checks
    expect(`${secret}`).toBe('[redacted]');
    expect(JSON.stringify({ token: secret })).toBe('{"token":"[redacted]"}');
    expect(inspect({ nested: { secret } })).not.toContain('top-secret');
    expect(Object.keys(secret)).toEqual([]);
  });

  it('gives the value to the one place that sends it', () => {
    expect(secret.reveal()).toBe('Atza|top-secret-token');
    expect(secret.equals(new Secret('Atza|top-secret-token'))).toBe(true);
  });
});
