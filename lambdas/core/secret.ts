import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A value that must never be logged: tokens, codes, PKCE verifiers, client secrets. It prints
 * as `[redacted]` through toString, JSON.stringify, util.inspect and template strings; the
 * value comes out only through `reveal()`, at the one place that sends it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }

  get [Symbol.toStringTag](): string {
    return 'Secret';
  }

  equals(other: Secret): boolean {
    return this.#value === other.#value;
  }
}
