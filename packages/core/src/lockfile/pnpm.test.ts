import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import type { PackageNode } from '../model.js';
import { isValidPackageName } from './names.js';
import { patchedDependencyKey, patchSelectorCovers, pnpmLockfilePackageKeys, readPnpmLockfile, withoutPeerSuffix } from './pnpm.js';

const REGISTRY = 'https://npm.example.corp/';
const opts = { path: '/work/app/pnpm-lock.yaml', projectDir: '/work/app', registryFor: () => REGISTRY };
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const byId = (packages: PackageNode[], id: string) => {
  const node = packages.find((p) => p.id === id);
  if (!node) throw new Error(`no node ${id} among ${packages.map((p) => p.id).join(', ')}`);
  return node;
};
/** What must agree between the on-disk lockfile and the objects pnpm hands its hooks. */
const essentials = (packages: PackageNode[]) =>
  packages.map(({ id, name, version, source, registry, resolved, aliases, paths, dependents, insideProject }) =>
    ({ id, name, version, source, registry, resolved, aliases, paths, dependents, insideProject }));

describe('readPnpmLockfile on the YAML pnpm 10 wrote', () => {
  const { packages, kind } = readPnpmLockfile(fixture('pnpm10.pnpm-lock.yaml'), opts);

  it('reads registry packages with integrity and the registry from registryFor', () => {
    expect(kind).toBe('pnpm');
    expect(byId(packages, 'ms@2.1.3')).toMatchObject({ source: 'registry', registry: REGISTRY, integrity: expect.stringMatching(/^sha512-6Flzub/) });
    expect(byId(packages, '@isaacs/string-locale-compare@1.1.0').dependents).toEqual(['.', 'packages/lib']);
  });

  it('collapses peer variants to one identity and keeps the variant key as its path', () => {
    expect(byId(packages, 'ajv-keywords@5.1.0')).toMatchObject({ paths: ['ajv-keywords@5.1.0(ajv@8.17.1)'], dependents: ['.'] });
    expect(byId(packages, 'ajv@8.17.1').dependents).toEqual(['.', 'ajv-keywords@5.1.0']);
  });

  it('resolves the importer alias to the real package', () => {
    expect(byId(packages, 'ms@1.0.0')).toMatchObject({ aliases: ['old-ms'], dependents: ['.'] });
    expect(byId(packages, 'ms@2.0.0').dependents).toEqual(['debug@2.6.9', 'packages/lib']);
  });

  it('reads link: importers as workspaces, and git, tarball and directory resolutions', () => {
    expect(byId(packages, 'packages/lib')).toMatchObject({ name: '@fixture/lib', source: 'workspace', dependents: ['.'] });
    expect(packages.find((p) => p.name === 'git-dep')).toMatchObject({
      source: 'git', version: '0.4.0', resolved: 'git+file:///tmp/lfgen/git-dep#1fe3c15b26d201519fb5d00f0fff0276db3be5eb',
    });
    expect(byId(packages, 'tarball-dep@0.5.0 (http://127.0.0.1:48123/tarball-dep-0.5.0.tgz)')).toMatchObject({ source: 'tarball', integrity: expect.stringMatching(/^sha512-/) });
    expect(byId(packages, 'local-dep@0.0.0-use.local (file:local-dep)')).toMatchObject({ source: 'directory', insideProject: true, dependents: ['.'] });
    expect(byId(packages, 'outside-dep@0.0.0-use.local (file:../outside-dep)')).toMatchObject({ source: 'directory', insideProject: false });
    expect(byId(packages, 'ms@2.1.3').dependents).toContain('local-dep@0.0.0-use.local (file:local-dep)');
  });

  it('records the line of each package entry', () => {
    const lines = fixture('pnpm10.pnpm-lock.yaml').split('\n');
    expect(byId(packages, 'core-js@3.45.1').location).toEqual({ line: lines.indexOf('  core-js@3.45.1:') + 1, column: 3 });
  });

  it('reads the merged object pnpm 10 hands afterAllResolved and preResolution the same way', () => {
    for (const name of ['pnpm10-after-all-resolved.json', 'pnpm10-pre-resolution.wanted-lockfile.json', 'pnpm12-after-all-resolved.json']) {
      const object = JSON.parse(fixture(name)) as object;
      // pnpm leaves the integrity of URL tarballs out of these objects (see fixtures/README.md).
      expect(essentials(readPnpmLockfile(object, opts).packages), name).toEqual(essentials(packages));
    }
  });

  it('reads the empty wanted lockfile of a first install', () => {
    const empty = { importers: { '.': { dependencies: {}, specifiers: {} } }, lockfileVersion: '9.0' };
    expect(readPnpmLockfile(empty, opts).packages).toEqual([]);
  });
});

