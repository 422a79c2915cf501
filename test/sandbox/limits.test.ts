import { LIMIT_PRESETS, parseLimitsArgument, resolveLimits } from '../../sandbox/limits';

describe('sandbox limits', () => {
  it("defaults to Ring's reference: createDataQuery 5/s and 20 per 20 minutes, no daily quota", () => {
    expect(resolveLimits()).toEqual({ createPerSecond: 5, createPerWindow: 20, createWindowMs: 1_200_000, listPerSecond: 10, listPerDay: 100_000 });
    expect(resolveLimits('reference')).toEqual(resolveLimits());
  });

  it("has Amazon's variant as a preset: 1/s, no window, 1,500 a UTC day", () => {
    expect(resolveLimits('amazon-daily')).toMatchObject({ createPerSecond: 1, createPerWindow: null, createPerDay: 1_500 });
  });

  it('lays a subset of the limits over the reference', () => {
    expect(resolveLimits({ createPerWindow: null, createPerDay: 5 })).toEqual({ ...LIMIT_PRESETS.reference, createPerWindow: null, createPerDay: 5 });
  });

  it('reads --limits as a preset name or a JSON object, and names what is wrong', () => {
    expect(parseLimitsArgument('amazon-daily')).toBe('amazon-daily');
    expect(parseLimitsArgument('{"createPerWindow":null,"createPerDay":100}')).toEqual({ createPerWindow: null, createPerDay: 100 });
    expect(() => parseLimitsArgument('amazon')).toThrow('--limits must be reference or amazon-daily, or a JSON object of limits');
    expect(() => parseLimitsArgument('{"createPerDay":0}')).toThrow('--limits: createPerDay: Too small');
    expect(() => parseLimitsArgument('{"perDay":10}')).toThrow('--limits: (object): Unrecognized key: "perDay"');
  });
});
