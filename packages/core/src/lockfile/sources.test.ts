import { describe, expect, it } from 'vitest';
import { isGitReference, isRegistryTarballUrl, localPath, nonRegistryKind } from './sources.js';

const R = 'http://127.0.0.1:4873/';

describe('isRegistryTarballUrl', () => {
  it('accepts exactly the conventional tarball of name@version on the registry', () => {
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/good/-/good-1.0.0.tgz', 'good', '1.0.0', R)).toBe(true);
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/good/-/good-1.0.0.tgz', 'good', '1.0.0', 'http://127.0.0.1:4873')).toBe(true);
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/@s/a/-/a-1.0.0.tgz', '@s/a', '1.0.0', R)).toBe(true);
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/@s%2fa/-/a-1.0.0.tgz', '@s/a', '1.0.0', R)).toBe(true);
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/@s%2Fa/-/a-1.0.0.tgz', '@s/a', '1.0.0', R)).toBe(true);
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/good/-/good-1.0.0+b.1.tgz', 'good', '1.0.0+b.1', R)).toBe(true);
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/good/-/good-1.0.0%2Bb.1.tgz', 'good', '1.0.0+b.1', R)).toBe(true);
    expect(isRegistryTarballUrl('https://r.example/api/npm/good/-/good-1.0.0.tgz', 'good', '1.0.0', 'https://r.example/api/npm/')).toBe(true);
    // credentials do not change where the bytes come from
    expect(isRegistryTarballUrl('http://u:p@127.0.0.1:4873/good/-/good-1.0.0.tgz', 'good', '1.0.0', R)).toBe(true);
    // the npm registry under Yarn's name for it
    expect(isRegistryTarballUrl('https://registry.yarnpkg.com/good/-/good-1.0.0.tgz', 'good', '1.0.0', 'https://registry.npmjs.org/')).toBe(true);
    // `..` and `%2e%2e` segments resolve to the conventional path (every client's URL parser does the same)
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/evil/-/../../good/-/good-1.0.0.tgz', 'good', '1.0.0', R)).toBe(true);
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/evil/%2e%2e/good/-/good-1.0.0.tgz', 'good', '1.0.0', R)).toBe(true);
  });

  it('refuses everything else', () => {
    const no = [
      'http://127.0.0.1:9999/good/-/good-1.0.0.tgz', // another port
      'http://evil.example/good/-/good-1.0.0.tgz', // another host
      'https://127.0.0.1:4873/good/-/good-1.0.0.tgz', // another scheme
      'http://127.0.0.1:4873@evil.example/good/-/good-1.0.0.tgz', // the registry as user-info
      'http://127.0.0.1:4873/evil/good/-/good-1.0.0.tgz', // a path prefix
      'http://127.0.0.1:4873/evil/-/evil-1.0.0.tgz/good/-/good-1.0.0.tgz', // appended after another tarball
      'http://127.0.0.1:4873/evil/-/evil-1.0.0.tgz', // another package's tarball
      'http://127.0.0.1:4873/good/-/good-1.0.1.tgz', // another version
      'http://127.0.0.1:4873/good/-/evil-1.0.0.tgz',
      'http://127.0.0.1:4873/good/-/good-1.0.0.tgz?x=1', // query
      'http://127.0.0.1:4873/good/-/good-1.0.0.tgz?', // empty query
      'http://127.0.0.1:4873/good/-/good-1.0.0.tgz#x', // fragment
      'http://127.0.0.1:4873/evil/-/evil-1.0.0.tgz?/good/-/good-1.0.0.tgz',
      'http://127.0.0.1:4873/evil/-/evil-1.0.0.tgz#/good/-/good-1.0.0.tgz',
      'http://127.0.0.1:4873/evil/-/evil-1.0.0.tgz%2f..%2f..%2f..%2fgood/-/good-1.0.0.tgz', // encoded slashes stay in one segment
      'http://127.0.0.1:4873/good%2f-%2fgood-1.0.0.tgz',
      'http://127.0.0.1:4873/GOOD/-/good-1.0.0.tgz',
      'file:///good/-/good-1.0.0.tgz',
      'not a url',
    ];
    for (const url of no) expect(isRegistryTarballUrl(url, 'good', '1.0.0', R), url).toBe(false);
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/s/a/-/a-1.0.0.tgz', '@s/a', '1.0.0', R)).toBe(false);
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/a/-/a-1.0.0.tgz', '@s/a', '1.0.0', R)).toBe(false);
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/@t/a/-/a-1.0.0.tgz', '@s/a', '1.0.0', R)).toBe(false);
    // a registry that is not the npm registry gets no aliases
    expect(isRegistryTarballUrl('https://registry.npmjs.org/good/-/good-1.0.0.tgz', 'good', '1.0.0', R)).toBe(false);
    // names and versions that are not a registry package's
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/../-/..-1.0.0.tgz', '..', '1.0.0', R)).toBe(false);
    expect(isRegistryTarballUrl('http://127.0.0.1:4873/good/-/good-latest.tgz', 'good', 'latest', R)).toBe(false);
  });
});