describe('readPnpmLockfile on edge cases', () => {
  const yaml = (body: string) => `lockfileVersion: '9.0'\n\n${body}`;

  it('strips nested peer and patch suffixes', () => {
    expect(withoutPeerSuffix('a@1.0.0(b@2.0.0(c@3.0.0))(d@1.0.0)')).toBe('a@1.0.0');
    expect(withoutPeerSuffix('a@1.0.0(patch_hash=abc)')).toBe('a@1.0.0');
    expect(withoutPeerSuffix('@s/a@1.0.0')).toBe('@s/a@1.0.0');
  });

  it('treats a tarball URL as the registry only when it is exactly the configured registry\'s tarball for that version', () => {
    const read = (tarball: string) => readPnpmLockfile(yaml(`importers:
  .:
    dependencies:
      '@acme/x': {specifier: ^1.0.0, version: 1.0.0}
packages:
  '@acme/x@1.0.0':
    resolution: {integrity: sha512-AAAA, tarball: ${tarball}}
snapshots:
  '@acme/x@1.0.0': {}
`), opts).packages[0];
    expect(read('https://npm.example.corp/@acme/x/-/x-1.0.0.tgz')).toMatchObject({ source: 'registry', registry: REGISTRY, dependents: ['.'] });
    expect(read('https://npm.example.corp/@acme%2fx/-/x-1.0.0.tgz')).toMatchObject({ source: 'registry', registry: REGISTRY });
    for (const other of ['https://mirror.example/npm/@acme/x/-/x-1.0.0.tgz', 'https://npm.example.corp/evil/-/evil-1.0.0.tgz', 'https://npm.example.corp/p/@acme/x/-/x-1.0.0.tgz', 'https://npm.example.corp/@acme/x/-/x-1.0.0.tgz?v=1']) {
      expect(read(other), other).toMatchObject({ source: 'tarball', resolved: other });
    }
  });

  it('groups two peer variants into one node with two paths', () => {
    const { packages } = readPnpmLockfile(yaml(`packages:
  p@1.0.0:
    resolution: {integrity: sha512-AAAA}
snapshots:
  p@1.0.0(q@1.0.0): {}
  p@1.0.0(q@2.0.0): {}
`), opts);
    expect(packages).toHaveLength(1);
    expect(packages[0]?.paths).toEqual(['p@1.0.0(q@1.0.0)', 'p@1.0.0(q@2.0.0)']);
  });

  it('rejects other lockfile versions, hostile names and snapshots without metadata', () => {
    expect(() => readPnpmLockfile("lockfileVersion: '6.0'\n", opts)).toThrow(/not supported/);
    expect(() => readPnpmLockfile(yaml("packages:\n  ../evil@1.0.0:\n    resolution: {integrity: sha512-AAAA}\n"), opts)).toThrow(/valid package name/);
    expect(() => readPnpmLockfile(yaml('snapshots:\n  a@1.0.0: {}\n'), opts)).toThrow(/no entry under "packages"/);
  });

  it('reports YAML errors with their position', () => {
    try {
      readPnpmLockfile(yaml('packages:\n  a@1.0.0:\n    resolution: {integrity: x\n  a@1.0.0: {}\n'), opts);
      expect.unreachable();
    } catch (error) {
      expect((error as PortcullisError).code).toBe('LOCKFILE_INVALID');
      expect((error as PortcullisError).location?.line).toBeGreaterThan(1);
    }
  });

  it('never lets a __proto__ key reach a prototype', () => {
    const { packages } = readPnpmLockfile(yaml(`importers:
  .:
    dependencies:
      __proto__: {specifier: 1.0.0, version: 1.0.0}
packages:
  a@1.0.0:
    resolution: {integrity: sha512-AAAA}
    __proto__: {requiresBuild: true}
snapshots:
  a@1.0.0: {}
`), opts);
    expect(({} as Record<string, unknown>).requiresBuild).toBeUndefined();
    expect(packages[0]?.hasInstallScript).toBeUndefined();
  });
});

