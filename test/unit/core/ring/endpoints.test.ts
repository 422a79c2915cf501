import { resolveEndpoints, UnknownEndpointError } from '../../../../lambdas/core/ring/endpoints';
import { PRODUCTION_ENDPOINTS } from '../../../../lambdas/core/settings';

describe('resolveEndpoints', () => {
  it.each([
    ['ring', 'eu-west-1', 'https://oauth.ring.com', 'https://intake.eu-west-1.portability.data.ring.com'],
    ['ring', 'us-east-1', 'https://oauth.ring.com', 'https://intake.us-east-1.portability.data.ring.com'],
    ['blink', 'us-west-2', 'https://api.oauth.blink.com', 'https://intake.us-west-2.portability.data.blink.com'],
  ])('resolves %s in %s to the reference’s hosts', (brand, region, oauth, intake) => {
    expect(resolveEndpoints(PRODUCTION_ENDPOINTS, brand, region, 'data-portability')).toEqual({
      authorizeUrl: `${oauth}/v2/authorize`,
      tokenUrl: `${oauth}/oauth/token`,
      intakeUrl: `${intake}/data-portability`,
    });
  });

  it('fills the sandbox templates the same way', () => {
    const sandbox = { ...PRODUCTION_ENDPOINTS, ring: { oauthBaseUrl: 'http://127.0.0.1:4010/ring/oauth', intakeBaseUrl: 'http://127.0.0.1:4010/ring/intake/{region}' } };
    expect(resolveEndpoints(sandbox, 'ring', 'us-west-2', 'data-portability').intakeUrl).toBe('http://127.0.0.1:4010/ring/intake/us-west-2/data-portability');
  });

  it.each([
    ['nest', 'eu-west-1'],
    ['ring', 'eu-central-1'],
    ['ring', '../evil'],
  ])('refuses brand %s / region %s with a typed error', (brand, region) => {
    expect(() => resolveEndpoints(PRODUCTION_ENDPOINTS, brand, region, 'data-portability')).toThrow(UnknownEndpointError);
  });
});
