import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import type { PackageNode } from '../model.js';
import { readNpmLockfile } from './npm.js';

const REGISTRY = 'https://npm.example.corp/';
const opts = { path: '/work/app/package-lock.json', projectDir: '/work/app', registryFor: () => REGISTRY };
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const byId = (packages: PackageNode[], id: string) => {
  const node = packages.find((p) => p.id === id);
  if (!node) throw new Error(`no node ${id} among ${packages.map((p) => p.id).join(', ')}`);
  return node;
};
/** A minimal lockfile around a packages section, for edge cases no real project produces on demand. */
const lock = (packages: Record<string, unknown>, version = 3) =>
  JSON.stringify({ name: 'app', lockfileVersion: version, requires: true, packages: { '': { name: 'app' }, ...packages } }, null, 2);

describe('readNpmLockfile on lockfiles npm 11 wrote', () => {
  const { packages, kind } = readNpmLockfile(fixture('npm11-v3.package-lock.json'), opts);

  it('reads plain and scoped registry packages, taking the registry from registryFor when resolved is omitted', () => {
    expect(kind).toBe('npm');
    expect(byId(packages, 'ms@2.1.3')).toMatchObject({
      name: 'ms', source: 'registry', registry: REGISTRY, paths: ['node_modules/ms'],
      integrity: expect.stringMatching(/^sha512-6Flzub/), hasInstallScript: false,
    });
    expect(byId(packages, '@isaacs/string-locale-compare@1.1.0')).toMatchObject({ source: 'registry', dependents: ['.', 'packages/lib'] });
  });

  it('groups the copies of one version into one node with every install path and every dependent', () => {
    expect(byId(packages, 'ms@2.0.0')).toMatchObject({
      paths: ['node_modules/debug/node_modules/ms', 'packages/lib/node_modules/ms'],
      dependents: ['debug@2.6.9', 'packages/lib'],
    });
    expect(packages.filter((p) => p.name === 'ms').map((p) => p.version).sort()).toEqual(['1.0.0', '2.0.0', '2.1.3']);
  });

  it('resolves an npm: alias to the real package and records the alias', () => {
    expect(byId(packages, 'ms@1.0.0')).toMatchObject({ name: 'ms', aliases: ['old-ms'], paths: ['node_modules/old-ms'], dependents: ['.'] });
  });

  it('keeps npm\'s install-script claim', () => {
    expect(byId(packages, 'core-js@3.45.1').hasInstallScript).toBe(true);
    expect(byId(packages, 'tarball-dep@0.5.0 (http://127.0.0.1:48123/tarball-dep-0.5.0.tgz)').hasInstallScript).toBe(true);
  });

  it('turns links into the workspace and the file: directories they point at', () => {
    expect(byId(packages, 'packages/lib')).toMatchObject({ name: '@fixture/lib', version: '1.0.0', source: 'workspace', paths: ['node_modules/@fixture/lib'], dependents: ['.'] });
    expect(byId(packages, 'local-dep@0.2.0 (file:local-dep)')).toMatchObject({ source: 'directory', insideProject: true, resolved: 'file:local-dep' });
    expect(byId(packages, 'outside-dep@0.3.0 (file:../outside-dep)')).toMatchObject({ source: 'directory', insideProject: false });
    // local-dep's own dependency resolves from its folder up to the root node_modules.
    expect(byId(packages, 'ms@2.1.3').dependents).toEqual(['.', 'local-dep@0.2.0 (file:local-dep)']);
  });

  it('classifies git and remote tarball sources, and bundled copies by their parent', () => {
    const git = packages.find((p) => p.name === 'git-dep');
    expect(git).toMatchObject({ source: 'git', resolved: 'git+file:///tmp/lfgen/git-dep#1fe3c15b26d201519fb5d00f0fff0276db3be5eb' });
    expect(git?.integrity).toBeUndefined();
    const bundled = packages.find((p) => p.name === 'bundled-inner');
    expect(bundled).toMatchObject({ inBundle: true, source: 'tarball', paths: ['node_modules/bundler-dep/node_modules/bundled-inner'] });
    expect(bundled?.id).toBe('bundled-inner@0.1.0 (bundled in bundler-dep@0.6.0)');
    expect(bundled?.integrity).toBeUndefined();
  });

  it('records where each entry starts', () => {
    const text = fixture('npm11-v3.package-lock.json');
    const line = text.split('\n').findIndex((l) => l.startsWith('    "node_modules/core-js": {')) + 1;
    expect(byId(packages, 'core-js@3.45.1').location).toEqual({ line, column: 5 });
  });

  it('reads lockfile v2 the same as v3', () => {
    const v2 = readNpmLockfile(fixture('npm11-v2.package-lock.json'), opts).packages;
    expect(v2.map(({ location: _, ...rest }) => rest)).toEqual(packages.map(({ location: _, ...rest }) => rest));
  });

  it('reads --install-links copies of file: directories as directory sources', () => {
    const links = readNpmLockfile(fixture('npm11-install-links.package-lock.json'), opts).packages;
    expect(byId(links, 'outside-dep@0.3.0 (file:../outside-dep)')).toMatchObject({ source: 'directory', insideProject: false, paths: ['node_modules/outside-dep'], packedOnInstall: true });
    // A linked folder (the default) is not packed: npm links it, and runs no `prepare` of it.
    expect(byId(packages, 'outside-dep@0.3.0 (file:../outside-dep)').packedOnInstall).toBeUndefined();
  });
});