describe('pnpm 11+ lockfiles with config dependencies (two YAML documents)', () => {
  it('reads the config dependencies and the project packages, located in the right document', () => {
    const path = fileURLToPath(new URL('./fixtures/pnpm12-config-dependencies.pnpm-lock.yaml', import.meta.url));
    const lockfile = readPnpmLockfile(readFileSync(path, 'utf8'), { path, projectDir: '/p', registryFor: () => 'http://127.0.0.1:4873/' });
    const byName = new Map(lockfile.packages.map((p) => [p.name, p]));
    expect([...byName.keys()].sort()).toEqual(['left-pad-lite', 'tiny-colors']);
    expect(byName.get('left-pad-lite')!.integrity).toMatch(/^sha512-/);
    expect(byName.get('tiny-colors')!.location!.line).toBeGreaterThan(byName.get('left-pad-lite')!.location!.line + 10);
  });
});

describe('what pnpm installs, not another entry that names the same package (attack round, issue 17)', () => {
  const G = `sha512-${'G'.repeat(86)}==`;
  const T = `sha512-${'T'.repeat(86)}==`;
  const project = (packages: string, snapshots: string, version = '1.0.0') =>
    ['lockfileVersion: \'9.0\'', 'importers:', '  .:', '    dependencies:', '      good:', '        specifier: 1.0.0', `        version: ${version}`, 'packages:', packages, 'snapshots:', snapshots, ''].join('\n');

  it('two documents naming name@version with two integrities give two nodes, each judged', () => {
    const text = ['---', 'lockfileVersion: \'9.0\'', 'packages:', '  good@1.0.0:', `    resolution: {integrity: ${G}}`, '---', project(`  good@1.0.0:\n    resolution: {integrity: ${T}}`, '  good@1.0.0: {}')].join('\n');
    const { packages } = readPnpmLockfile(text, opts);
    expect(packages.map((p) => [p.id, p.integrity])).toEqual([
      ['good@1.0.0', G],
      ['good@1.0.0 [2]', T],
    ]);
    // The project document's copy keeps its dependents, under its new id.
    expect(byId(packages, 'good@1.0.0 [2]').dependents).toEqual(['.']);
    // The same copy in both documents is one node.
    const same = ['---', 'lockfileVersion: \'9.0\'', 'packages:', '  good@1.0.0:', `    resolution: {integrity: ${T}}`, '---', project(`  good@1.0.0:\n    resolution: {integrity: ${T}}`, '  good@1.0.0: {}')].join('\n');
    expect(readPnpmLockfile(same, opts).packages.map((p) => [p.id, p.integrity])).toEqual([['good@1.0.0', T]]);
  });

  it('a YAML merge key (`<<`), which pnpm merges in (a resolution\'s type or tarball) and this reader would not, is refused where it is', () => {
    const git = project(`  good@1.0.0:\n    resolution:\n      <<: {type: git, repo: 'https://evil.example/x.git', commit: abc}\n      integrity: ${G}`, '  good@1.0.0: {}');
    expect(() => readPnpmLockfile(git, opts)).toThrow(expect.objectContaining({ code: 'LOCKFILE_INVALID', message: expect.stringContaining('(line 11, column 7): a YAML merge key') }));
    for (const spelling of [`'<<': {integrity: ${G}}`, `"<<": {integrity: ${G}}`]) {
      const quoted = project(`  good@1.0.0:\n    resolution:\n      ${spelling}\n      integrity: ${G}`, '  good@1.0.0: {}');
      expect(() => readPnpmLockfile(quoted, opts), spelling).toThrow(/merge key/);
    }
    const flow = project(`  good@1.0.0:\n    resolution: {<<: {type: git}, integrity: ${G}}`, '  good@1.0.0: {}');
    expect(() => readPnpmLockfile(flow, opts)).toThrow(/merge key/);
  });

  it('a `link:` to an absolute path is that folder: outside the project it is not the project\'s own code', () => {
    const linked = (spec: string) =>
      readPnpmLockfile(['lockfileVersion: \'9.0\'', 'importers:', '  .:', '    dependencies:', '      good:', `        specifier: link:${spec}`, `        version: link:${spec}`, ''].join('\n'), opts).packages.find((p) => p.name === 'good');
    expect(linked('/tmp/elsewhere/good')).toMatchObject({ source: 'directory', insideProject: false, resolved: 'file:../../tmp/elsewhere/good' });
    // The same folder spelled relative to the project was already outside; a folder inside it, absolute or not, is inside.
    expect(linked('../../tmp/elsewhere/good')).toMatchObject({ insideProject: false, resolved: 'file:../../tmp/elsewhere/good' });
    expect(linked('/work/app/vendor/good')).toMatchObject({ insideProject: true, resolved: 'file:vendor/good' });
    expect(linked('vendor/good')).toMatchObject({ insideProject: true, resolved: 'file:vendor/good' });
  });

  it('a snapshot with peers is read from its packages entry without the suffix, as pnpm reads it, not from one under the suffixed key', () => {
    const text = project(`  good@1.0.0(x@1.0.0):\n    resolution: {integrity: ${G}}\n  good@1.0.0:\n    resolution: {integrity: ${T}}`, '  good@1.0.0(x@1.0.0): {}', '1.0.0(x@1.0.0)');
    const { packages } = readPnpmLockfile(text, opts);
    expect(packages.map((p) => [p.id, p.integrity])).toEqual([['good@1.0.0', T]]);
    // In the merged object pnpm 10 and 11 hand their hooks (no snapshots), packages are keyed with their suffix.
    const merged = { lockfileVersion: '9.0', importers: { '.': { dependencies: { good: '1.0.0(x@1.0.0)' }, specifiers: { good: '1.0.0' } } }, packages: { 'good@1.0.0(x@1.0.0)': { resolution: { integrity: T } } } };
    expect(readPnpmLockfile(merged, opts).packages.map((p) => [p.id, p.integrity])).toEqual([['good@1.0.0', T]]);
  });
});

