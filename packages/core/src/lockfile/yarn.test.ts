import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import type { PackageNode } from '../model.js';
import { readYarnLocator, readYarnLockfile } from './yarn.js';

const REGISTRY = 'https://npm.example.corp/';
const opts = { path: '/work/app/yarn.lock', projectDir: '/work/app', registryFor: () => REGISTRY };
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const byId = (packages: PackageNode[], id: string) => {
  const node = packages.find((p) => p.id === id);
  if (!node) throw new Error(`no node ${id} among ${packages.map((p) => p.id).join(', ')}`);
  return node;
};
const HEADER = '__metadata:\n  version: 8\n  cacheKey: 10c0\n\n';

describe('readYarnLockfile on the lockfile Yarn 4.18 wrote', () => {
  const { packages, kind } = readYarnLockfile(fixture('yarn4.yarn.lock'), opts);

  it('reads registry packages from keys with several descriptors, without an npm integrity', () => {
    expect(kind).toBe('yarn');
    const ms = byId(packages, 'ms@2.1.3');
    expect(ms).toMatchObject({ source: 'registry', registry: REGISTRY, paths: ['ms@npm:2.1.3'], dependents: ['.', 'local-dep@0.2.0 (file:local-dep)'] });
    // Yarn's checksum hashes its cache zip: kept apart, never passed off as integrity.
    expect(ms.integrity).toBeUndefined();
    expect(ms.yarnChecksum).toMatch(/^10c0\/d924b57e/);
    expect(byId(packages, '@isaacs/string-locale-compare@1.1.0').dependents).toEqual(['.', 'packages/lib']);
  });

  it('resolves the npm: alias and gives the nested version its own node', () => {
    expect(byId(packages, 'ms@1.0.0')).toMatchObject({ aliases: ['old-ms'], dependents: ['.'] });
    expect(byId(packages, 'ms@2.0.0').dependents).toEqual(['debug@2.6.9', 'packages/lib']);
  });

  it('takes a patch: package as the package it patches', () => {
    const resolve = byId(packages, 'resolve@1.22.8');
    expect(resolve.source).toBe('registry');
    expect(resolve.paths).toEqual(['resolve@npm:1.22.8', 'resolve@patch:resolve@npm%3A1.22.8#optional!builtin<compat/resolve>::version=1.22.8&hash=9bd1a5']);
    expect(packages.filter((p) => p.name === 'resolve')).toHaveLength(1);
  });

  it('reads workspaces, git, tarballs and file:, portal: and link: folders', () => {
    expect(byId(packages, 'packages/lib')).toMatchObject({ name: '@fixture/lib', source: 'workspace', dependents: ['.'] });
    expect(packages.find((p) => p.name === 'git-dep')).toMatchObject({ source: 'git', version: '0.4.0' });
    expect(packages.find((p) => p.name === 'tarball-dep')).toMatchObject({ source: 'tarball', resolved: 'http://127.0.0.1:48123/tarball-dep-0.5.0.tgz' });
    expect(byId(packages, 'local-dep@0.2.0 (file:local-dep)')).toMatchObject({ source: 'directory', insideProject: true, dependents: ['.'] });
    expect(byId(packages, 'outside-dep@0.3.0 (file:../outside-dep)')).toMatchObject({ source: 'directory', insideProject: false });
    expect(byId(packages, 'portal-dep@0.0.0-use.local (file:portal-dep)')).toMatchObject({ source: 'directory', insideProject: true, dependents: ['.'] });
    expect(byId(packages, 'link-dep@0.0.0-use.local (file:link-dep)')).toMatchObject({ source: 'directory', insideProject: true });
    expect(packages.some((p) => p.id === '.')).toBe(false);
  });

  it('records the line of each entry', () => {
    const lines = fixture('yarn4.yarn.lock').split('\n');
    expect(byId(packages, 'core-js@3.45.1').location).toEqual({ line: lines.indexOf('"core-js@npm:3.45.1":') + 1, column: 1 });
  });
});

