import type { z } from 'zod';

const MAX_SHOWN_VALUE = 80;

/**
 * Turns zod issues into one line per problem, each starting with the dotted path of the key
 * (`ringPortability.rateLimits.scope: …`) so a person can find it in cdk.json or the
 * environment. `showValues` echoes the offending value; keep it off for anything that could
 * hold a secret.
 */
export function describeIssues(
  error: z.ZodError,
  options: { prefix?: string; input?: unknown; showValues?: boolean } = {},
): string[] {
  return error.issues.map((issue) => {
    const path = [options.prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    const where = path === '' ? '(root)' : path;
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((key) => (path ? `${path}.${key}` : key));
      return `${keys.join(', ')}: unknown setting${keys.length > 1 ? 's' : ''}`;
    }
    const received = options.showValues ? describeValue(valueAt(options.input, issue.path)) : undefined;
    return received === undefined ? `${where}: ${issue.message}` : `${where}: ${issue.message} (got ${received})`;
  });
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describeValue(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > MAX_SHOWN_VALUE ? `${text.slice(0, MAX_SHOWN_VALUE)}…` : text;
}