describe('a dependency the lockfile does not pin (attack round, issue 13)', () => {
  const text = `lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      a: {specifier: 1.0.0, version: 1.0.0}
      gone: {specifier: 1.0.0, version: 1.0.0}
packages:
  a@1.0.0:
    resolution: {integrity: sha512-AAAA}
snapshots:
  a@1.0.0:
    dependencies:
      vanished: 2.0.0
`;
  it('is LOCKFILE_INVALID on disk (pnpm re-resolves it, so check cannot vouch for it), naming the importer', () => {
    expect(() => readPnpmLockfile(text, opts)).toThrow(/importer "\." depends on gone \("1\.0\.0"\), which has no entry under "packages"/);
    const transitive = text.replace('      gone: {specifier: 1.0.0, version: 1.0.0}\n', '');
    expect(() => readPnpmLockfile(transitive, opts)).toThrow(/"a@1\.0\.0" depends on vanished/);
  });
  it('is left out of a hook\'s in-memory lockfile, which pnpm re-resolves and the hook judges again', () => {
    const object = {
      lockfileVersion: '9.0',
      importers: { '.': { dependencies: { a: { specifier: '1.0.0', version: '1.0.0' }, gone: { specifier: '1.0.0', version: '1.0.0' } } } },
      packages: { 'a@1.0.0': { resolution: { integrity: 'sha512-AAAA' } } },
      snapshots: { 'a@1.0.0': {} },
    };
    expect(readPnpmLockfile(object, opts).packages.map((p) => p.id)).toEqual(['a@1.0.0']);
  });
});

