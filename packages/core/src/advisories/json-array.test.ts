import { describe, expect, it } from 'vitest';
import { jsonArraySpans } from './json-array.js';

/** The elements as the spans cut them, each parsed alone. */
const elements = (text: string): unknown[] | undefined => {
  const bytes = Buffer.from(text, 'utf8');
  const spans = jsonArraySpans(bytes);
  if (spans === undefined) return undefined;
  const out: unknown[] = [];
  for (let i = 0; i < spans.length; i += 2) out.push(JSON.parse(bytes.toString('utf8', spans[i], spans[i + 1])));
  return out;
};
const spansOf = (text: string) => jsonArraySpans(Buffer.from(text, 'utf8'));

describe('jsonArraySpans', () => {
  it('cuts every array JSON.parse accepts into exactly its elements', () => {
    const arrays: unknown[][] = [
      [],
      [1],
      [null, true, false, 0, -1.5e3, 'a', ''],
      ['[', ']', '{', '}', ',', '"', '\\', '\\"', '\\\\"]', 'é ü 😀', '\u2028'],
      [{ a: [1, { b: '],}{' }], c: {} }, [[[]]], { '"': ',' }],
      [[1, 2], { x: [3, 4] }, 'tail'],
    ];
    for (const array of arrays) {
      for (const text of [JSON.stringify(array), JSON.stringify(array, null, 2), ` \n\t${JSON.stringify(array, null, '\t')}\r\n `]) {
        expect(elements(text), text).toEqual(JSON.parse(text));
      }
    }
  });

  it('is undefined for what is not one array at the top, or whose top level is broken', () => {
    for (const text of ['', '   ', '{}', '"[1]"', '1', '[', '[1', '[1,', '[1}', '[1]]', '[1] 2', '["a]', '["a\\"]', '[{]', '{"a": [1]}', 'x[1]']) {
      expect(spansOf(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('leaves a malformed element to JSON.parse: empty or broken spans are cut, not accepted', () => {
    const text = '[1,,{"a": },2,]';
    const spans = spansOf(text)!;
    const parts: string[] = [];
    for (let i = 0; i < spans.length; i += 2) parts.push(text.slice(spans[i], spans[i + 1]));
    expect(parts).toEqual(['1', '', '{"a": }', '2', '']);
    expect(() => JSON.parse(parts[2]!)).toThrow();
  });

  it('cuts byte offsets: multi-byte characters inside strings are never taken for brackets, quotes or commas', () => {
    // Every byte of a multi-byte UTF-8 character is 0x80 or above; the offsets are bytes, not UTF-16 units.
    const array = [{ s: 'é,ü]😀"}' }, 'ﬀ', ['\u2028', 'a\\"b']];
    const text = JSON.stringify(array);
    expect(Buffer.byteLength(text)).toBeGreaterThan(text.length);
    expect(elements(text)).toEqual(array);
  });

  it('starts where it is told (after a byte order mark)', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(' [1, "x"]\n')]);
    expect(jsonArraySpans(bytes)).toBeUndefined();
    const spans = jsonArraySpans(bytes, 3)!;
    expect([bytes.toString('utf8', spans[0], spans[1]), bytes.toString('utf8', spans[2], spans[3])].map((s) => JSON.parse(s) as unknown)).toEqual([1, 'x']);
  });

  it('takes a large bundle apart in linear time', () => {
    const records = Array.from({ length: 50_000 }, (_, i) => ({ id: `MAL-${i}`, summary: `s ${i} "],"`, affected: [{ package: { ecosystem: 'npm', name: `p-${i}` }, versions: ['1.0.0'] }] }));
    const spans = spansOf(JSON.stringify(records))!;
    expect(spans.length).toBe(100_000);
  });
});
