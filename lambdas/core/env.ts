import type { z } from 'zod';
import { ConfigurationError } from './errors';
import { describeIssues } from './validation';

/**
 * Reads a Lambda's environment through its own zod schema, once, when the module loads:
 *
 *   const env = readEnv(z.object({ CONTROL_TABLE: z.string().min(1) }));
 *
 * A missing or bad variable fails the cold start with the variable's name. Values are never
 * echoed, since some variables name secrets.
 */
export function readEnv<Schema extends z.ZodType>(
  schema: Schema,
  env: Record<string, string | undefined> = process.env,
): z.output<Schema> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = describeIssues(result.error);
  throw new ConfigurationError(`Invalid environment:\n  - ${problems.join('\n  - ')}`, problems);
}