describe('pnpmLockfilePackageKeys', () => {
  it('lists every package the full reader finds, from the keys alone (pnpm 10 and 12 lockfiles, this repository\'s own)', () => {
    const own = readFileSync(fileURLToPath(new URL('../../../../pnpm-lock.yaml', import.meta.url)), 'utf8');
    for (const text of [fixture('pnpm10.pnpm-lock.yaml'), fixture('pnpm12-config-dependencies.pnpm-lock.yaml'), own]) {
      const keys = new Set(pnpmLockfilePackageKeys(text).map((p) => `${p.name}@${p.version}`));
      const full = readPnpmLockfile(text, opts).packages.filter((p) => p.source === 'registry');
      expect(full.length).toBeGreaterThan(0);
      for (const p of full) expect(keys.has(`${p.name}@${p.version}`), `${p.name}@${p.version}`).toBe(true);
    }
  });
  it('reads quoted scoped keys, ignores other sections and names that are no package names', () => {
    const text = "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies: {}\npackages:\n  '@acme/a@1.0.0':\n    resolution: {integrity: sha512-x}\n  b@2.0.0(c@1.0.0):\n    resolution: {}\n  ../evil@1.0.0:\n    x: y\nsnapshots:\n  d@1.0.0: {}\n";
    expect(pnpmLockfilePackageKeys(text)).toEqual([{ name: '@acme/a', version: '1.0.0' }, { name: 'b', version: '2.0.0' }]);
  });
  // The scan reads keys where they stand in the text instead of splitting it into lines: it must list exactly what the
  // line-by-line reading it replaced listed, for any text (line ends, lone carriage returns, Unicode spaces, quotes).
  it('lists exactly what a line-by-line reading lists, for any text', () => {
    const byLines = (text: string) => {
      const out: Array<{ name: string; version: string }> = [];
      let inPackages = false;
      for (const line of text.split(/\r?\n/)) {
        if (/^\S/.test(line)) {
          inPackages = /^packages:\s*$/.test(line);
          continue;
        }
        if (!inPackages) continue;
        const match = /^ {2}(['"]?)(@?[^@\s'"]+)@([^\s'"(:]+)/.exec(line);
        if (match !== null && isValidPackageName(match[2]!)) out.push({ name: match[2]!, version: match[3]! });
      }
      return out;
    };
    const piece = fc.oneof(
      fc.constantFrom('packages:', 'packages: ', '  a@1', '  b@2\n', '  c@', ' d@1', 'packages:\t', 'snapshots:', ' packages:', '  a@1.0.0:', "  '@s/a@1.0.0':", '  "b@2.0.0(c@1.0.0)":', '   d@1.0.0:', '    resolution: {}', '  @x@1', '  e@', '  @@1', '  f@1:2', "  g'@1", '  h@1\r2', '  ü@1', '\n', '\r\n', '\r', '\r\r\n', ' ', '  ', '\t', '\u00a0', '\u2028', '\ufeff', '@', "'", '"', ':', 'x'),
      fc.string({ maxLength: 12 }),
    );
    // Lines of one to three pieces, each ended by a line end or a piece (which may hold one).
    const line = fc.tuple(fc.array(piece, { minLength: 1, maxLength: 3 }), fc.constantFrom('\n', '\r\n', '', '\r')).map(([parts, end]) => parts.join('') + end);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), (lines) => {
        const text = lines.join('');
        expect(pnpmLockfilePackageKeys(text)).toEqual(byLines(text));
      }),
      { numRuns: 3000 },
    );
    const own = readFileSync(fileURLToPath(new URL('../../../../pnpm-lock.yaml', import.meta.url)), 'utf8');
    for (const text of [fixture('pnpm10.pnpm-lock.yaml'), own, own.replaceAll('\n', '\r\n')]) expect(pnpmLockfilePackageKeys(text)).toEqual(byLines(text));
  });
});

