import { describe, expect, it } from 'vitest';
import { fnv1a } from './fnv.js';

describe('fnv1a', () => {
  it("is FNV-1a's 32-bit hash (the published test values)", () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('from another basis, another hash of the same text', () => {
    expect(fnv1a('', 0x050c5d1f)).toBe(0x050c5d1f);
    expect(fnv1a('left-pad', 0x050c5d1f)).not.toBe(fnv1a('left-pad'));
  });
});