describe('readNpmLockfile on edge cases', () => {
  it('takes a resolved URL as the registry only when it is exactly the configured registry\'s tarball, and strips credentials', () => {
    const { packages } = readNpmLockfile(lock({
      'node_modules/@acme/x': { version: '1.2.3', resolved: 'https://u:secret@npm.example.corp/@acme/x/-/x-1.2.3.tgz', integrity: 'sha512-AAAA' },
      'node_modules/y': { version: '2.0.0', resolved: 'https://npm.example.corp/@acme%2fy/-/y-2.0.0.tgz' },
      'node_modules/z': { version: '1.0.0', resolved: 'https://registry.npmjs.org/z/-/z-1.0.0.tgz' },
    }), opts);
    expect(packages[0]).toMatchObject({ source: 'registry', registry: REGISTRY, resolved: 'https://npm.example.corp/@acme/x/-/x-1.2.3.tgz' });
    // Not the tarball of `y` (it is @acme/y's): a remote tarball, never a registry package.
    expect(packages[1]).toMatchObject({ source: 'tarball' });
    // npm fetches the npm registry's URLs from the configured registry (replace-registry-host=npmjs).
    expect(packages[2]).toMatchObject({ source: 'registry', registry: REGISTRY });
  });

  it('takes every other resolved URL as a remote tarball: another host, a path prefix, another package, query, fragment', () => {
    const urls = [
      'https://mirror.example/npm/@acme/x/-/x-1.2.3.tgz',
      'https://npm.example.corp/evil/-/evil-1.0.0.tgz/@acme/x/-/x-1.2.3.tgz',
      'https://npm.example.corp/@acme/x/-/x-1.2.4.tgz',
      'https://npm.example.corp/@acme/x/-/x-1.2.3.tgz?x=1',
      'https://npm.example.corp/@acme/x/-/x-1.2.3.tgz#x',
      'http://npm.example.corp/@acme/x/-/x-1.2.3.tgz',
    ];
    for (const resolved of urls) {
      const { packages } = readNpmLockfile(lock({ 'node_modules/@acme/x': { version: '1.2.3', resolved, integrity: 'sha512-AAAA' } }), opts);
      expect(packages[0], resolved).toMatchObject({ source: 'tarball' });
    }
  });

  it('recognises git shorthands and ssh URLs', () => {
    const { packages } = readNpmLockfile(lock({
      'node_modules/a': { version: '1.0.0', resolved: 'git+ssh://git@git.example/org/a.git#0123456789abcdef0123456789abcdef01234567' },
      'node_modules/b': { version: '1.0.0', resolved: 'github:org/b#0123456789abcdef0123456789abcdef01234567' },
    }), opts);
    expect(packages.map((p) => p.source)).toEqual(['git', 'git']);
  });

  it('rejects lockfile v1 with a message that says how to upgrade', () => {
    expect(() => readNpmLockfile(JSON.stringify({ lockfileVersion: 1, dependencies: {} }), opts)).toThrow(/lockfileVersion 1 is not supported/);
  });

  it('reports malformed JSON as LOCKFILE_INVALID naming the file', () => {
    try {
      readNpmLockfile('{\n  "lockfileVersion": 3,\n  "packages": {,}\n}', opts);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PortcullisError);
      expect((error as PortcullisError).code).toBe('LOCKFILE_INVALID');
      expect((error as PortcullisError).file).toBe(opts.path);
      expect((error as PortcullisError).message).toContain('/work/app/package-lock.json');
    }
  });

  it('refuses names that escape node_modules', () => {
    expect(() => readNpmLockfile(lock({ 'node_modules/../../etc': { version: '1.0.0' } }), opts)).toThrow(PortcullisError);
    expect(() => readNpmLockfile(lock({ 'node_modules/x': { name: '../x', version: '1.0.0' } }), opts)).toThrow(/invalid package name/);
    expect(() => readNpmLockfile(lock({ 'node_modules/x': { version: '1.0.0', integrity: 'md5 lol' } }), opts)).toThrow(/malformed integrity/);
  });

  it('ignores prototype keys instead of inheriting through them', () => {
    const text = '{"lockfileVersion":3,"packages":{"":{"dependencies":{"__proto__":"1"}},' +
      '"node_modules/ok":{"version":"1.0.0","__proto__":{"hasInstallScript":true}}}}';
    const { packages } = readNpmLockfile(text, opts);
    // `__proto__` is no valid package name (leading underscore), so as an install path it is refused.
    expect(() => readNpmLockfile('{"lockfileVersion":3,"packages":{"node_modules/__proto__":{"version":"1.0.0"}}}', opts)).toThrow(/valid package name/);
    expect(({} as Record<string, unknown>).hasInstallScript).toBeUndefined();
    expect(packages.find((p) => p.name === 'ok')?.hasInstallScript).toBe(false);
  });
});

