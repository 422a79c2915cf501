import { PortabilityError } from '../errors';

/** The file is not a well-formed JSON array (or NDJSON): where, and why. */
export class MalformedJsonError extends PortabilityError {
  readonly name = 'MalformedJsonError';

  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`malformed JSON at byte ${offset}: ${reason}`);
  }
}

export interface JsonElement {
  /** The element's bytes, as UTF-8 text (parse with JSON.parse). */
  readonly text: string;
  /** The element's bytes themselves: a view of the chunk they arrived in (or a copy, for an element over several chunks). */
  readonly bytes: Buffer;
  /** Byte offset of its first byte in the file. */
  readonly start: number;
  /** Byte offset just after its last byte: a checkpoint to resume from. */
  readonly end: number;
}

export type JsonFormat = 'array' | 'ndjson';

export interface SplitterOptions {
  /** An element larger than this fails fast (a missing `}` must not swallow the file). @default 400 KiB */
  readonly maxElementBytes?: number;
  /** Resume after an element that ended at this byte offset (the stream starts there). */
  readonly resumeAt?: { readonly offset: number; readonly format: JsonFormat };
  /** Nesting deeper than this is refused. @default 256 */
  readonly maxDepth?: number;
}

const enum State {
  BeforeStart,
  BeforeElement,
  InElement,
  AfterElement,
  Done,
}

const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/**
 * Cuts a JSON array (or NDJSON) into its top-level elements as bytes arrive, tracking only
 * string/escape state and bracket nesting: memory is one element, whatever the file's size.
 * It refuses what lenient parsers accept: a truncated file (`end()` before the closing `]`),
 * trailing garbage, mismatched brackets, an element over the size cap. Offsets are bytes in
 * the file, so a load can checkpoint after any element and resume there (HTTP Range).
 */
export class JsonElementSplitter {
  private state = State.BeforeStart;
  private format: JsonFormat = 'array';
  private position = 0;
  private parts: Buffer[] = [];
  private size = 0;
  private elementStart = 0;
  private readonly stack: number[] = [];
  private inString = false;
  private escaped = false;
  /** A top-level primitive (number, true, …): ends at a delimiter rather than a bracket. */
  private primitive = false;
  private elements = 0;
  private readonly maxBytes: number;
  private readonly maxDepth: number;

  constructor(options: SplitterOptions = {}) {
    this.maxBytes = options.maxElementBytes ?? 400 * 1024;
    this.maxDepth = options.maxDepth ?? 256;
    if (options.resumeAt) {
      this.state = State.AfterElement;
      this.format = options.resumeAt.format;
      this.position = options.resumeAt.offset;
      this.elements = 1;
    }
  }

  get detectedFormat(): JsonFormat {
    return this.format;
  }

