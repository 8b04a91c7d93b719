import { describe, expect, it } from 'vitest';
import { tarballOf } from './tarballs.js';

describe('tarballOf', () => {
  it('reads name@version from conventional registry tarball URLs', () => {
    expect(tarballOf('http://127.0.0.1:4873/left-pad/-/left-pad-1.3.0.tgz')).toBe('left-pad@1.3.0');
    expect(tarballOf('https://r.example/@acme/logger/-/logger-2.1.0-rc.1.tgz')).toBe('@acme/logger@2.1.0-rc.1');
    expect(tarballOf('https://r.example/@acme%2flogger/-/logger-2.1.0.tgz')).toBe('@acme/logger@2.1.0');
    expect(tarballOf('https://r.example/api/npm/x/-/x-1.0.0.tgz')).toBe('x@1.0.0');
  });
  it('ignores everything else', () => {
    expect(tarballOf('https://r.example/left-pad')).toBeUndefined();
    expect(tarballOf('https://r.example/downloads/left-pad.tgz')).toBeUndefined();
    expect(tarballOf('https://r.example/a/-/b-1.0.0.tgz')).toBeUndefined();
    expect(tarballOf('not a url')).toBeUndefined();
  });
});
