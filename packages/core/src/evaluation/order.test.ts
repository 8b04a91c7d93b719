import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareText } from './order.js';

const sign = (n: number) => Math.sign(n);
/** Names, versions and codes, and the characters that are neither: other punctuation, spaces, accents, ignorables. */
const pieces = fc.constantFrom('_', '-', '.', '@', '/', '0', '1', '9', 'a', 'b', 'z', 'A', 'B', 'Z', '+', ' ', '~', 'é', '\u0301', '\u0000', '\u00ad', 'ß', 'İ', '中');
const text = fc.array(pieces, { maxLength: 8 }).map((parts) => parts.join(''));

describe('compareText', () => {
  it("orders any two strings as localeCompare does (names, versions, codes, and any other character)", () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(sign(compareText(a, b))).toBe(sign(a.localeCompare(b)));
      }),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }), (a, b) => {
        expect(sign(compareText(a, b))).toBe(sign(a.localeCompare(b)));
      }),
      { numRuns: 5_000 },
    );
  });

  it('sorts package names, versions and finding codes as localeCompare does, without it for the usual ones', () => {
    const names = ['@acme/logger', 'left-pad', 'left_pad', 'leftpad', '0x', '@types/node', 'a.b', 'A-B', 'lodash.merge', 'lodash', 'SCRIPT_NOT_ALLOWED', 'SIGNATURE_MISSING', '1.10.0', '1.9.0', '1.0.0-beta.2', '1.0.0'];
    expect([...names].sort(compareText)).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    const used = String.prototype.localeCompare;
    let calls = 0;
    String.prototype.localeCompare = function (this: string, ...args: Parameters<typeof used>) {
      calls++;
      return used.apply(this, args);
    };
    try {
      [...names.filter((n) => n !== 'A-B')].sort(compareText);
    } finally {
      String.prototype.localeCompare = used;
    }
    expect(calls).toBe(0);
  });
});
