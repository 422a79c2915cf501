import { isAscii, isUtf8 } from 'node:buffer';

/**
 * The canonical JSON of a record (record-key.ts: keys sorted at every level) written straight
 * from the element's own UTF-8 bytes, for the sha256 of its key. In Ring's files (the sandbox's,
 * and the reference's examples) every token is spelled as `JSON.stringify` spells it, and only
 * the record's own members are out of order (its nested objects' few keys are already sorted):
 * putting the members in order is then a copy of byte ranges, with no sorted copy of the parsed
 * record serialised again. One pass over the bytes in JS, with locals only, costs less than
 * that serialisation.
 *
 * `source` must be a text `JSON.parse` has accepted (load parses every element first). The
 * answer is undefined, for the caller to take the reference path, unless the bytes prove equal
 * to `canonicalJson(JSON.parse(text))`; it declines:
 * - a string (or key) with a backslash escape;
 * - a number not in the shortest form `JSON.stringify` writes: an exponent, `-0`, a trailing
 *   zero in the fraction, more than 15 digits, or below 1e-6 (written with an exponent);
 * - a nested object whose keys are not already in order, a key given twice (the parse keeps the
 *   last value), a key beyond the Basic Multilingual Plane (its UTF-8 order is not the UTF-16
 *   order the sort uses), bytes that are not valid UTF-8 (the decode replaces them);
 * - anything but an object, more than MAX_MEMBERS members or MAX_BYTES bytes.
 *
 * Whitespace between tokens (a pretty-printed file) is dropped first, as `JSON.stringify` writes
 * none. The result is `source` itself when the record is already canonical, else a view of a
 * buffer reused by the next call: hash it before calling again.
 */
export function canonicalBytes(source: Uint8Array): Uint8Array | undefined {
  const canonical = fromBytes(source);
  if (canonical !== WHITESPACE) return canonical;
  // Pretty-printed (as the reference's examples are): the same, from the bytes without it.
  const again = fromBytes(withoutWhitespace(source));
  return again === WHITESPACE ? undefined : again;
}

/** What `fromBytes` answers at whitespace between tokens: try again on the bytes without it. */
const WHITESPACE = new Uint8Array(0);

