import fc from 'fast-check';
import { JsonElementSplitter, MalformedJsonError, type JsonElement, type SplitterOptions } from '../../../../lambdas/core/ingest/json-elements';

/** Splits `bytes` fed in chunks of the given sizes (cycled). */
function split(bytes: Buffer, chunkSizes: number[] = [bytes.length || 1], options?: SplitterOptions): JsonElement[] {
  const splitter = new JsonElementSplitter(options);
  const out: JsonElement[] = [];
  for (let at = 0, n = 0; at < bytes.length; n++) {
    const size = Math.max(1, chunkSizes[n % chunkSizes.length]);
    out.push(...splitter.push(bytes.subarray(at, at + size)));
    at += size;
  }
  out.push(...splitter.end());
  return out;
}

const values = (elements: JsonElement[]) => elements.map((element) => JSON.parse(element.text) as unknown);

describe('JsonElementSplitter', () => {
  it('cuts a JSON array into its elements, with byte offsets into the file', () => {
    const text = '[\n {"a": "x]}"}, [1,[2]] ,"s\\"]",42, true,null ,-1.5e3]\n';
    const bytes = Buffer.from(text);
    const elements = split(bytes, [3]);
    expect(values(elements)).toEqual(JSON.parse(text));
    for (const element of elements) expect(bytes.subarray(element.start, element.end).toString()).toBe(element.text);
  });

  it('handles an empty array, a BOM, and multi-byte characters split across chunks', () => {
    expect(split(Buffer.from(' [ ] '))).toEqual([]);
    const text = '\uFEFF[{"city":"Kraków","emoji":"📷"}]';
    expect(values(split(Buffer.from(text), [1]))).toEqual([{ city: 'Kraków', emoji: '📷' }]);
  });

  it('reads NDJSON too', () => {
    const elements = split(Buffer.from('{"a":1}\n{"b":[2]}\n\n{"c":"}"}\n'), [4]);
    expect(values(elements)).toEqual([{ a: 1 }, { b: [2] }, { c: '}' }]);
  });

  it('matches JSON.parse for any array, however it is chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 20 }), fc.constantFrom(0, 2), fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 5 }), (array, indent, chunks) => {
        const text = JSON.stringify(array, null, indent);
        const bytes = Buffer.from(text);
        const elements = split(bytes, chunks);
        expect(values(elements)).toEqual(JSON.parse(text));
        // Each element's bytes are the file's from its start to its end, and its text is their decoding.
        for (const element of elements) {
          expect(element.bytes.equals(bytes.subarray(element.start, element.end))).toBe(true);
          expect(element.bytes.toString('utf8')).toBe(element.text);
        }
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['a truncated file', '[{"a":1},{"b":', 'truncated'],
    ['a file cut between elements', '[{"a":1},', 'truncated'],
    ['a file that never opens an array', 'hello', 'expected ['],
    ['trailing garbage', '[{"a":1}] {"b":2}', 'after the end'],
    ['mismatched brackets', '[{"a":[1}]', 'unexpected }'],
    ['a missing comma', '[{"a":1} {"b":2}]', 'expected , or ]'],
    ['an empty element', '[{"a":1},,{"b":2}]', 'expected an element'],
    ['a trailing comma', '[{"a":1},]', 'expected an element'],
    ['an empty file', '', 'empty'],
  ])('refuses %s', (_what, text, reason) => {
    expect(() => split(Buffer.from(text))).toThrow(MalformedJsonError);
    expect(() => split(Buffer.from(text))).toThrow(reason);
  });

  it('refuses the reference’s HistoryLog sample (an object missing its closing "},")', () => {
    const sample = `[
  { "locationId": "d2396de1", "deviceType": "adapter.zwave", "impulseTypes": ["network-stats.update-delta"]
  {
    "locationId": "d2396de1", "deviceType": "adapter.ringnet"
  }
]`;
    expect(() => split(Buffer.from(sample), [5])).toThrow(MalformedJsonError);
  });

  it('fails fast on an element over the size cap', () => {
    const text = `[{"a":"${'x'.repeat(2000)}"}]`;
    expect(() => split(Buffer.from(text), [64], { maxElementBytes: 1000 })).toThrow('larger than 1000 bytes');
  });

  it('reads a chunk buffer the caller refills and pushes again (one read buffer reused)', () => {
    const text = '[{"a":"xyz"},{"b":1},"ab","cd",{"c":"\\"q"}]';
    const expected = values(split(Buffer.from(text)));
    for (const size of [2, 4, 8, 9, 10]) {
      const splitter = new JsonElementSplitter();
      const buffer = Buffer.alloc(size);
      const out: JsonElement[] = [];
      for (let at = 0; at < text.length; at += size) {
        const part = buffer.subarray(0, buffer.write(text.slice(at, at + size), 'latin1'));
        // The same object each time when the part fills the buffer: where the last push found its quotes says nothing of these bytes.
        out.push(...splitter.push(part.length === size ? buffer : part));
      }
      out.push(...splitter.end());
      expect(values(out)).toEqual(expected);
    }
  });

  it('reads the same chunk object pushed twice as two chunks', () => {
    const splitter = new JsonElementSplitter();
    const same = Buffer.from('"ab","cd",');
    const texts = [splitter.push(Buffer.from('[')), splitter.push(same), splitter.push(same), splitter.push(Buffer.from('1]')), splitter.end()].flat().map((element) => element.text);
    expect(texts).toEqual(['"ab"', '"cd"', '"ab"', '"cd"', '1']);
  });

  it('resumes after a checkpoint, reading from that byte offset (HTTP Range)', () => {
    const text = JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ i, s: 'é'.repeat(i) })));
    const bytes = Buffer.from(text);
    const all = split(bytes, [7]);
    const checkpoint = all[3].end;
    const rest = split(bytes.subarray(checkpoint), [5], { resumeAt: { offset: checkpoint, format: 'array' } });
    expect(rest).toEqual(all.slice(4));
  });
});