describe('inBundle where nothing bundles (attack round, issue 13)', () => {
  const lock = (entries: Record<string, unknown>) =>
    JSON.stringify({ name: 'app', lockfileVersion: 3, packages: { '': { name: 'app', dependencies: { x: '1.0.0', holder: '1.0.0' } }, ...entries } });
  it('a top-level copy marked inBundle is a registry package of its own (npm fetches it)', () => {
    const { packages } = readNpmLockfile(lock({ 'node_modules/x': { version: '1.0.0', inBundle: true, integrity: 'sha512-AAAA' } }), opts);
    const x = packages.find((p) => p.name === 'x');
    expect(x).toMatchObject({ id: 'x@1.0.0', source: 'registry', registry: REGISTRY, integrity: 'sha512-AAAA' });
    expect(x?.inBundle).toBeUndefined();
  });
  it('a copy under a workspace marked inBundle is not bundled either', () => {
    const text = JSON.stringify({
      name: 'app',
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', workspaces: ['packages/*'] },
        'packages/w': { name: 'w', version: '1.0.0', dependencies: { x: '1.0.0' } },
        'node_modules/w': { resolved: 'packages/w', link: true },
        'packages/w/node_modules/x': { version: '1.0.0', inBundle: true },
      },
    });
    const x = readNpmLockfile(text, opts).packages.find((p) => p.name === 'x');
    expect(x).toMatchObject({ source: 'registry', registry: REGISTRY });
    expect(x?.inBundle).toBeUndefined();
    expect(x?.integrity).toBeUndefined();
  });
  it('a copy under a registry parent stays bundled in it', () => {
    const { packages } = readNpmLockfile(lock({ 'node_modules/holder': { version: '1.0.0', integrity: 'sha512-BBBB' }, 'node_modules/holder/node_modules/x': { version: '1.0.0', inBundle: true } }), opts);
    expect(packages.find((p) => p.name === 'x')).toMatchObject({ inBundle: true, bundledBy: { name: 'holder', version: '1.0.0' } });
  });
  it('an inBundle entry with a resolved or an integrity of its own is the package it names (npm fetches it when the tarball lacks it; attack round, issue 17)', () => {
    for (const own of [{ integrity: 'sha512-CCCC' }, { resolved: 'https://evil.example/x-1.0.0.tgz' }, { resolved: `${REGISTRY}x/-/x-1.0.0.tgz`, integrity: 'sha512-CCCC' }]) {
      const { packages } = readNpmLockfile(lock({ 'node_modules/holder': { version: '1.0.0', integrity: 'sha512-BBBB' }, 'node_modules/holder/node_modules/x': { version: '1.0.0', inBundle: true, ...own }, 'node_modules/holder/node_modules/x/node_modules/y': { version: '1.0.0', inBundle: true } }), opts);
      const x = packages.find((p) => p.name === 'x');
      expect(x?.inBundle, JSON.stringify(own)).toBeUndefined();
      expect(x?.source).toBe(own.resolved?.startsWith('https://evil') ? 'tarball' : 'registry');
      // A copy bundled under it is shipped in its tarball (the nearest enclosing copy that is not shipped itself).
      expect(packages.find((p) => p.name === 'y')).toMatchObject({ inBundle: true, bundledBy: { name: 'x', version: '1.0.0' } });
    }
  });
});

describe('readNpmLockfile: resolved spellings npm reads otherwise (twelfth wave, H1)', () => {
  it('reads a hosted shorthand and a file: in capitals as git (npm clones the first; the second is a literal path)', () => {
    const { packages } = readNpmLockfile(
      lock({
        'node_modules/a': { version: '1.0.0', resolved: 'evil/a#main' },
        'node_modules/b': { version: '1.0.0', resolved: 'FILE:vendor/b' },
        'node_modules/c': { version: '1.0.0', resolved: 'https://h.example/c.tgz' },
      }),
      opts,
    );
    expect(byId(packages, 'a@1.0.0 (evil/a#main)')).toMatchObject({ source: 'git', resolved: 'evil/a#main' });
    expect(byId(packages, 'b@1.0.0 (FILE:vendor/b)')).toMatchObject({ source: 'git' });
    expect(byId(packages, 'c@1.0.0 (https://h.example/c.tgz)')).toMatchObject({ source: 'tarball' });
  });
});
