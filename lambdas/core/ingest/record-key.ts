import { hash } from 'node:crypto';
import { canonicalBytes } from './canonical-bytes';

/**
 * JSON with object keys sorted at every level: equal records give equal text. It runs once per
 * record, so the text is written by the native `JSON.stringify` from a copy of the record with
 * its keys in sorted order (objects already in order are not copied), rather than built piece
 * by piece in JS. Its output must never change, or the same record would get a new key: a
 * property test holds it to the plain recursive definition. `value` is parsed JSON.
 */
export function canonicalJson(value: unknown): string {
  const sorted = sortedCopy(value);
  return sorted === UNORDERABLE ? loopCanonicalJson(value) : JSON.stringify(sorted);
}

/** An object whose sorted keys V8 would not keep in that order: the record takes the loop. */
const UNORDERABLE = Symbol('unorderable');

function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return sortedArray(value);
  const shape = shapeOf(value);
  return shape ? sortedObject(value as Record<string, unknown>, shape) : UNORDERABLE;
}

function sortedArray(array: unknown[]): unknown {
  let copy: unknown[] | undefined;
  for (let i = 0; i < array.length; i++) {
    const item = sortedCopy(array[i]);
    if (item === UNORDERABLE) return item;
    if (item !== array[i]) (copy ??= array.slice())[i] = item;
  }
  return copy ?? array;
}

function sortedObject(object: Record<string, unknown>, shape: Shape): unknown {
  const { keys } = shape;
  let copy: Record<string, unknown> | undefined = shape.inOrder ? undefined : {};
  for (let i = 0; i < keys.length; i++) {
    const original = object[keys[i]];
    const item = sortedCopy(original);
    if (item === UNORDERABLE) return item;
    if (copy === undefined && item !== original) {
      copy = {};
      for (let j = 0; j < i; j++) copy[keys[j]] = object[keys[j]];
    }
    if (copy !== undefined) copy[keys[i]] = item;
  }
  return copy ?? object;
}

interface Shape {
  /** The object's keys, sorted. */
  readonly keys: readonly string[];
  /** Its own order already is the sorted one: it is written as it is. */
  readonly inOrder: boolean;
}

/** One node per key sequence seen: records of a file share a few, so their sort is done once. */
interface ShapeNode {
  readonly next: Map<string, ShapeNode>;
  shape?: Shape | null;
}

const SHAPES: ShapeNode = { next: new Map() };
const MAX_SHAPE_NODES = 10_000;
let shapeNodes = 0;

/** The sorted keys of an object, or null when V8 would not enumerate them in that order. */
function shapeOf(object: object): Shape | null {
  let node: ShapeNode | undefined = SHAPES;
  for (const key in object) {
    let next: ShapeNode | undefined = node.next.get(key);
    if (next === undefined) {
      // Map-like objects (keys that are data) would grow the cache without end.
      if (shapeNodes >= MAX_SHAPE_NODES) return sortedShape(object);
      next = { next: new Map() };
      node.next.set(key, next);
      shapeNodes++;
    }
    node = next;
  }
  if (node.shape === undefined) node.shape = sortedShape(object);
  return node.shape;
}

/**
 * Integer-like keys are enumerated first in numeric order whatever the insertion order, and
 * assigning `__proto__` sets the prototype: a probe object built in sorted order shows both.
 */
function sortedShape(object: object): Shape | null {
  const own = Object.keys(object);
  const keys = [...own].sort();
  const probe: Record<string, number> = {};
  for (const key of keys) probe[key] = 0;
  const probed = Object.keys(probe);
  if (probed.length !== keys.length || probed.some((key, i) => key !== keys[i])) return null;
  return { keys, inOrder: own.every((key, i) => key === keys[i]) };
}

/** The canonical text built in JS, one loop per level, for records the sorted copy cannot hold. */
function loopCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + loopCanonicalJson(value[i]);
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const key of keys) {
    const item = object[key];
    if (item === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${loopCanonicalJson(item)}`;
  }
  return `${out}}`;
}

/**
 * The records table key of a record: partition `<customerId>#<dataset>`, sort
 * `<eventDate or ->#<sha256 of the canonical record>`. The same record imported twice (an
 * overlapping window, a redelivered load) gets the same key, so it is written once.
 */
export function recordKey(customerId: string, dataset: string, record: Record<string, unknown>): { pk: string; sk: string } {
  return { pk: recordPartition(customerId, dataset), sk: recordSortKey(record) };
}

/** The partition key of a customer's dataset (the same for every record of a file). */
export function recordPartition(customerId: string, dataset: string): string {
  return `${customerId}#${dataset}`;
}

/** The sort key of a record: `<eventDate or ->#<sha256 of the canonical record>`. */
export function recordSortKey(record: Record<string, unknown>, digest = recordDigest(record)): string {
  const eventDate = typeof record.eventDate === 'string' && record.eventDate !== '' ? record.eventDate : '-';
  return `${eventDate}#${digest}`;
}

/**
 * The sha256 of the canonical record, in hex: the part of the sort key that identifies it.
 * `source`, the UTF-8 bytes `record` was parsed from, lets it hash the canonical form written
 * from those bytes (canonical-bytes.ts) rather than serialise a sorted copy of the record; the
 * bytes hashed are the same either way.
 */
export function recordDigest(record: Record<string, unknown>, source?: Uint8Array): string {
  const canonical = source === undefined ? undefined : canonicalBytes(source);
  return hash('sha256', canonical ?? canonicalJson(record), 'hex');
}
