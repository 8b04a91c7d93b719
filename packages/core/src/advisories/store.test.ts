import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EncodedIndex, IndexBuilder } from './store.js';

const secret = randomBytes(32);
const meta = { key: 'sources', records: 2, problems: [] };
const advisory = (id: string, summary = `summary of ${id}`) => ({ id, summary, modified: '2026-01-01T00:00:00Z' });
const encoded = (fill: (b: IndexBuilder) => void): Buffer => {
  const builder = new IndexBuilder();
  fill(builder);
  return builder.encode(meta, secret);
};

describe('IndexBuilder', () => {
  it('merges the same advisory id met twice for a name into one row: the union of the versions, the intervals of both', () => {
    const twice = encoded((b) => {
      b.add('pkg', advisory('MAL-1'), ['1.0.0'], [{ introduced: '2.0.0', fixed: '2.0.3' }]);
      b.add('pkg', advisory('MAL-1', 'another summary'), ['1.0.1', '1.0.0'], [{ lastAffected: '3.0.0' }]);
    });
    const once = encoded((b) => b.add('pkg', advisory('MAL-1'), ['1.0.0', '1.0.1'], [{ introduced: '2.0.0', fixed: '2.0.3' }, { lastAffected: '3.0.0' }]));
    expect(twice.equals(once)).toBe(true);
    const index = EncodedIndex.open(twice, 'sources', secret)!;
    for (const version of ['1.0.0', '1.0.1', '2.0.2', '2.5.0']) expect(index.lookup('pkg', version)).toEqual([advisory('MAL-1')]);
    expect(index.lookup('pkg', '2.0.3')).toEqual([advisory('MAL-1')]); // ≤ lastAffected 3.0.0
    expect(index.lookup('pkg', '3.0.1')).toEqual([]);
  });

  it('keeps other ids of a name as rows of their own, also when one id is written inside another row', () => {
    const index = EncodedIndex.open(
      encoded((b) => {
        b.add('pkg', advisory('MAL-1', 'see "MAL-2"'), ['1.0.0'], []);
        b.add('pkg', advisory('MAL-2'), ['2.0.0'], []);
        b.add('other', advisory('MAL-2'), ['1.0.0'], []);
      }),
      'sources',
      secret,
    )!;
    expect(index.lookup('pkg', '1.0.0')).toEqual([advisory('MAL-1', 'see "MAL-2"')]);
    expect(index.lookup('pkg', '2.0.0')).toEqual([advisory('MAL-2')]);
    expect(index.lookup('other', '1.0.0')).toEqual([advisory('MAL-2')]);
    expect(index.lookup('other', '2.0.0')).toEqual([]);
  });

  it('writes the same bytes whatever order the names came in, and a different id for other data', () => {
    const names = Array.from({ length: 300 }, (_, i) => `@scope/name-${i}`);
    const forward = encoded((b) => names.forEach((n, i) => b.add(n, advisory(`MAL-${i}`, `é ${i}`), ['1.0.0'], [{}])));
    const backward = encoded((b) => [...names].reverse().forEach((n) => b.add(n, advisory(`MAL-${names.indexOf(n)}`, `é ${names.indexOf(n)}`), ['1.0.0'], [{}])));
    expect(forward.equals(backward)).toBe(true);
    const index = EncodedIndex.open(forward, 'sources', secret)!;
    expect(index.lookup('@scope/name-7', '9.9.9')).toEqual([advisory('MAL-7', 'é 7')]);
    expect(index.lookup('@scope/name-300', '1.0.0')).toEqual([]);
    const other = EncodedIndex.open(encoded((b) => b.add('@scope/name-0', advisory('MAL-0'), ['1.0.1'], [])), 'sources', secret)!;
    expect(other.id).not.toBe(index.id);
    expect(EncodedIndex.open(forward, 'other sources', secret)).toBeUndefined();
    expect(EncodedIndex.open(forward, 'sources', randomBytes(32))).toBeUndefined();
  });
});
