import { ConfigurationError } from '../../../lambdas/core/errors';
import { DEFAULT_SIGNING_CERT_HOSTS, parseSettings, PRODUCTION_ENDPOINTS, signingCertOrigin } from '../../../lambdas/core/settings';
import { createSigningIdentity } from '../../../sandbox/notifications';

// A signing certificate (not a CA), made on the test's own clock.
const SIGNER = createSigningIdentity(Date.parse('2026-11-26T12:00:00Z'));
const LEAF_PEM = SIGNER.certPem;

const problemsOf = (input: unknown): readonly string[] => {
  try {
    parseSettings(input, 'ringPortability');
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  throw new Error('expected the settings to be rejected');
};

describe('parseSettings', () => {
  it("defaults to Ring's documented endpoints, limits and a retained, EU-first setup", () => {
    const settings = parseSettings({});
    expect(settings).toMatchObject({
      brands: ['ring', 'blink'],
      defaultRegion: 'eu-west-1',
      scopeId: 'data-portability',
      endpoints: PRODUCTION_ENDPOINTS,
      allowedReturnOrigins: [],
      notifications: { allowedTopicArns: [], signingCertHosts: DEFAULT_SIGNING_CERT_HOSTS },
      rateLimits: {
        scope: 'app',
        createDataQuery: { perSecond: 5, perWindow: 20, windowSeconds: 1200 },
        listDataQueryRecords: { perSecond: 10, perDay: 100_000 },
      },
      pipeline: { maxReceiveCount: 5 },
      retention: { removalPolicy: 'retain' },
    });
    expect(settings.publicBaseUrl).toBeUndefined();
    expect(PRODUCTION_ENDPOINTS.ring.oauthBaseUrl).toBe('https://oauth.ring.com');
    expect(PRODUCTION_ENDPOINTS.blink.intakeBaseUrl).toBe('https://intake.{region}.portability.data.blink.com');
  });

  it('keeps defaults for the keys a partial section leaves out', () => {
    const settings = parseSettings({ rateLimits: { scope: 'customer', createDataQuery: { perWindow: 10 } } });
    expect(settings.rateLimits).toEqual({
      scope: 'customer',
      createDataQuery: { perSecond: 5, perWindow: 10, windowSeconds: 1200 },
      listDataQueryRecords: { perSecond: 10, perDay: 100_000 },
    });
  });

  it("takes Amazon's createDataQuery variant: no window (null), a daily quota", () => {
    expect(parseSettings({}).rateLimits.createDataQuery.perDay).toBeUndefined();
    const settings = parseSettings({ rateLimits: { createDataQuery: { perSecond: 1, perWindow: null, perDay: 1_500 } } });
    expect(settings.rateLimits.createDataQuery).toEqual({ perSecond: 1, perWindow: null, windowSeconds: 1200, perDay: 1_500 });
  });

  it('accepts the sandbox on loopback over http, and comma-separated lists', () => {
    const settings = parseSettings({
      brands: 'ring',
      endpoints: {
        ring: { oauthBaseUrl: 'http://127.0.0.1:4010/ring/oauth', intakeBaseUrl: 'http://127.0.0.1:4010/ring/intake/{region}' },
      },
      allowedReturnOrigins: 'https://app.example.com, http://localhost:3000',
    });
    expect(settings.brands).toEqual(['ring']);
    expect(settings.endpoints.ring.oauthBaseUrl).toBe('http://127.0.0.1:4010/ring/oauth');
    expect(settings.endpoints.blink).toEqual(PRODUCTION_ENDPOINTS.blink);
    expect(settings.allowedReturnOrigins).toEqual(['https://app.example.com', 'http://localhost:3000']);
  });

  it('pins signing certificates to SNS over HTTPS by default, and to an exact origin when one is given (the local sandbox)', () => {
    const defaults = parseSettings({}).notifications;
    expect(defaults.signingCertHosts.map(signingCertOrigin)).toEqual(['https://sns.eu-west-1.amazonaws.com', 'https://sns.us-east-1.amazonaws.com', 'https://sns.us-west-2.amazonaws.com']);
    expect(defaults.trustAnchors).toBeUndefined();
    const local = parseSettings({ notifications: { signingCertHosts: ['http://127.0.0.1:4010'], trustAnchors: SIGNER.caPem } }).notifications;
    expect(local.signingCertHosts.map(signingCertOrigin)).toEqual(['http://127.0.0.1:4010']);
    expect(local.trustAnchors).toBe(SIGNER.caPem);
  });

  it.each([
    [{ defaultRegion: 'eu-central-1' }, 'ringPortability.defaultRegion: Invalid option: expected one of "eu-west-1"|"us-east-1"|"us-west-2" (got "eu-central-1")'],
    [{ brands: [] }, 'ringPortability.brands: enable at least one brand'],
    [{ brands: ['ring', 'nest'] }, 'ringPortability.brands.1: Invalid option'],
    [{ brands: ['ring', 'ring'] }, 'ringPortability.brands: must not list a brand twice'],
    [{ scopeId: 'data portability' }, 'ringPortability.scopeId: must be 1-128 characters'],
    [{ endpoints: { ring: { oauthBaseUrl: 'http://oauth.ring.com', intakeBaseUrl: 'https://intake.{region}.x' } } }, 'ringPortability.endpoints.ring.oauthBaseUrl: must use https'],
    [{ endpoints: { blink: { oauthBaseUrl: 'https://a.example', intakeBaseUrl: 'https://intake.example' } } }, 'ringPortability.endpoints.blink.intakeBaseUrl: must contain the placeholder {region}'],
    [{ publicBaseUrl: 'https://api.example.com/' }, "ringPortability.publicBaseUrl: must not end with '/'"],
    [{ publicBaseUrl: 'not a url' }, 'ringPortability.publicBaseUrl: must be an absolute URL'],
    [{ allowedReturnOrigins: ['https://app.example.com/after'] }, 'ringPortability.allowedReturnOrigins.0: must be an origin only'],
    [{ notifications: { allowedTopicArns: ['arn:aws:sqs:eu-west-1:123456789012:x'] } }, 'ringPortability.notifications.allowedTopicArns.0: must be an SNS topic ARN'],
    [{ notifications: { signingCertHosts: ['http://sns.eu-west-1.amazonaws.com'] } }, 'ringPortability.notifications.signingCertHosts.0: must be a lower-case DNS host name, or an origin'],
    [{ notifications: { signingCertHosts: ['https://sns.eu-west-1.amazonaws.com/x'] } }, 'ringPortability.notifications.signingCertHosts.0: must be a lower-case DNS host name, or an origin'],
    [{ notifications: { signingCertHosts: ['127.0.0.1:4010'] } }, 'ringPortability.notifications.signingCertHosts.0: must be a lower-case DNS host name, or an origin'],
    [{ notifications: { trustAnchors: 'not a certificate' } }, 'ringPortability.notifications.trustAnchors: must be one or more PEM certificates'],
    [{ notifications: { trustAnchors: LEAF_PEM } }, 'ringPortability.notifications.trustAnchors: every certificate must be a CA certificate'],
    [{ schedules: { refreshTokenMaxAgeDays: 30 } }, 'ringPortability.schedules.refreshTokenMaxAgeDays: Too big'],
    [{ rateLimits: { createDataQuery: { perSecond: 0 } } }, 'ringPortability.rateLimits.createDataQuery.perSecond: Too small'],
    [{ rateLimits: { createDataQuery: { perDay: 0 } } }, 'ringPortability.rateLimits.createDataQuery.perDay: Too small'],
    [{ rateLimits: { createDataQuery: { perWindow: 0 } } }, 'ringPortability.rateLimits.createDataQuery.perWindow: Too small'],
    [{ rateLimits: { scope: 'global' } }, 'ringPortability.rateLimits.scope: Invalid option'],
    [{ pipeline: { maxReceiveCount: 3 } }, 'ringPortability.pipeline.maxReceiveCount: Too small'],
    [{ retention: { logRetentionDays: 10 } }, 'ringPortability.retention.logRetentionDays: Invalid option'],
    [{ retention: { removalPolicy: 'snapshot' } }, 'ringPortability.retention.removalPolicy: Invalid option'],
    [{ alarms: { email: 'ops' } }, 'ringPortability.alarms.email: Invalid email address'],
    [{ rateLimit: {} }, 'ringPortability.rateLimit: unknown setting'],
    [{ notifications: { allowedTopics: [] } }, 'ringPortability.notifications.allowedTopics: unknown setting'],
  ])('rejects %j naming the key', (input, expected) => {
    expect(problemsOf(input).some((problem) => problem.startsWith(expected))).toBe(true);
  });

  it('takes the integrator’s own event bus by name or ARN, and names what is wrong with a bad one', () => {
    expect(parseSettings({}).events).toEqual({});
    expect(parseSettings({ events: { busName: 'arn:aws:events:eu-west-1:123456789012:event-bus/acme' } }).events.busName).toBe('arn:aws:events:eu-west-1:123456789012:event-bus/acme');
    expect(() => parseSettings({ events: { busName: 'my bus' } })).toThrow(/settings\.events\.busName: must be an event bus name/);
    expect(() => parseSettings({ events: { busName: 'default' } })).toThrow(/settings\.events\.busName: must not be the default bus/);
    expect(() => parseSettings({ events: { targetQueueArn: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q' } })).toThrow(/settings\.events\.targetQueueArn: must be an SQS queue ARN/);
  });

  it('reports every problem at once, in a message that names each key', () => {
    expect(() => parseSettings({ defaultRegion: 'mars', scopeId: '' }, 'ringPortability')).toThrow(
      /2 problems[\s\S]*ringPortability\.defaultRegion[\s\S]*ringPortability\.scopeId/,
    );
  });
});