describe('localPath: inside the project only where the folder really is (sixth review wave of round 43)', () => {
  it('by its text, its node_modules and the symlinks on its way', async () => {
    const { mkdirSync, mkdtempSync, symlinkSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const base = mkdtempSync(join(tmpdir(), 'pc-localpath-'));
    const project = join(base, 'project');
    mkdirSync(join(project, 'vendored', 'real'), { recursive: true });
    mkdirSync(join(project, 'node_modules', 'evil'), { recursive: true });
    mkdirSync(join(base, 'outside'));
    symlinkSync('../node_modules/evil', join(project, 'vendored', 'into-node-modules'));
    symlinkSync('../../outside', join(project, 'vendored', 'out'));
    symlinkSync('./real', join(project, 'vendored', 'in'));
    symlinkSync('../node_modules/not-yet', join(project, 'vendored', 'dangling'));
    expect(localPath(project, '.', 'vendored/real').insideProject).toBe(true);
    expect(localPath(project, '.', 'vendored/in').insideProject).toBe(true);
    expect(localPath(project, '.', 'not-there-yet').insideProject).toBe(true);
    expect(localPath(project, '.', 'vendored/into-node-modules').insideProject).toBe(false);
    expect(localPath(project, '.', 'vendored/out').insideProject).toBe(false);
    expect(localPath(project, '.', 'vendored/dangling').insideProject).toBe(false);
    expect(localPath(project, '.', 'node_modules/evil').insideProject).toBe(false);
    expect(localPath(project, '.', '../outside')).toEqual({ path: '../outside', insideProject: false });
  });
});

describe('isGitReference: the prefix in any case (eleventh wave, E2)', () => {
  it('a git URL whose scheme is in capitals is git, as npm clones it', () => {
    for (const spec of ['git+file:///r/x.git#abc', 'GIT+file:///r/x.git#abc', 'Git+Ssh://git@h.example/x.git', 'GIT://h.example/x.git', 'GITHUB:u/r#abc', 'GitLab:u/r', 'GIST:abc']) {
      expect(isGitReference(spec), spec).toBe(true);
      expect(nonRegistryKind(spec), spec).toBe('git');
    }
    for (const spec of ['file:../x', 'HTTPS://h.example/x.tgz', 'gi', '']) expect(isGitReference(spec), spec).toBe(false);
  });
});

describe('nonRegistryKind: only the spellings npm reads as tarballs or folders are (twelfth wave, H1)', () => {
  it('reads what npm-package-arg clones as git, and any spelling it does not know as git too', () => {
    // npm 10.9.9-12.2.3 read these as a GitHub repository (hosted shorthand), or as a literal local path.
    for (const spec of ['evil/repo#main', 'evil/repo#0123456789abcdef0123456789abcdef01234567', 'vendor/x.tgz', 'FILE:../x.tgz', 'File:vendor/x', '  https://h.example/x.tgz', 'HTTPS://h.example/x.tgz', 'https:\\\\h.example\\x.tgz', 'x']) {
      expect(nonRegistryKind(spec), spec).toBe('git');
    }
  });
  it('keeps remote tarballs, local tarballs and folders as they are', () => {
    expect(nonRegistryKind('https://h.example/x.tgz')).toBe('tarball');
    expect(nonRegistryKind('http://127.0.0.1:1/x.tgz')).toBe('tarball');
    expect(nonRegistryKind('file:vendor/x.tgz')).toBe('tarball');
    expect(nonRegistryKind('file:vendor/x')).toBe('directory');
  });
});
