/**
 * The order findings, approvals and allowlist entries are listed in: `String.prototype.localeCompare`'s, without asking
 * ICU for it where the strings need none. The first `localeCompare` of a process sets up ICU's collator (~5 ms in a
 * fresh Node on this machine, ~8 in pnpm 12's busy hook worker on a cold install, where every millisecond of that
 * worker's CPU is on pnpm's critical path), and most processes that sort findings are fresh ones.
 *
 * Package names, versions and finding codes are almost always made of `_ - . @ /`, digits and ASCII letters. Where
 * both strings are, their order is decided by the root collation's primary weights, which for those characters are
 * in this order: `_` `-` `.` `@` `/`, the digits, the letters (a letter's two cases weigh the same). The first
 * character whose weight differs decides; a string whose weights are a prefix of the other's comes first. Only two
 * strings with the same weights throughout and still different (`Abc`, `abc`: a case difference, decided at a lower
 * level) are left to `localeCompare`, as are strings with any other character before the first difference. Property
 * test: `order.test.ts` holds it to `localeCompare` for any strings (fast-check), ASCII and beyond. This is the root
 * collation's order, which `localeCompare` follows in English and most locales; where a locale orders ASCII letters
 * its own way (Czech `ch`), the lists keep the root order, the same on every machine.
 */

/** Primary weight of each character code this order decides itself (0: left to localeCompare). */
const WEIGHTS = new Uint8Array(128);
'_-.@/0123456789'.split('').forEach((c, i) => (WEIGHTS[c.charCodeAt(0)] = i + 1));
for (let i = 0; i < 26; i++) WEIGHTS[0x61 + i] = WEIGHTS[0x41 + i] = 16 + i;

/** `a.localeCompare(b)`'s sign: -1, 0 or 1. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    const wx = x < 128 ? WEIGHTS[x]! : 0;
    const wy = y < 128 ? WEIGHTS[y]! : 0;
    if (wx === 0 || wy === 0) return Math.sign(a.localeCompare(b));
    // The first primary difference decides (what follows it is weighed at lower levels only, if at all).
    if (wx !== wy) return wx < wy ? -1 : 1;
  }
  // One is a prefix of the other: the longer comes after, unless what it adds weighs nothing (an ignorable character).
  const rest = a.length > n ? a : b;
  for (let j = n; j < rest.length; j++) if (rest.charCodeAt(j) >= 128 || WEIGHTS[rest.charCodeAt(j)] === 0) return Math.sign(a.localeCompare(b));
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  // The same weights throughout: a case difference, which only localeCompare's lower levels decide.
  return Math.sign(a.localeCompare(b));
}
