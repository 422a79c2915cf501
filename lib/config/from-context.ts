import type { Node } from 'constructs';
import { ConfigurationError } from '../../lambdas/core/errors';
import { parseSettings, type Settings } from '../../lambdas/core/settings';

/** The CDK context key that holds the settings object in cdk.json. */
export const CONTEXT_KEY = 'ringPortability';

/**
 * Reads the settings from CDK context: the `ringPortability` object in cdk.json, then any
 * `-c ringPortability.<path>=<value>` overrides (`-c ringPortability.rateLimits.scope=customer`).
 * An override's value is parsed as JSON when it is JSON (numbers, booleans, arrays) and taken
 * as a string otherwise. Throws a ConfigurationError naming every bad key.
 */
export function settingsFromContext(node: Node): Settings {
  return parseSettings(settingsInputFromContext(node.getAllContext() as Record<string, unknown>), CONTEXT_KEY);
}

export function settingsInputFromContext(context: Record<string, unknown>): Record<string, unknown> {
  const base = parseObject(context[CONTEXT_KEY], CONTEXT_KEY);
  const prefix = `${CONTEXT_KEY}.`;
  const overrides = Object.keys(context)
    .filter((key) => key.startsWith(prefix))
    .sort();
  for (const key of overrides) {
    setPath(base, key.slice(prefix.length).split('.'), parseValue(context[key]), key);
  }
  return base;
}

function parseObject(value: unknown, key: string): Record<string, unknown> {
  if (value === undefined) return {};
  const parsed = typeof value === 'string' ? parseJson(value, key) : value;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigurationError(`Invalid ring-portability configuration:\n  - ${key}: must be an object`);
  }
  return structuredClone(parsed as Record<string, unknown>);
}

function parseJson(text: string, key: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigurationError(`Invalid ring-portability configuration:\n  - ${key}: is not valid JSON`);
  }
}

function parseValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown, key: string): void {
  if (path.some((part) => part === '' || part === '__proto__' || part === 'constructor' || part === 'prototype')) {
    throw new ConfigurationError(`Invalid ring-portability configuration:\n  - ${key}: is not a valid setting path`);
  }
  let current = target;
  for (const part of path.slice(0, -1)) {
    const next = current[part];
    if (next === undefined) {
      current[part] = {};
    } else if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      throw new ConfigurationError(
        `Invalid ring-portability configuration:\n  - ${key}: ${CONTEXT_KEY}.${path.slice(0, path.indexOf(part) + 1).join('.')} is not an object`,
      );
    }
    current = current[part] as Record<string, unknown>;
  }
  current[path[path.length - 1]] = value;
}
