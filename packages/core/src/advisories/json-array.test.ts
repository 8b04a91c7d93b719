import { describe, expect, it } from 'vitest';
import { jsonArraySpans } from './json-array.js';

/** The elements as the spans cut them, each parsed alone. */
const elements = (text: string): unknown[] | undefined => {
  const spans = jsonArraySpans(text);
  if (spans === undefined) return undefined;
  const out: unknown[] = [];
  for (let i = 0; i < spans.length; i += 2) out.push(JSON.parse(text.slice(spans[i], spans[i + 1])));
  return out;
};

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
      expect(jsonArraySpans(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('leaves a malformed element to JSON.parse: empty or broken spans are cut, not accepted', () => {
    const text = '[1,,{"a": },2,]';
    const spans = jsonArraySpans(text)!;
    const parts: string[] = [];
    for (let i = 0; i < spans.length; i += 2) parts.push(text.slice(spans[i], spans[i + 1]));
    expect(parts).toEqual(['1', '', '{"a": }', '2', '']);
    expect(() => JSON.parse(parts[2]!)).toThrow();
  });

  it('takes a large bundle apart in linear time', () => {
    const records = Array.from({ length: 50_000 }, (_, i) => ({ id: `MAL-${i}`, summary: `s ${i} "],"`, affected: [{ package: { ecosystem: 'npm', name: `p-${i}` }, versions: ['1.0.0'] }] }));
    const spans = jsonArraySpans(JSON.stringify(records))!;
    expect(spans.length).toBe(100_000);
  });
});