  /** Feeds the next bytes; returns the elements they completed. */
  push(chunk: Buffer): JsonElement[] {
    // Where the last push found its quotes says nothing of this one: the caller may refill a buffer and push it again.
    this.scanned = undefined;
    const out: JsonElement[] = [];
    let sliceStart = this.state === State.InElement ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      const offset = this.position + i;
      switch (this.state) {
        case State.BeforeStart:
          if (isSpace(byte) || (offset < 3 && (byte === 0xef || byte === 0xbb || byte === 0xbf))) continue;
          if (byte === OPEN_ARRAY) this.state = State.BeforeElement;
          else if (byte === OPEN_OBJECT) {
            this.format = 'ndjson';
            sliceStart = this.begin(i, offset, byte);
          } else throw new MalformedJsonError(offset, 'expected [ (a JSON array) or { (NDJSON)');
          continue;
        case State.BeforeElement:
          if (isSpace(byte)) continue;
          if (byte === CLOSE_ARRAY && this.elements === 0) {
            this.state = State.Done;
            continue;
          }
          if (byte === COMMA || byte === CLOSE_ARRAY) throw new MalformedJsonError(offset, 'expected an element');
          sliceStart = this.begin(i, offset, byte);
          continue;
        case State.AfterElement:
          if (isSpace(byte)) continue;
          if (this.format === 'array') {
            if (byte === COMMA) this.state = State.BeforeElement;
            else if (byte === CLOSE_ARRAY) this.state = State.Done;
            else throw new MalformedJsonError(offset, 'expected , or ] after an element');
          } else if (byte === OPEN_OBJECT) {
            sliceStart = this.begin(i, offset, byte);
          } else throw new MalformedJsonError(offset, 'expected { at the start of an NDJSON line');
          continue;
        case State.Done:
          if (!isSpace(byte)) throw new MalformedJsonError(offset, 'data after the end of the array');
          continue;
        case State.InElement: {
          if (this.primitive) {
            if (isSpace(byte) || byte === COMMA || byte === CLOSE_ARRAY) {
              out.push(this.finish(chunk, sliceStart, i, offset));
              sliceStart = -1;
              i--; // let AfterElement see the delimiter
            }
            continue;
          }
          if (this.inString) {
            if (this.escaped) {
              this.escaped = false;
              continue;
            }
            if (byte !== QUOTE && byte !== BACKSLASH) {
              // Skip the string's plain bytes natively: jump to its next quote or backslash.
              const jump = this.nextSpecial(chunk, i);
              if (jump === -1) {
                i = chunk.length - 1;
                continue;
              }
              i = jump - 1;
              continue;
            }
            if (byte === BACKSLASH) this.escaped = true;
            else {
              this.inString = false;
              if (this.stack.length === 0) {
                out.push(this.finish(chunk, sliceStart, i + 1, offset + 1));
                sliceStart = -1;
              }
            }
            continue;
          }
          if (byte === QUOTE) this.inString = true;
          else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
            if (this.stack.length >= this.maxDepth) throw new MalformedJsonError(offset, `nesting deeper than ${this.maxDepth}`);
            this.stack.push(byte);
          } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
            const open = this.stack.pop();
            if (open === undefined || (open === OPEN_OBJECT) !== (byte === CLOSE_OBJECT)) throw new MalformedJsonError(offset, `unexpected ${String.fromCharCode(byte)}`);
            if (this.stack.length === 0) {
              out.push(this.finish(chunk, sliceStart, i + 1, offset + 1));
              sliceStart = -1;
            }
          }
          continue;
        }
      }
    }
    if (this.state === State.InElement) this.keep(chunk.subarray(sliceStart === -1 ? 0 : sliceStart));
    this.position += chunk.length;
    return out;
  }

  /** The input is over: anything but a closed array (or complete NDJSON) is an error. */
  end(): JsonElement[] {
    if (this.state === State.InElement && this.primitive && this.format === 'array') {
      throw new MalformedJsonError(this.position, 'the file ends inside the array');
    }
    if (this.state === State.Done || (this.format === 'ndjson' && this.state === State.AfterElement)) return [];
    if (this.state === State.BeforeStart) throw new MalformedJsonError(this.position, 'the file is empty');
    throw new MalformedJsonError(this.position, 'the file ends before the array is closed (truncated)');
  }

  private quoteAt = -1;
  private backslashAt = -1;
  private scanned: Buffer | undefined;

  /** Index of the next `"` or `\\` at or after `from` in `chunk`, or -1; remembered within one push. */
  private nextSpecial(chunk: Buffer, from: number): number {
    if (this.scanned !== chunk) {
      this.scanned = chunk;
      this.quoteAt = -1;
      this.backslashAt = -1;
    }
    if (this.quoteAt !== -2 && this.quoteAt < from) this.quoteAt = notFound(chunk.indexOf(QUOTE, from));
    if (this.backslashAt !== -2 && this.backslashAt < from) this.backslashAt = notFound(chunk.indexOf(BACKSLASH, from));
    const quote = this.quoteAt === -2 ? Infinity : this.quoteAt;
    const backslash = this.backslashAt === -2 ? Infinity : this.backslashAt;
    const next = Math.min(quote, backslash);
    return next === Infinity ? -1 : next;
  }

  private begin(index: number, offset: number, byte: number): number {
    this.state = State.InElement;
    this.elementStart = offset;
    this.parts = [];
    this.size = 0;
    this.inString = byte === QUOTE;
    this.escaped = false;
    this.primitive = byte !== OPEN_OBJECT && byte !== OPEN_ARRAY && byte !== QUOTE;
    if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) this.stack.push(byte);
    return index;
  }

  private keep(slice: Buffer): void {
    this.size += slice.length;
    if (this.size > this.maxBytes) throw new MalformedJsonError(this.elementStart, `an element is larger than ${this.maxBytes} bytes`);
    // Copy: the caller may reuse the chunk's memory.
    this.parts.push(Buffer.from(slice));
  }

  private finish(chunk: Buffer, sliceStart: number, endIndex: number, endOffset: number): JsonElement {
    const tail = chunk.subarray(sliceStart === -1 ? 0 : sliceStart, endIndex);
    this.size += tail.length;
    if (this.size > this.maxBytes) throw new MalformedJsonError(this.elementStart, `an element is larger than ${this.maxBytes} bytes`);
    const bytes = this.parts.length === 0 ? tail : Buffer.concat([...this.parts, tail]);
    this.parts = [];
    this.elements++;
    this.state = State.AfterElement;
    this.primitive = false;
    return { text: bytes.toString('utf8'), bytes, start: this.elementStart, end: endOffset };
  }
}

/** An index from indexOf, with -1 (none left in the chunk) remembered as -2. */
function notFound(index: number): number {
  return index === -1 ? -2 : index;
}
