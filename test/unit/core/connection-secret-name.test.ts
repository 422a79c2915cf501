import { connectionSecretName } from '../../../lambdas/core/connections/connect';
import { CustomerId } from '../../../lambdas/core/connections/model';
import { customerIdFromSecretName, customerIdInSecretName, SECRET_NAME, secretNames } from '../../../lambdas/core/definitions';
import { parseSettings } from '../../../lambdas/core/settings';

/** The characters CustomerId accepts after its first, read from the schema itself (all of ASCII and Latin-1). */
const alphabet = Array.from({ length: 256 }, (_, code) => String.fromCharCode(code)).filter((char) => CustomerId.safeParse(`a${char}`).success);
const leading = alphabet.filter((char) => CustomerId.safeParse(char).success);

/** A small deterministic generator (mulberry32): the same ids on every run, on every machine. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Ids of every length 1-128 over the whole alphabet, half of their characters drawn from the five non-alphanumerics. */
function generatedIds(count: number, seed: number): string[] {
  const next = random(seed);
  const pick = (chars: readonly string[]) => chars[Math.floor(next() * chars.length)];
  const specials = alphabet.filter((char) => !/[A-Za-z0-9]/.test(char));
  return Array.from({ length: count }, (_, i) => {
    const length = (i % 128) + 1;
    let id = pick(leading);
    while (id.length < length) id += pick(next() < 0.5 ? specials : alphabet);
    return id;
  });
}

// The longest prefix the settings allow: the longest names the product can make.
const longestPrefix = `a${'b'.repeat(38)}c`;
const settings = parseSettings({ resourcePrefix: longestPrefix });

describe('a customer id in its connection secret name', () => {
  it('knows the alphabet it encodes: letters, digits and . _ : @ -', () => {
    expect(alphabet.join('')).toBe('-.0123456789:@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz');
    expect(leading.join('')).toBe('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
  });

  it('writes every character of the alphabet as a distinct character a secret name allows', () => {
    const written = alphabet.map(customerIdInSecretName);
    for (const char of written) {
      expect(char).toHaveLength(1);
      expect(char).toMatch(/^[A-Za-z0-9/_+=.@-]$/);
    }
    // One character for one: no two ids of the same length can meet, and lengths are kept.
    expect(new Set(written).size).toBe(alphabet.length);
    expect(customerIdInSecretName(':')).toBe('=');
  });

  it('is reversible, collision-free and valid for generated ids of every length', () => {
    const ids = [...new Set(generatedIds(2_000, 13))];
    const names = new Map<string, string>();
    for (const id of ids) {
      expect(CustomerId.safeParse(id).success).toBe(true);
      const name = connectionSecretName(settings, id);
      expect(name).toBe(secretNames.connection(longestPrefix, id));
      expect(name).toMatch(SECRET_NAME);
      // Within the 256 characters Secrets Manager answers names with, not only the 512 it takes.
      expect(name!.length).toBeLessThanOrEqual(181);
      const segment = name!.slice(`${longestPrefix}/connections/`.length);
      expect(customerIdFromSecretName(segment)).toBe(id);
      expect(names.get(name!)).toBeUndefined();
      names.set(name!, id);
    }
    expect(names.size).toBe(ids.length);
  });

  it('keeps ids without ":" as they are, and tells apart ids that differ in one punctuation mark', () => {
    expect(secretNames.connection('ring-portability', 'c-123')).toBe('ring-portability/connections/c-123');
    expect(secretNames.connection('ring-portability', 'urn:acme:user@eu.example-1_2')).toBe('ring-portability/connections/urn=acme=user@eu.example-1_2');
    const lookalikes = ['a:b', 'a.b', 'a-b', 'a_b', 'a@b', 'ab', 'a::b', 'a:.b', 'a.:b'];
    expect(new Set(lookalikes.map((id) => connectionSecretName(settings, id))).size).toBe(lookalikes.length);
  });

  it('gives no name for what is not a customer id, so "a=b" can never take the name of "a:b"', () => {
    for (const id of ['', 'a=b', 'a/b', 'a+b', 'a b', '-a', ':a', 'a'.repeat(129), 'é']) {
      expect(connectionSecretName(settings, id)).toBeUndefined();
    }
    expect(connectionSecretName(settings, 'a:b')).toBe(`${longestPrefix}/connections/a=b`);
  });
});
