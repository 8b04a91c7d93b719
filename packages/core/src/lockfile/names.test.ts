import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { isRegistryVersion, plainVersion } from './names.js';

describe('registry versions', () => {
  const part = fc.constantFrom('0', '1', '2', '10', '01', 'x', '', '9007199254740991', '9007199254740993', '12345678901234567', '1234567890123456');
  const pre = fc.constantFrom('', '-0', '-1', '-alpha', '-alpha.1', '-beta', '-rc.1', '+build', '-beta+b.2', '-', '+', ' ', '\n');
  const lead = fc.constantFrom('', 'v', '=', ' ', 'v=', '\t');
  const version = fc.tuple(lead, part, part, part, pre).map(([l, a, b, c, p]) => `${l}${a}.${b}.${c}${p}`);
  const anyVersion = fc.oneof(version, fc.string({ maxLength: 12 }), fc.constantFrom('1.2', '1.2.3.4', '1..3', '١.٢.٣'));

  it('a plain version is valid semver with the same three numbers; anything else semver parses is not plain', () => {
    fc.assert(
      fc.property(anyVersion, (v) => {
        const plain = plainVersion(v);
        const parsed = semver.parse(v);
        if (plain !== undefined) {
          expect(semver.valid(v)).toBe(v);
          expect(plain).toEqual([parsed!.major, parsed!.minor, parsed!.patch]);
        } else if (parsed !== null) {
          expect(parsed.prerelease.length > 0 || parsed.build.length > 0 || parsed.version !== v).toBe(true);
        }
      }),
      { numRuns: 20_000 },
    );
  });

  it('isRegistryVersion gives semver.valid’s answer for any string', () => {
    fc.assert(
      fc.property(anyVersion, (v) => {
        expect(isRegistryVersion(v)).toBe(semver.valid(v) !== null);
      }),
      { numRuns: 20_000 },
    );
    expect(isRegistryVersion('1.2.3')).toBe(true);
    expect(isRegistryVersion('1.2.3-beta.1')).toBe(true);
    expect(isRegistryVersion('01.2.3')).toBe(false);
    expect(isRegistryVersion('9007199254740993.0.0')).toBe(false);
    expect(isRegistryVersion('github:a/b')).toBe(false);
  });
});