function fromBytes(source: Uint8Array): Uint8Array | undefined {
  const end = source.length;
  if (end > MAX_BYTES || end < 2 || source[0] !== OPEN_OBJECT) return undefined;
  // A multi-byte character is copied as it is: only valid UTF-8 decodes to the same characters.
  const ascii = isAscii(source);
  if (!ascii && !isUtf8(source)) return undefined;
  let depth = 0;
  /** Whether the next string at this depth is a key (in an object, after `{` or `,`). */
  let expectKey = false;
  let members = 0;
  /** Inside a member of the record, whose key ends at `keyEnd`. */
  let inMember = false;
  let keyEnd = 0;
  let i = 0;
  while (i < end) {
    const byte = source[i];
    if (byte === QUOTE) {
      const start = i++;
      for (;;) {
        if (i >= end) return undefined;
        const inner = source[i++];
        if (inner === QUOTE) break;
        if (inner === BACKSLASH || inner < 0x20) return undefined;
      }
      if (expectKey) {
        expectKey = false;
        if (source[i] !== COLON) return isSpace(source[i]) ? WHITESPACE : undefined;
        // A key beyond the BMP would sort otherwise by its bytes (4-byte sequences start at 0xf0).
        if (!ascii && beyondBmp(source, start, i)) return undefined;
        if (depth === 1) {
          if (members === MAX_MEMBERS) return undefined;
          keyStarts[members] = start;
          keyPrefixes[members] = prefixOf(source, start, i);
          keyEnd = i;
          inMember = true;
        } else {
          // A nested object must already be in order: each key after the one before it.
          const previous = lastKeyEnd[depth];
          if (previous !== 0 && compareBytes(source, lastKeyStart[depth], previous, start, i) >= 0) return undefined;
          lastKeyStart[depth] = start;
          lastKeyEnd[depth] = i;
        }
        i++;
      }
      continue;
    }
    if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (++depth >= MAX_DEPTH) return undefined;
      isObject[depth] = byte === OPEN_OBJECT ? 1 : 0;
      expectKey = byte === OPEN_OBJECT;
      lastKeyEnd[depth] = 0;
      i++;
      continue;
    }
    if (byte === COMMA || byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (depth === 1) {
        if (inMember) {
          keyEnds[members] = keyEnd;
          memberEnds[members++] = i;
          inMember = false;
        }
        if (byte !== COMMA) {
          if (i !== end - 1) return undefined;
          break;
        }
      }
      if (byte === COMMA) expectKey = isObject[depth] === 1;
      else {
        depth--;
        expectKey = false;
      }
      i++;
      continue;
    }
    if (byte === MINUS || (byte >= ZERO && byte <= NINE)) {
      i = number(source, i);
      if (i < 0) return undefined;
      continue;
    }
    // true, false, null: JSON.parse has checked their letters.
    if (byte === 0x74 || byte === 0x6e) i += 4;
    else if (byte === 0x66) i += 5;
    else return isSpace(byte) ? WHITESPACE : undefined;
  }
  if (depth !== 1 || i !== end - 1) return undefined;
  const order = sortedMembers(source, members);
  if (order === undefined) return undefined;
  if (order === IN_ORDER) return source;
  // Four bytes at a time through DataViews: half the cost of a byte loop, and a view per member
  // (set(subarray)) would cost more than its few bytes.
  const from = new DataView(source.buffer, source.byteOffset, source.length);
  out[0] = OPEN_OBJECT;
  let n = 1;
  for (let k = 0; k < members; k++) {
    if (k > 0) out[n++] = COMMA;
    const member = order[k];
    let j = keyStarts[member];
    const memberEnd = memberEnds[member];
    for (; j + 4 <= memberEnd; j += 4, n += 4) outView.setUint32(n, from.getUint32(j));
    while (j < memberEnd) out[n++] = source[j++];
  }
  out[n++] = CLOSE_OBJECT;
  return out.subarray(0, n);
}

/** Larger elements take the reference path (rare): the scratch buffer stays small. */
const MAX_BYTES = 64 * 1024;
const MAX_MEMBERS = 1024;
const MAX_DEPTH = 64;
/** Digits a decimal can have and still be the shortest form of its double (DBL_DIG). */
const MAX_DIGITS = 15;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

const out = new Uint8Array(MAX_BYTES);
/** A pretty-printed element without its whitespace. */
const compacted = new Uint8Array(MAX_BYTES);
const outView = new DataView(out.buffer);
/** The record's members: where each key starts (its quote), ends (after its quote), and where the member ends. */
const keyStarts = new Int32Array(MAX_MEMBERS);
/** Each key's first PREFIX_BYTES bytes as one number: most comparisons of the sort are one of numbers. */
const keyPrefixes = new Float64Array(MAX_MEMBERS);
const PREFIX_BYTES = 6;
const keyEnds = new Int32Array(MAX_MEMBERS);
const memberEnds = new Int32Array(MAX_MEMBERS);
/** Per depth: an object (1) or an array (0), and the span of the last key read in it (end 0: none yet). */
const isObject = new Uint8Array(MAX_DEPTH);
const lastKeyStart = new Int32Array(MAX_DEPTH);
const lastKeyEnd = new Int32Array(MAX_DEPTH);
/** The sorted order of the last record with this many members: the next one most likely has it too. */
const lastOrders: (Int32Array | undefined)[] = [];
const IN_ORDER = new Int32Array(0);

/**
 * Where the number at `start` ends if its digits are exactly those `JSON.stringify` writes for
 * the double it parses to, else -1. At most 15 significant digits round-trip and no shorter
 * decimal reaches the same double, so the shortest form is these digits, written without an
 * exponent from 1e-6 to 1e21.
 */
