import type { SettingsInput } from '../lambdas/core/settings';
import type { LimitsPreset } from '../sandbox/limits';

export const LIMIT_PROFILES = ['reference', 'amazon-daily'] as const satisfies readonly LimitsPreset[];
export type LimitProfile = (typeof LIMIT_PROFILES)[number];

type CreateLimits = NonNullable<NonNullable<SettingsInput['rateLimits']>['createDataQuery']>;

/**
 * Ring's createDataQuery limits as each source publishes them: the sandbox enforces its preset
 * of the same name (sandbox/limits.ts), the product paces itself by these settings.
 */
export const PRODUCT_LIMITS: Record<LimitProfile, CreateLimits> = {
  /** The reference: 5 a second and 20 per 20 minutes per app. */
  reference: { perSecond: 5, perWindow: 20, windowSeconds: 20 * 60 },
  /** Amazon's API reference: 1 a second and 1,500 a UTC day per app, no window. */
  'amazon-daily': { perSecond: 1, perWindow: null, perDay: 1_500 },
};

export function limitProfile(name: string): LimitProfile {
  if (!(LIMIT_PROFILES as readonly string[]).includes(name)) throw new Error(`--limits must be one of ${LIMIT_PROFILES.join(', ')}; got ${name}`);
  return name as LimitProfile;
}
