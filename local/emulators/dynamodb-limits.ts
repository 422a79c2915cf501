import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';

/**
 * DynamoDB keeps nested attributes up to 32 levels deep and refuses a write that nests deeper
 * ("Nesting Levels have exceeded supported limits"); dynalite stores any depth. The records
 * table holds each record as a map, so load relies on that refusal (it stores such a record as
 * a pointer to its bytes): this check puts it in front of dynalite's own handler.
 */
export const MAX_NESTING_LEVELS = 32;

const WRITES = new Set(['PutItem', 'BatchWriteItem', 'UpdateItem', 'TransactWriteItems']);
/** dynalite's own request limit; a larger body is left for it to refuse (413). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export function refuseDeepNesting(server: Server): void {
  const [handler] = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    if (!WRITES.has(operation)) return handler(request, response);
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('error', () => response.destroy());
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      if (size <= MAX_BODY_BYTES && nestsTooDeep(body)) {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ __type: 'com.amazon.coral.validate#ValidationException', message: 'Nesting Levels have exceeded supported limits' }));
        return;
      }
      // dynalite reads the request as a stream: hand it the same bytes, with the same headers.
      const replay = Object.assign(new PassThrough(), { headers: request.headers, method: request.method, url: request.url, httpVersion: request.httpVersion });
      handler(replay as unknown as IncomingMessage, response);
      replay.end(body);
    });
  });
}

/**
 * Whether an attribute value in the request nests deeper than DynamoDB allows: a top-level
 * attribute that is a map or list is level 1. Counted on the parsed request, whatever the
 * operation's shape: every `{"M": …}` or `{"L": …}` is one level.
 */
function nestsTooDeep(body: Buffer): boolean {
  // Each level is two JSON levels ({"M": {…}}): most writes are too shallow to need parsing.
  if (bracketDepth(body) <= 2 * MAX_NESTING_LEVELS) return false;
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    return false; // dynalite answers a body that is not JSON
  }
  const depth = (value: unknown): number => {
    if (value === null || typeof value !== 'object') return 0;
    const record = value as Record<string, unknown>;
    if (Array.isArray(value)) return Math.max(0, ...value.map(depth));
    if ('M' in record && record.M !== null && typeof record.M === 'object') return 1 + Math.max(0, ...Object.values(record.M).map(depth));
    if ('L' in record && Array.isArray(record.L)) return 1 + Math.max(0, ...(record.L as unknown[]).map(depth));
    return Math.max(0, ...Object.values(record).map(depth));
  };
  return depth(request) > MAX_NESTING_LEVELS;
}

/** The deepest `{`/`[` nesting of a JSON text, outside strings. */
function bracketDepth(text: Buffer): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i];
    if (inString) {
      if (byte === 0x5c) i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (byte === 0x7d || byte === 0x5d) depth--;
  }
  return deepest;
}