describe('pnpm lockfile: patched packages (patchedDependencies)', () => {
  const H = 'b617971e27cc5168e30fec932ebeba67e887daa610f0d1fd432e0f96d5ca30d8';
  const lockfile = (section: string) =>
    [
      "lockfileVersion: '9.0'",
      '',
      section,
      'importers:',
      '  .:',
      '    dependencies:',
      '      good:',
      '        specifier: 1.0.0',
      `        version: 1.0.0(patch_hash=${H})`,
      '      plain:',
      '        specifier: 1.0.0',
      '        version: 1.0.0',
      'packages:',
      '  good@1.0.0:',
      '    resolution: {integrity: sha512-AAAA}',
      '  plain@1.0.0:',
      '    resolution: {integrity: sha512-BBBB}',
      'snapshots:',
      `  good@1.0.0(patch_hash=${H}): {}`,
      '  plain@1.0.0: {}',
      '',
    ].join('\n');

  it('marks the patched snapshot with its hash and the file pnpm 10 names; pnpm 11 and 12 record the hash alone', () => {
    const ten = readPnpmLockfile(lockfile(`patchedDependencies:\n  good@1.0.0:\n    hash: ${H}\n    path: patches/good@1.0.0.patch\n`), opts).packages;
    expect(byId(ten, 'good@1.0.0').patches).toEqual([{ hash: H, files: ['patches/good@1.0.0.patch'] }]);
    expect(byId(ten, 'good@1.0.0').dependents).toEqual(['.']);
    expect(byId(ten, 'plain@1.0.0').patches).toBeUndefined();
    const twelve = readPnpmLockfile(lockfile(`patchedDependencies:\n  good@1.0.0: ${H}\n`), opts).packages;
    expect(byId(twelve, 'good@1.0.0').patches).toEqual([{ hash: H, files: [] }]);
    // A suffix without a section entry is still a patch (found by its hash, or judged unknown).
    expect(byId(readPnpmLockfile(lockfile(''), opts).packages, 'good@1.0.0').patches).toEqual([{ hash: H, files: [] }]);
  });

  it('in the merged shape pnpm 10 and 11 hand their hooks (packages keyed with the suffix, no snapshots)', () => {
    const merged = {
      lockfileVersion: '9.0',
      patchedDependencies: { 'good@1.0.0': { hash: H, path: '/work/app/patches/good@1.0.0.patch' } },
      importers: { '.': { dependencies: { good: `1.0.0(patch_hash=${H})` }, specifiers: { good: '1.0.0' } } },
      packages: { [`good@1.0.0(patch_hash=${H})`]: { resolution: { integrity: 'sha512-AAAA' } } },
    };
    expect(byId(readPnpmLockfile(merged, opts).packages, 'good@1.0.0').patches).toEqual([{ hash: H, files: ['/work/app/patches/good@1.0.0.patch'] }]);
  });

  it('r43b: a package the section names is patched whatever its key says (every `(patch_hash=…)` deleted)', () => {
    const stripped = (section: string) => readPnpmLockfile(lockfile(section).split(`(patch_hash=${H})`).join(''), opts).packages;
    expect(byId(stripped(`patchedDependencies:\n  good@1.0.0:\n    hash: ${H}\n    path: patches/good@1.0.0.patch\n`), 'good@1.0.0').patches).toEqual([{ hash: H, files: ['patches/good@1.0.0.patch'] }]);
    expect(byId(stripped(`patchedDependencies:\n  good: ${H}\n`), 'good@1.0.0').patches).toEqual([{ hash: H, files: [] }]);
    expect(byId(stripped(`patchedDependencies:\n  good@^1.0.0: ${H}\n`), 'good@1.0.0').patches).toEqual([{ hash: H, files: [] }]);
    // Another exact version names another package; a hash that cannot be read is none (judged unknown).
    expect(byId(stripped(`patchedDependencies:\n  good@2.0.0: ${H}\n`), 'good@1.0.0').patches).toBeUndefined();
    expect(byId(stripped(`patchedDependencies:\n  good@1.0.0: [1]\n`), 'good@1.0.0').patches).toEqual([{ hash: '', files: [] }]);
    expect(byId(stripped(`patchedDependencies:\n  good@1.0.0: ${H}\n`), 'plain@1.0.0').patches).toBeUndefined();
    // The key's hash and the section's, once each.
    expect(byId(readPnpmLockfile(lockfile(`patchedDependencies:\n  good@1.0.0: ${H}\n`), opts).packages, 'good@1.0.0').patches).toHaveLength(1);
  });

  it('reads patchedDependencies keys as pnpm writes them: name, name@version, name@range, scoped', () => {
    expect(patchedDependencyKey('good')).toEqual({ name: 'good', selector: undefined });
    expect(patchedDependencyKey('good@1.0.0')).toEqual({ name: 'good', selector: '1.0.0' });
    expect(patchedDependencyKey('@s/good@>=1 <2')).toEqual({ name: '@s/good', selector: '>=1 <2' });
    expect(patchedDependencyKey('@s/good')).toEqual({ name: '@s/good', selector: undefined });
    expect(patchedDependencyKey('../evil')).toBeUndefined();
    expect(patchSelectorCovers(undefined, '1.0.0')).toBe(true);
    expect(patchSelectorCovers('1.0.0', '1.0.0')).toBe(true);
    expect(patchSelectorCovers('1.0.1', '1.0.0')).toBe(false);
    expect(patchSelectorCovers('1.0.0-rc.1', '1.0.0')).toBe(false);
    // A range, or a spelling not read here (`v1.0.0`, `=1.0.0`): every version (fail closed).
    for (const selector of ['^2.0.0', '1.x', 'v1.0.1', '=1.0.1', '*']) expect(patchSelectorCovers(selector, '1.0.0')).toBe(true);
  });
});

