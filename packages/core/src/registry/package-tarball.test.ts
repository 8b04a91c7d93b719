import { describe, expect, it } from 'vitest';
import { readTarballFiles, tarballFilePaths, TarballError } from './package-tarball.js';
import { tgz } from './tarball.fixture.js';

const LIMITS = { compressed: 1024 * 1024, uncompressed: 8 * 1024 * 1024 };

describe('tarballFilePaths: which files a package tarball holds (the copies a bundling parent ships)', () => {
  it('lists its regular files without their first segment, whatever it is named; folders and links are not files', () => {
    const archive = tgz([
      { path: 'package/package.json', content: '{}' },
      { path: 'package/node_modules/bar/package.json', content: '{}' },
      { path: 'package/node_modules/bar/node_modules/baz/package.json', content: '{}' },
      { path: 'package/node_modules/dir/', type: '5' },
      { path: 'package/node_modules/link/package.json', type: '2' },
      { path: 'other-root/node_modules/qux/package.json', content: '{}' },
    ]);
    expect([...tarballFilePaths(archive, LIMITS)].sort()).toEqual(['node_modules/bar/node_modules/baz/package.json', 'node_modules/bar/package.json', 'node_modules/qux/package.json', 'package.json']);
  });

  it('refuses what readTarballFiles refuses: paths outside the folder, more than the limits', () => {
    expect(() => tarballFilePaths(tgz([{ path: 'package/../../x/package.json', content: '{}' }]), LIMITS)).toThrow(TarballError);
    expect(() => tarballFilePaths(tgz([{ path: 'package/a', content: 'x'.repeat(4096) }]), { compressed: LIMITS.compressed, uncompressed: 1024 })).toThrow(/inflates/);
    expect(() => readTarballFiles(tgz([{ path: 'package/../x', content: '' }]), ['package/x'], { ...LIMITS, file: 10 })).toThrow(TarballError);
  });
});
