import { App } from 'aws-cdk-lib';
import { settingsFromContext, settingsInputFromContext } from '../../../lib/config/from-context';
import { scratchOutdir } from '../../support/scratch-outdir';

describe('settings from CDK context', () => {
  it('reads the ringPortability object and applies -c overrides on top, parsing JSON values', () => {
    const input = settingsInputFromContext({
      ringPortability: { brands: ['ring', 'blink'], rateLimits: { scope: 'app' } },
      'ringPortability.rateLimits.scope': 'customer',
      'ringPortability.rateLimits.createDataQuery.perWindow': '10',
      'ringPortability.brands': '["blink"]',
      'ringPortability.defaultRegion': 'us-west-2',
      'unrelated:flag': true,
    });
    expect(input).toEqual({
      brands: ['blink'],
      defaultRegion: 'us-west-2',
      rateLimits: { scope: 'customer', createDataQuery: { perWindow: 10 } },
    });
  });

  it('reads `null` as JSON, so one command can turn the createDataQuery window off', () => {
    const app = new App({ outdir: scratchOutdir(), context: { 'ringPortability.rateLimits.createDataQuery.perWindow': 'null', 'ringPortability.rateLimits.createDataQuery.perDay': '1500' } });
    expect(settingsFromContext(app.node).rateLimits.createDataQuery).toMatchObject({ perWindow: null, perDay: 1_500 });
  });

  it('accepts the whole object as a JSON string, as `-c ringPortability={…}` passes it', () => {
    expect(settingsInputFromContext({ ringPortability: '{"brands":["ring"]}' })).toEqual({ brands: ['ring'] });
  });

  it('validates what it read, naming the context key', () => {
    const app = new App({ outdir: scratchOutdir(), context: { 'ringPortability.defaultRegion': 'eu-central-1' } });
    expect(() => settingsFromContext(app.node)).toThrow('ringPortability.defaultRegion: Invalid option');
  });

  it.each([
    [{ ringPortability: '{not json' }, 'ringPortability: is not valid JSON'],
    [{ ringPortability: ['ring'] }, 'ringPortability: must be an object'],
    [{ ringPortability: { brands: 'ring' }, 'ringPortability.brands.x': '1' }, 'ringPortability.brands is not an object'],
    [{ 'ringPortability.__proto__.polluted': '1' }, 'is not a valid setting path'],
  ])('rejects malformed context %j', (context, message) => {
    expect(() => settingsInputFromContext(context)).toThrow(message);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