describe('readPnpmLockfile: entries that say two things (sixth review wave of round 43)', () => {
  const base = (entry: string, settings = '') => `lockfileVersion: '9.0'\n${settings}\nimporters:\n\n  .:\n    dependencies:\n      good:\n        specifier: 1.0.0\n        version: 1.0.0\n\npackages:\n\n  good@1.0.0:\n    resolution: {integrity: sha512-${'A'.repeat(86)}==}\n${entry}\nsnapshots:\n\n  good@1.0.0: {}\n`;
  const opts = { path: '/p/pnpm-lock.yaml', projectDir: '/p', registryFor: () => 'https://registry.example/' };
  it('a registry entry whose version: or name: is not its key is refused (pnpm 10 and 11 fetch what the fields name)', () => {
    expect(() => readPnpmLockfile(base('    version: 2.0.0\n'), opts)).toThrow(/records good@2\.0\.0, not the package its key names/);
    expect(() => readPnpmLockfile(base('    name: evil\n'), opts)).toThrow(/records evil@1\.0\.0/);
    expect(readPnpmLockfile(base('    version: 1.0.0\n'), opts).packages.map((p) => p.id)).toEqual(['good@1.0.0']);
    expect(readPnpmLockfile(base(''), opts).packages.map((p) => p.id)).toEqual(['good@1.0.0']);
  });
  it('settings that leave links out of the lockfile (excludeLinksFromLockfile) are refused', () => {
    expect(() => readPnpmLockfile(base('', 'settings:\n  excludeLinksFromLockfile: true\n'), opts)).toThrow(/excludeLinksFromLockfile/);
    expect(readPnpmLockfile(base('', 'settings:\n  excludeLinksFromLockfile: false\n'), opts).packages).toHaveLength(1);
  });
});
