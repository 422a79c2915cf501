/**
 * Root of every error the product raises on purpose. Handlers and queue consumers map these
 * to HTTP responses or retry decisions in one place; anything else is a bug.
 */
export abstract class PortabilityError extends Error {
  abstract override readonly name: string;
}

/**
 * A setting (CDK context, props or a Lambda's environment) is missing or invalid.
 * The message names every offending key; it never contains secret values.
 */
export class ConfigurationError extends PortabilityError {
  readonly name = 'ConfigurationError';

  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}