function number(source: Uint8Array, start: number): number {
  let i = start;
  if (source[i] === MINUS) i++;
  let digits = 0;
  const zeroInteger = source[i] === ZERO;
  if (zeroInteger) i++;
  else {
    while (source[i] >= ZERO && source[i] <= NINE) {
      i++;
      digits++;
    }
    if (digits === 0) return -1;
  }
  if (source[i] === DOT) {
    i++;
    let leadingZeros = 0;
    let fraction = 0;
    while (source[i] >= ZERO && source[i] <= NINE) {
      if (zeroInteger && source[i] === ZERO && fraction === leadingZeros) leadingZeros++;
      i++;
      fraction++;
    }
    if (fraction === 0 || source[i - 1] === ZERO || leadingZeros > 5) return -1;
    digits += fraction;
  } else if (zeroInteger && source[start] === MINUS) return -1; // -0 is written 0
  const next = source[i];
  // An exponent, or digits after a leading 0.
  if (next === 0x65 || next === 0x45 || next === DOT || (next >= ZERO && next <= NINE)) return -1;
  return digits <= MAX_DIGITS ? i : -1;
}

/**
 * The members' order by key: an insertion sort seeded with the last order seen for this many
 * members, so a file's usual shape costs one comparison per member. IN_ORDER when they already
 * are, undefined for a repeated key.
 */
function sortedMembers(source: Uint8Array, count: number): Int32Array | undefined {
  let inOrder = true;
  for (let k = 1; k < count && inOrder; k++) {
    const compared = compareKeys(source, k - 1, k);
    if (compared === 0) return undefined;
    inOrder = compared < 0;
  }
  if (inOrder) return IN_ORDER;
  let order = lastOrders[count];
  if (order === undefined) {
    order = new Int32Array(count);
    for (let k = 0; k < count; k++) order[k] = k;
    lastOrders[count] = order;
  }
  for (let k = 1; k < count; k++) {
    const member = order[k];
    let j = k - 1;
    for (; j >= 0; j--) {
      const compared = compareKeys(source, order[j], member);
      // Put the member back before declining: the order is kept for the next record of this size.
      if (compared === 0) {
        order[j + 1] = member;
        return undefined;
      }
      if (compared < 0) break;
      order[j + 1] = order[j];
    }
    order[j + 1] = member;
  }
  return order;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** The element's bytes less the whitespace between its tokens (strings are kept whole). */
function withoutWhitespace(source: Uint8Array): Uint8Array {
  let n = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < source.length; i++) {
    const byte = source[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === BACKSLASH) escaped = true;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (isSpace(byte)) continue;
    compacted[n++] = byte;
  }
  return compacted.subarray(0, n);
}

function beyondBmp(source: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (source[i] >= 0xf0) return true;
  return false;
}

function compareKeys(source: Uint8Array, a: number, b: number): number {
  const difference = keyPrefixes[a] - keyPrefixes[b];
  return difference !== 0 ? difference : compareBytes(source, keyStarts[a], keyEnds[a], keyStarts[b], keyEnds[b]);
}

/**
 * The key's first bytes (between its quotes) as a number that orders as they do: a shorter key
 * is padded with zeros, below any byte a key can hold (a raw control character is not JSON).
 */
function prefixOf(source: Uint8Array, start: number, end: number): number {
  let prefix = 0;
  for (let k = 0, i = start + 1; k < PREFIX_BYTES; k++, i++) prefix = prefix * 256 + (i < end - 1 ? source[i] : 0);
  return prefix;
}

/** Compares two string tokens (quotes included) by the bytes between their quotes: UTF-8 order is UTF-16 order in the BMP. */
function compareBytes(source: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  let i = aStart + 1;
  let j = bStart + 1;
  const iEnd = aEnd - 1;
  const jEnd = bEnd - 1;
  while (i < iEnd && j < jEnd) {
    const difference = source[i++] - source[j++];
    if (difference !== 0) return difference;
  }
  return iEnd - i - (jEnd - j);
}