describe('readYarnLockfile on edge cases', () => {
  it('keeps versions as strings and reads unquoted keys with commas', () => {
    const { packages } = readYarnLockfile(`${HEADER}a@npm:^1.10.0, a@npm:1.10.0:\n  version: 1.10.0\n  resolution: "a@npm:1.10.0"\n  languageName: node\n  linkType: hard\n`, opts);
    expect(packages).toMatchObject([{ id: 'a@1.10.0', version: '1.10.0' }]);
  });

  it('takes an __archiveUrl as the registry only when it is exactly the configured registry\'s tarball, else as a remote tarball', () => {
    const read = (archive: string) =>
      readYarnLockfile(`${HEADER}"@s/a@npm:1.0.0":\n  version: 1.0.0\n  resolution: "@s/a@npm:1.0.0::__archiveUrl=${encodeURIComponent(archive)}"\n  languageName: node\n  linkType: hard\n`, opts).packages[0];
    expect(read('https://npm.example.corp/@s%2fa/-/a-1.0.0.tgz')).toMatchObject({ source: 'registry', registry: REGISTRY, resolved: 'https://npm.example.corp/@s%2fa/-/a-1.0.0.tgz' });
    for (const other of ['https://mirror.example/npm/@s/a/-/a-1.0.0.tgz', 'https://npm.example.corp/evil/-/evil-1.0.0.tgz', 'https://npm.example.corp/x/@s/a/-/a-1.0.0.tgz', 'https://npm.example.corp/@s/a/-/a-1.0.0.tgz?x']) {
      expect(read(other), other).toMatchObject({ id: `@s/a@1.0.0 (${other})`, source: 'tarball', resolved: other });
    }
  });

  it('takes an http: reference as the registry only when it is exactly the configured registry\'s tarball', () => {
    const read = (url: string) => readYarnLockfile(`${HEADER}"a@${url}":\n  version: 1.0.0\n  resolution: "a@${url}"\n  languageName: node\n  linkType: hard\n`, opts).packages[0];
    expect(read('https://npm.example.corp/a/-/a-1.0.0.tgz')).toMatchObject({ source: 'registry', registry: REGISTRY });
    expect(read('https://other.example/a/-/a-1.0.0.tgz')).toMatchObject({ source: 'tarball' });
  });

  it('rejects Yarn Classic lockfiles, files without __metadata, duplicate keys and hostile names', () => {
    expect(() => readYarnLockfile('# THIS IS AN AUTOGENERATED FILE.\n# yarn lockfile v1\n\n\na@^1:\n  version "1.0.0"\n', opts)).toThrow(/Yarn Classic/);
    expect(() => readYarnLockfile('a@npm:1.0.0:\n  version: 1.0.0\n', opts)).toThrow(/__metadata/);
    expect(() => readYarnLockfile(`${HEADER}"a@npm:1.0.0":\n  version: 1.0.0\n"a@npm:1.0.0":\n  version: 1.0.0\n`, opts)).toThrow(PortcullisError);
    expect(() => readYarnLockfile(`${HEADER}"x@npm:1.0.0":\n  version: 1.0.0\n  resolution: "../x@npm:1.0.0"\n`, opts)).toThrow(/invalid resolution/);
    expect(() => readYarnLockfile(`${HEADER}"x@npm:1.0.0":\n  version: 2.0.0\n  resolution: "x@npm:1.0.0"\n`, opts)).toThrow(/records version/);
  });

  it('never lets a __proto__ key reach a prototype', () => {
    const { packages } = readYarnLockfile(`${HEADER}"a@npm:1.0.0":\n  version: 1.0.0\n  resolution: "a@npm:1.0.0"\n  __proto__:\n    polluted: yes\n  dependencies:\n    __proto__: "npm:1.0.0"\n`, opts);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(packages).toHaveLength(1);
  });
});

describe('readYarnLockfile: references Yarn fetches by running code', () => {
  const read = (resolution: string) => readYarnLockfile(`${HEADER}${JSON.stringify(resolution)}:\n  version: 1.0.0\n  resolution: ${JSON.stringify(resolution)}\n  languageName: node\n  linkType: hard\n`, opts).packages[0]!;

  it('reads every spelling Yarn\'s git resolver takes as git (review round 43, R2), credentials dropped', () => {
    for (const reference of [
      'http://git.example/x.git#commit:0123456789abcdef0123456789abcdef01234567',
      'https://git.example/x.git#commit:abc',
      'ssh://git.example/x.git#commit:abc',
      'git@git.example:o/x.git#commit=abc',
      'git+https://git.example/x.git#workspace=w&commit=abc',
      'https://git.example/x.git#workspace=w&commit=abc',
      'http://git.example/x.git',
      'o/x#commit=abc',
      'https://git.example/x.tgz#commit:abc',
    ]) {
      expect(read(`x@${reference}`), reference).toMatchObject({ source: 'git', resolved: reference });
    }
    expect(read('x@https://user:tok@git.example/x.git#commit:abc')).toMatchObject({ source: 'git', resolved: 'https://git.example/x.git#commit:abc' });
    // A tarball URL stays a tarball.
    expect(read('x@https://files.example/x-1.0.0.tgz')).toMatchObject({ source: 'tarball' });
  });

  it('reads a workspace\'s own exec: generator inside the project as its own code, any other as a remote tarball (R3)', () => {
    expect(read('x@exec:./gen.js#./gen.js::hash=c25d6f&locator=app%40workspace%3A.')).toMatchObject({ source: 'directory', insideProject: true, resolved: 'exec:gen.js' });
    expect(read('x@exec:./gen.js::locator=%40s%2Flib%40workspace%3Apackages%2Flib')).toMatchObject({ source: 'directory', insideProject: true, resolved: 'exec:packages/lib/gen.js' });
    expect(read('x@exec:../../outside.js::locator=app%40workspace%3A.')).toMatchObject({ source: 'tarball', resolved: 'exec:../../outside.js' });
    expect(read('x@exec:./gen.js#./gen.js::hash=c25d6f&locator=dep%40npm%3A1.0.0')).toMatchObject({ source: 'tarball', resolved: 'exec:./gen.js#./gen.js' });
    // Without a locator= Yarn could not have run it from a workspace: not taken as the project's own.
    expect(read('x@exec:./gen.js')).toMatchObject({ source: 'tarball' });
  });
});

describe('readYarnLocator', () => {
  it('classifies one locator as the lockfile reader does, before its version is known', () => {
    expect(readYarnLocator('git-thing@http://git.example/x.git#commit:abc', opts)).toEqual({ name: 'git-thing', source: 'git', resolved: 'http://git.example/x.git#commit:abc' });
    expect(readYarnLocator('gen@exec:./gen.js::locator=app%40workspace%3A.', opts)).toEqual({ name: 'gen', source: 'directory', resolved: 'exec:gen.js', insideProject: true });
    expect(readYarnLocator('gen@exec:./gen.js::locator=dep%40npm%3A1.0.0', opts)).toMatchObject({ name: 'gen', source: 'tarball' });
    expect(readYarnLocator('app@workspace:.', opts)).toBeUndefined();
    expect(() => readYarnLocator('../x@exec:./gen.js', opts)).toThrow(PortcullisError);
  });
});
