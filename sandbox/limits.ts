import { z } from 'zod';

/** The intake's rate limits, each counted per app (client id) and scope. */
export interface SandboxLimits {
  readonly createPerSecond: number;
  /** createDataQuery calls per `createWindowMs`; `null`: no windowed limit. */
  readonly createPerWindow: number | null;
  readonly createWindowMs: number;
  /** createDataQuery calls per UTC day of sandbox time; unset: no daily quota. */
  readonly createPerDay?: number;
  readonly listPerSecond: number;
  /** listDataQueryRecords calls per UTC day of sandbox time. */
  readonly listPerDay: number;
}

/** The two createDataQuery limits Ring has published, by name. */
export const LIMIT_PRESETS = {
  /** Ring's reference: 5/s and at most 20 in any 20 minutes. */
  reference: { createPerSecond: 5, createPerWindow: 20, createWindowMs: 20 * 60_000, listPerSecond: 10, listPerDay: 100_000 },
  /** Amazon's published API reference: 1/s and 1,500 a UTC day, no window. */
  'amazon-daily': { createPerSecond: 1, createPerWindow: null, createWindowMs: 20 * 60_000, createPerDay: 1_500, listPerSecond: 10, listPerDay: 100_000 },
} as const satisfies Record<string, SandboxLimits>;

export type LimitsPreset = keyof typeof LIMIT_PRESETS;
export const LIMITS_PRESET_NAMES = Object.keys(LIMIT_PRESETS) as LimitsPreset[];

/** A preset's name, or any subset of the limits over the reference's. */
export type LimitsInit = LimitsPreset | Partial<SandboxLimits>;

export function resolveLimits(init: LimitsInit = {}): SandboxLimits {
  return typeof init === 'string' ? LIMIT_PRESETS[init] : { ...LIMIT_PRESETS.reference, ...init };
}

const count = z.number().int().positive();
const LimitsOverride = z.strictObject({
  createPerSecond: count.optional(),
  createPerWindow: count.nullable().optional(),
  createWindowMs: count.optional(),
  createPerDay: count.optional(),
  listPerSecond: count.optional(),
  listPerDay: count.optional(),
});

/** `--limits`: a preset's name, or a JSON object of limits over the reference's. */
export function parseLimitsArgument(text: string): LimitsInit {
  if ((LIMITS_PRESET_NAMES as string[]).includes(text)) return text as LimitsPreset;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`--limits must be ${LIMITS_PRESET_NAMES.join(' or ')}, or a JSON object of limits, got ${text}`);
  }
  const parsed = LimitsOverride.safeParse(json);
  if (!parsed.success) {
    throw new Error(`--limits: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(object)'}: ${issue.message}`).join('; ')}`);
  }
  return parsed.data;
}
