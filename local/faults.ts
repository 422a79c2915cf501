/**
 * Sandbox fault profiles for the local runtime (`npm start -- --faults <profile>`), as rules of
 * the sandbox's `PUT /__sandbox/faults` (sandbox/README.md). Probabilities are seeded: the same
 * run gives the same faults.
 */
export const FAULT_PROFILES = {
  /** About 10 % of Ring's API calls fail with 429, 500 or 504; downloads are cut or refused; notifications are duplicated or lost. */
  flaky: [
    { operation: 'createDataQuery', probability: 0.04, error: 'TOO_MANY_REQUESTS', retryAfterSeconds: 1 },
    { operation: 'createDataQuery', probability: 0.03, error: 'INTERNAL_SERVER_ERROR' },
    { operation: 'createDataQuery', probability: 0.03, error: 'INTEGRATION_TIMEOUT' },
    { operation: 'listDataQueryRecords', probability: 0.04, error: 'TOO_MANY_REQUESTS', retryAfterSeconds: 1 },
    { operation: 'listDataQueryRecords', probability: 0.03, error: 'INTERNAL_SERVER_ERROR' },
    { operation: 'listDataQueryRecords', probability: 0.03, error: 'INTEGRATION_TIMEOUT' },
    // Shorter than every schema file (346 bytes and up): a cut falls on a schema too.
    { operation: 'download', probability: 0.05, cutAfterBytes: 256 },
    { operation: 'download', probability: 0.05, downloadError: 'InternalError' },
    { operation: 'notification', probability: 0.1, duplicate: true },
    { operation: 'notification', probability: 0.1, drop: true },
  ],
} as const satisfies Record<string, readonly Record<string, unknown>[]>;

export type FaultProfile = keyof typeof FAULT_PROFILES;

export function faultProfile(name: string): FaultProfile {
  if (!(name in FAULT_PROFILES)) throw new Error(`--faults must be one of ${Object.keys(FAULT_PROFILES).join(', ')}; got ${name}`);
  return name as FaultProfile;
}
