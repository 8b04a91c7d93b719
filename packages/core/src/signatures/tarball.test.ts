import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkTarballDigests, checkTarballIntegrity, tarballDigests } from './tarball.js';

const bytes = Buffer.from('the tarball');
const sri = (algorithm: string, data: Buffer) => `${algorithm}-${createHash(algorithm).update(data).digest('base64')}`;

describe('checkTarballIntegrity', () => {
  it('matches the bytes the integrity names', () => {
    expect(checkTarballIntegrity(bytes, sri('sha512', bytes))).toEqual({ matches: true, actual: sri('sha512', bytes) });
  });
  it('rejects other bytes and reports their digest', () => {
    const other = Buffer.from('a swapped tarball');
    expect(checkTarballIntegrity(other, sri('sha512', bytes))).toEqual({ matches: false, actual: sri('sha512', other) });
  });
  it('judges by the strongest algorithm only: a matching sha1 cannot rescue a sha512 mismatch', () => {
    const other = Buffer.from('x');
    expect(checkTarballIntegrity(other, `${sri('sha512', bytes)} ${sri('sha1', other)}`).matches).toBe(false);
  });
  it('accepts any of several digests of the strongest algorithm, and sha1-only integrities', () => {
    expect(checkTarballIntegrity(bytes, `sha512-AAAA ${sri('sha512', bytes)}`).matches).toBe(true);
    expect(checkTarballIntegrity(bytes, sri('sha1', bytes)).matches).toBe(true);
  });
  it('never matches an integrity with no known algorithm', () => {
    expect(checkTarballIntegrity(bytes, 'md5-abc')).toEqual({ matches: false, actual: null });
    expect(checkTarballIntegrity(bytes, '')).toEqual({ matches: false, actual: null });
  });
});

describe('checkTarballDigests (bytes no longer held, compared later)', () => {
  it('answers exactly as checkTarballIntegrity does over the same bytes, for every algorithm an integrity may use', () => {
    const other = Buffer.from('a swapped tarball');
    const kept = tarballDigests(other);
    for (const expected of [sri('sha512', bytes), sri('sha1', bytes), sri('sha256', other), `${sri('sha512', bytes)} ${sri('sha1', other)}`, 'md5-abc', '']) {
      expect(checkTarballDigests(kept, expected), expected).toEqual(checkTarballIntegrity(other, expected));
    }
    expect(checkTarballDigests(tarballDigests(bytes), sri('sha512', bytes))).toEqual({ matches: true, actual: sri('sha512', bytes) });
  });
});
