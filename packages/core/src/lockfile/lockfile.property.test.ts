/**
 * Hostile lockfiles: the three readers get generated, mutated and oversized input. Whatever they are
 * given they either return packages whose names, versions and install paths are safe to use, or throw a
 * typed PortcullisError — never another crash, never a polluted prototype, never unbounded work.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse as yamlParse, stringify as yamlStringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import type { Lockfile, PackageNode } from '../model.js';
import { isPlausibleVersion } from './names.js';
import { isValidPackageName } from '../package-name.js';
import { readNpmLockfile } from './npm.js';
import { readPnpmLockfile } from './pnpm.js';
import { readYarnLockfile } from './yarn.js';

const REGISTRY = 'https://npm.example.corp/';
const npmOpts = { path: '/work/app/package-lock.json', projectDir: '/work/app', registryFor: () => REGISTRY };
const pnpmOpts = { ...npmOpts, path: '/work/app/pnpm-lock.yaml' };
const yarnOpts = { ...npmOpts, path: '/work/app/yarn.lock' };
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();
/** Fails if anything was written onto Object.prototype (the classic pollution payloads). */
function expectPrototypeIntact(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_NAMES);
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
}
afterEach(expectPrototypeIntact);

/** Runs a reader; a thrown error must be a PortcullisError; a result must be safe to use. */
function readOrTyped(read: () => Lockfile): Lockfile | PortcullisError {
  let result: Lockfile;
  try {
    result = read();
  } catch (error) {
    if (!(error instanceof PortcullisError)) throw new Error(`untyped error: ${String((error as Error)?.stack ?? error)}`);
    expect(['LOCKFILE_INVALID', 'INPUT_TOO_LARGE']).toContain(error.code);
    return error;
  }
  expectSafeNodes(result);
  expectPrototypeIntact();
  return result;
}

const UNSAFE_PATH = /(^|[\\/])\.\.?([\\/]|$)|^[\\/]|^[A-Za-z]:|\u0000|\\/;

/**
 * What every consumer of a PackageNode relies on: valid names, plausible versions, install paths that stay put.
 * Collected per node and asserted once: an expect() per node cost a 200,000-entry lockfile more than its reading.
 */
function unsafeIn(pkg: PackageNode, kind: Lockfile['kind']): string[] {
  const problems: string[] = [];
  if (!isValidPackageName(pkg.name)) problems.push(`name ${JSON.stringify(pkg.name)}`);
  for (const alias of pkg.aliases) if (!isValidPackageName(alias)) problems.push(`alias ${JSON.stringify(alias)}`);
  if (!isPlausibleVersion(pkg.version)) problems.push(`version ${JSON.stringify(pkg.version)}`);
  // npm's install paths are read from disk (installed manifests): a registry copy's path must not climb or jump.
  if (kind === 'npm' && pkg.source !== 'directory' && pkg.source !== 'workspace') {
    for (const path of pkg.paths) if (UNSAFE_PATH.test(path)) problems.push(`install path ${JSON.stringify(path)}`);
  }
  return problems;
}

function expectSafeNodes(lockfile: Lockfile): void {
  expect(lockfile.packages.flatMap((pkg) => unsafeIn(pkg, lockfile.kind))).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const HOSTILE_STRINGS = [
  '__proto__', 'constructor', 'prototype', '__proto__/polluted', '../', '..', '.', '../../etc/passwd', '/etc/passwd',
  'C:\\Windows', 'a\\..\\..\\b', 'node_modules/../../x', 'node_modules/a\\..\\..\\b', 'node_modules/\u0000x', 'x\u0000',
  '%2e%2e%2f', '@scope/../x', '@../x', '@/x', '', ' ', 'NODE_MODULES/x', 'node_modules/', 'node_modules//x',
  '\u202e', 'é', '😀', 'npm:evil@1.0.0', 'patch:x@%E0%A4%A#~', 'x@patch:x@%zz', 'link:../../..', 'file:/etc', 'file:../..',
  'a'.repeat(300), 'sha512-', 'sha512-AAAA', '1.0.0', '0.0.0-use.local', '9.0', 'workspace:.', 'workspace:../..',
] as const;

const hostileString = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }));
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, false, 0, -1, 1.5, Number.MAX_SAFE_INTEGER, 9),
  // A fresh object per draw: a shared constant placed twice by two mutations could end up containing itself.
  fc.constant(null).map(() => ({})),
  fc.constant(null).map(() => []),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
  fc.constant(null).map(() => ({ __proto__: null, polluted: 'yes' })),
);

/**
 * Sets `key` as an own property, even `__proto__`, as JSON.parse and YAML do. An array takes index keys only: JSON has
 * no other key for one (JSON.stringify would drop it before the reader sees it), and defining `length` on one throws
 * (a drawn key of "length" on an array made the harness itself fail, seed 790438112).
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (Array.isArray(target) && !/^(?:0|[1-9]\d*)$/.test(key)) return;
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

type Mutation = { pick: number; kind: 'value' | 'key' | 'delete' | 'add'; key: string; value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  kind: fc.constantFrom('value', 'key', 'delete', 'add'),
  key: hostileString,
  value: hostileValue,
});

/** Applies mutations to a deep copy of a JSON-shaped value, at positions chosen by `pick`. */
function mutate(value: unknown, mutations: readonly Mutation[]): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  for (const m of mutations) {
    const slots: Array<[Record<string, unknown>, string]> = [];
    const walk = (node: unknown): void => {
      if (typeof node !== 'object' || node === null) return;
      for (const key of Object.keys(node)) {
        slots.push([node as Record<string, unknown>, key]);
        walk((node as Record<string, unknown>)[key]);
      }
    };
    walk(copy);
    if (slots.length === 0) break;
    const [parent, key] = slots[m.pick % slots.length]!;
    if (m.kind === 'value') setOwn(parent, key, m.value);
    else if (m.kind === 'delete') delete parent[key];
    else if (m.kind === 'add') setOwn(parent, m.key, m.value);
    else {
      const moved = parent[key];
      delete parent[key];
      setOwn(parent, m.key, moved);
    }
  }
  return copy;
}

/** Text-level damage: cut, duplicate or splice hostile characters into a lockfile's text. */
const textMutation = fc.record({ at: fc.nat(), length: fc.nat({ max: 80 }), insert: fc.oneof(hostileString, fc.constantFrom('\n', '"', '{', '[', ':', '- ', '  ', '&a', '*a', '<<: *a', '!!js/function', '\t')) });
function damage(text: string, edits: ReadonlyArray<{ at: number; length: number; insert: string }>): string {
  let out = text;
  for (const e of edits) {
    const at = e.at % (out.length + 1);
    out = out.slice(0, at) + e.insert + out.slice(at + e.length);
  }
  return out;
}

const SEGMENT = /^[a-z0-9][a-z0-9._-]{0,12}$/;
const validName = fc
  .tuple(fc.option(fc.stringMatching(SEGMENT), { nil: undefined }), fc.stringMatching(SEGMENT))
  .map(([scope, name]) => (scope === undefined ? name : `@${scope}/${name}`))
  .filter((name) => isValidPackageName(name));
const semverVersion = fc.tuple(fc.nat(30), fc.nat(30), fc.nat(30), fc.option(fc.constantFrom('rc.1', 'beta', 'alpha.0'), { nil: undefined })).map(([a, b, c, pre]) => `${a}.${b}.${c}${pre ? `-${pre}` : ''}`);
const integrity = fc.uint8Array({ minLength: 64, maxLength: 64 }).map((bytes) => `sha512-${Buffer.from(bytes).toString('base64')}`);

// ---------------------------------------------------------------------------------------------
// npm
// ---------------------------------------------------------------------------------------------

/** A valid npm v3 lockfile generated from arbitraries: top-level and nested registry packages. */
const npmLockfile = fc
  .uniqueArray(fc.record({ name: validName, version: semverVersion, integrity, nested: fc.option(validName, { nil: undefined }), script: fc.boolean() }), {
    selector: (p) => p.name,
    maxLength: 12,
  })
  .map((list) => {
    const packages: Record<string, unknown> = { '': { name: 'app', version: '1.0.0', dependencies: Object.fromEntries(list.map((p) => [p.name, p.version])) } };
    for (const p of list) {
      packages[`node_modules/${p.name}`] = {
        version: p.version,
        resolved: `${REGISTRY}${p.name}/-/${p.name.split('/').pop()}-${p.version}.tgz`,
        integrity: p.integrity,
        ...(p.script ? { hasInstallScript: true } : {}),
      };
      if (p.nested !== undefined) packages[`node_modules/${p.name}/node_modules/${p.nested}`] = { version: '1.0.0', integrity: p.integrity };
    }
    return { list, lock: { name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages } };
  });

describe('readNpmLockfile (hostile input)', () => {
  it('reads every generated valid lockfile: each package once, with its name, version and integrity', () => {
    fc.assert(
      fc.property(npmLockfile, ({ list, lock }) => {
        const result = readOrTyped(() => readNpmLockfile(JSON.stringify(lock, null, 2), npmOpts));
        expect(result).not.toBeInstanceOf(PortcullisError);
        const packages = (result as Lockfile).packages;
        for (const p of list) {
          const node = packages.find((n) => n.paths.includes(`node_modules/${p.name}`));
          expect(node).toMatchObject({ name: p.name, version: p.version, integrity: p.integrity, source: 'registry', registry: REGISTRY });
          expect(node!.hasInstallScript).toBe(p.script);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a mutated lockfile (hostile keys and values anywhere) parses safely or fails typed', () => {
    const real = JSON.parse(fixture('npm11-v3.package-lock.json')) as unknown;
    fc.assert(
      fc.property(fc.oneof(fc.constant(real), npmLockfile.map((g) => g.lock)), fc.array(mutation, { minLength: 1, maxLength: 4 }), (base, mutations) => {
        readOrTyped(() => readNpmLockfile(JSON.stringify(mutate(base, mutations), null, 2), npmOpts));
      }),
      { numRuns: 400 },
    );
  });

  it('damaged lockfile text fails typed', () => {
    const text = fixture('npm11-v2.package-lock.json');
    fc.assert(fc.property(fc.array(textMutation, { minLength: 1, maxLength: 3 }), (edits) => void readOrTyped(() => readNpmLockfile(damage(text, edits), npmOpts))), { numRuns: 200 });
  });

  it('arbitrary JSON values fail typed', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => void readOrTyped(() => readNpmLockfile(JSON.stringify(value), npmOpts))), { numRuns: 200 });
  });

  it('rejects install paths that climb, jump, use backslashes or NUL', () => {
    const entry = { version: '1.0.0', integrity: 'sha512-AAAA' };
    for (const key of [
      'node_modules/../../etc/node_modules/x',
      '/abs/node_modules/x',
      'node_modules/a/../node_modules/x',
      'node_modules\\..\\..\\evil/node_modules/x',
      'evil\\..\\..\\/node_modules/x',
      'a\u0000b/node_modules/x',
      'node_modules/./x',
      'node_modules//x',
    ]) {
      const result = readOrTyped(() => readNpmLockfile(JSON.stringify({ lockfileVersion: 3, packages: { '': {}, [key]: entry } }), npmOpts));
      expect(result, key).toBeInstanceOf(PortcullisError);
    }
  });

  it('a link target at an absolute path or the filesystem root terminates (dependency lookup climbs to "/" once)', () => {
    for (const target of ['/abs/dir', '/', '//x']) {
      const lock = { lockfileVersion: 3, packages: { '': { dependencies: { x: 'file:' + target } }, 'node_modules/x': { link: true, resolved: target }, [target]: { name: 'x', version: '1.0.0', dependencies: { missing: '^1' } } } };
      const result = readOrTyped(() => readNpmLockfile(JSON.stringify(lock), npmOpts));
      expect(result).not.toBeInstanceOf(PortcullisError);
      // Outside the project: a directory that is not the user's code, never exempt.
      expect((result as Lockfile).packages.find((p) => p.name === 'x')).toMatchObject({ source: 'directory', insideProject: false });
    }
  });

  it('hostile workspace globs cost linear time, not exponential backtracking', () => {
    const globs = ['**a**a**a**a**a**a**a**a**a**a**a**a**b', '*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', `${'**/'.repeat(40)}x`];
    const packages: Record<string, unknown> = { '': { workspaces: globs } };
    for (let i = 0; i < 200; i++) packages[`${'a'.repeat(40)}/${'a'.repeat(60)}${i}`] = { name: `w${i}`, version: '1.0.0' };
    const started = performance.now();
    readOrTyped(() => readNpmLockfile(JSON.stringify({ lockfileVersion: 3, packages }), npmOpts));
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('is bounded on huge input: 200,000 entries, deep nesting, long strings, over-limit size', () => {
    const packages: Record<string, unknown> = { '': {} };
    for (let i = 0; i < 200_000; i++) packages[`node_modules/p${i}`] = { version: '1.0.0', integrity: 'sha512-AAAA' };
    const text = JSON.stringify({ lockfileVersion: 3, packages });
    // The bound is the reader's: the checks of what it returned are timed apart.
    let started = performance.now();
    const many = readNpmLockfile(text, npmOpts);
    expect(performance.now() - started).toBeLessThan(20_000);
    expect((readOrTyped(() => many) as Lockfile).packages).toHaveLength(200_000);

    started = performance.now();
    expect(readOrTyped(() => readNpmLockfile(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`, npmOpts))).toBeInstanceOf(PortcullisError);
    const deep = `{"lockfileVersion":3,"packages":{"":{},"node_modules/x":{"version":"1.0.0","dependencies":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}}}`;
    readOrTyped(() => readNpmLockfile(deep, npmOpts));
    const long = JSON.stringify({ lockfileVersion: 3, packages: { '': {}, [`node_modules/${'a'.repeat(10_000_000)}`]: { version: '1'.repeat(1_000_000) } } });
    expect(readOrTyped(() => readNpmLockfile(long, npmOpts))).toBeInstanceOf(PortcullisError);
    const badIntegrity = JSON.stringify({ lockfileVersion: 3, packages: { '': {}, 'node_modules/x': { version: '1.0.0', integrity: `${'sha1-AAAsha1'.repeat(200_000)}!` } } });
    expect(readOrTyped(() => readNpmLockfile(badIntegrity, npmOpts))).toBeInstanceOf(PortcullisError);
    expect(performance.now() - started).toBeLessThan(10_000);

    const tooBig = ' '.repeat(64 * 1024 * 1024 + 1);
    expect((readOrTyped(() => readNpmLockfile(tooBig, npmOpts)) as PortcullisError).code).toBe('INPUT_TOO_LARGE');
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// pnpm
// ---------------------------------------------------------------------------------------------

// One version per name: every package is a direct dependency of the root (importers are keyed by name).
const pnpmLockfile = fc
  .uniqueArray(fc.record({ name: validName, version: semverVersion, integrity, build: fc.option(fc.boolean(), { nil: undefined }) }), { selector: (p) => p.name, maxLength: 12 })
  .map((list) => ({
    list,
    lock: {
      lockfileVersion: '9.0',
      importers: { '.': { dependencies: Object.fromEntries(list.map((p) => [p.name, { specifier: p.version, version: p.version }])) } },
      packages: Object.fromEntries(list.map((p) => [`${p.name}@${p.version}`, { resolution: { integrity: p.integrity }, ...(p.build === undefined ? {} : { requiresBuild: p.build }) }])),
      snapshots: Object.fromEntries(list.map((p) => [`${p.name}@${p.version}`, {}])),
    },
  }));

describe('readPnpmLockfile (hostile input)', () => {
  it('reads every generated valid lockfile, as YAML text and as the hook object', () => {
    fc.assert(
      fc.property(pnpmLockfile, ({ list, lock }) => {
        for (const input of [yamlStringify(lock), lock]) {
          const result = readOrTyped(() => readPnpmLockfile(input, pnpmOpts));
          expect(result).not.toBeInstanceOf(PortcullisError);
          const packages = (result as Lockfile).packages;
          expect(packages).toHaveLength(list.length);
          for (const p of list) {
            const node = packages.find((n) => n.name === p.name && n.version === p.version);
            expect(node).toMatchObject({ source: 'registry', integrity: p.integrity, registry: REGISTRY, dependents: ['.'] });
            expect(node!.hasInstallScript).toBe(p.build);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('mutated lockfiles parse safely or fail typed, as YAML text and as objects', () => {
    const real = readPnpmLockfileObject();
    fc.assert(
      fc.property(fc.oneof(fc.constant(real), pnpmLockfile.map((g) => g.lock)), fc.array(mutation, { minLength: 1, maxLength: 4 }), (base, mutations) => {
        const mutated = mutate(base, mutations);
        readOrTyped(() => readPnpmLockfile(mutated as object, pnpmOpts));
        let text: string;
        try {
          text = yamlStringify(mutated);
        } catch {
          return; // not representable as YAML
        }
        readOrTyped(() => readPnpmLockfile(text, pnpmOpts));
      }),
      { numRuns: 300 },
    );
  });

  it('damaged YAML text fails typed', () => {
    const text = fixture('pnpm10.pnpm-lock.yaml');
    fc.assert(fc.property(fc.array(textMutation, { minLength: 1, maxLength: 3 }), (edits) => void readOrTyped(() => readPnpmLockfile(damage(text, edits), pnpmOpts))), { numRuns: 200 });
  });

  it('is bounded: alias bombs, deep nesting, peer-suffix storms, long keys', () => {
    const started = performance.now();
    const bomb = ['lockfileVersion: "9.0"', 'a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`), 'packages: {}'].join('\n');
    expect(readOrTyped(() => readPnpmLockfile(bomb, pnpmOpts))).toBeInstanceOf(PortcullisError);
    readOrTyped(() => readPnpmLockfile(`lockfileVersion: "9.0"\npackages:\n  deep: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`, pnpmOpts));
    readOrTyped(() => readPnpmLockfile(`lockfileVersion: "9.0"\nx: ${'- '.repeat(5_000)}1\n`, pnpmOpts));
    const peers = `x@1.0.0${'(y@1.0.0)'.repeat(50_000)}`;
    readOrTyped(() => readPnpmLockfile({ lockfileVersion: '9.0', packages: { [peers]: { resolution: { integrity: 'sha512-AA==' } } }, snapshots: { [peers]: {} } }, pnpmOpts));
    const unbalanced = `x@1.0.0${')'.repeat(200_000)}`;
    readOrTyped(() => readPnpmLockfile({ lockfileVersion: '9.0', packages: { [unbalanced]: { resolution: { integrity: 'sha512-AA==' } } } }, pnpmOpts));
    const many: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) many[`p${i}@1.0.0`] = { resolution: { integrity: 'sha512-AA==' } };
    expect((readOrTyped(() => readPnpmLockfile({ lockfileVersion: '9.0', packages: many }, pnpmOpts)) as Lockfile).packages).toHaveLength(100_000);
    expect(performance.now() - started).toBeLessThan(20_000);
  }, 60_000);

  it('keys that smuggle paths are refused, not turned into names', () => {
    for (const key of ['../../x@1.0.0', '/abs@1.0.0', 'a\\b@1.0.0', '@s/../x@1.0.0', '__proto__@1.0.0', 'x\u0000@1.0.0', '.hidden@1.0.0']) {
      const result = readOrTyped(() => readPnpmLockfile({ lockfileVersion: '9.0', packages: { [key]: { resolution: { integrity: 'sha512-AA==' } } } }, pnpmOpts));
      expect(result, key).toBeInstanceOf(PortcullisError);
    }
  });
});

function readPnpmLockfileObject(): unknown {
  // The fixture as a plain object, the way pnpm hands it to hooks.
  return JSON.parse(fixture('pnpm12-after-all-resolved.json')) as unknown;
}

// ---------------------------------------------------------------------------------------------
// Yarn
// ---------------------------------------------------------------------------------------------

const yarnLockfile = fc
  .uniqueArray(fc.record({ name: validName, version: semverVersion, checksum: fc.stringMatching(/^[0-9a-f]{16}$/) }), { selector: (p) => p.name, maxLength: 12 })
  .map((list) => {
    const lines = ['__metadata:', '  version: 8', '  cacheKey: 10c0', ''];
    for (const p of list) {
      lines.push(`"${p.name}@npm:${p.version}, ${p.name}@npm:^${p.version}":`, `  version: ${p.version}`, `  resolution: "${p.name}@npm:${p.version}"`, `  checksum: 10c0/${p.checksum}`, '  languageName: node', '  linkType: hard', '');
    }
    return { list, text: lines.join('\n') };
  });

describe('readYarnLockfile (hostile input)', () => {
  it('reads every generated valid lockfile', () => {
    fc.assert(
      fc.property(yarnLockfile, ({ list, text }) => {
        const result = readOrTyped(() => readYarnLockfile(text, yarnOpts));
        expect(result).not.toBeInstanceOf(PortcullisError);
        const packages = (result as Lockfile).packages;
        expect(packages).toHaveLength(list.length);
        for (const p of list) {
          expect(packages.find((n) => n.name === p.name)).toMatchObject({ version: p.version, source: 'registry', registry: REGISTRY, yarnChecksum: `10c0/${p.checksum}` });
        }
      }),
      { numRuns: 100 },
    );
  });

  it('mutated lockfiles (as YAML) parse safely or fail typed', () => {
    const base = fixture('yarn4.yarn.lock');
    // Round-trip the real lockfile through an object so mutations can reach any key or value.
    const object = (readYamlObject(base) ?? {}) as Record<string, unknown>;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.array(textMutation, { maxLength: 2 }), (mutations, edits) => {
        let text: string;
        try {
          text = yamlStringify(mutate(object, mutations));
        } catch {
          return;
        }
        readOrTyped(() => readYarnLockfile(damage(text, edits), yarnOpts));
      }),
      { numRuns: 300 },
    );
  });

  it('hostile resolutions: malformed percent-encoding in patch:, path-like names, unknown protocols', () => {
    const entry = (key: string, resolution: string, version = '1.0.0') => `__metadata:\n  version: 8\n\n${JSON.stringify(key)}:\n  version: ${JSON.stringify(version)}\n  resolution: ${JSON.stringify(resolution)}\n`;
    for (const [key, resolution] of [
      ['x@patch:x@%E0%A4%A#~/p.patch', 'x@patch:x@%E0%A4%A#~/p.patch::version=1.0.0'],
      ['x@patch:x@npm%3A1.0.0%zz#p', 'x@patch:x@npm%3A1.0.0%zz#p'],
      ['x@patch:x@patch:x@npm:1.0.0', 'x@patch:x@patch%3Ax%40npm%3A1.0.0#a#b'],
      ['../x@npm:1.0.0', '../x@npm:1.0.0'],
      ['x@npm:1.0.0', '@/x@npm:1.0.0'],
      ['x@npm:1.0.0', 'x\\y@npm:1.0.0'],
      ['x@npm:1.0.0', 'x@npm:2.0.0'],
      ['x@workspace:../../..', 'x@workspace:../../..'],
      ['x@exec:./gen.js', 'x@exec:./gen.js'],
    ] as const) {
      readOrTyped(() => readYarnLockfile(entry(key, resolution), yarnOpts));
    }
  });

  it('is bounded: alias bombs, 100,000 entries, long descriptors', () => {
    const started = performance.now();
    const bomb = ['__metadata:', '  version: 8', 'a: &a [x,x,x,x,x,x,x,x,x,x]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)].join('\n');
    expect(readOrTyped(() => readYarnLockfile(bomb, yarnOpts))).toBeInstanceOf(PortcullisError);
    const lines = ['__metadata:', '  version: 8'];
    for (let i = 0; i < 100_000; i++) lines.push(`"p${i}@npm:1.0.0":`, '  version: 1.0.0', `  resolution: "p${i}@npm:1.0.0"`);
    expect((readOrTyped(() => readYarnLockfile(lines.join('\n'), yarnOpts)) as Lockfile).packages).toHaveLength(100_000);
    const descriptors = Array.from({ length: 50_000 }, (_, i) => `x@npm:^1.${i}`).join(', ');
    readOrTyped(() => readYarnLockfile(`__metadata:\n  version: 8\n"${descriptors}":\n  version: 1.0.0\n  resolution: "x@npm:1.0.0"\n`, yarnOpts));
    // Duplicate keys are still refused, deep in the tree too (found in one pass, not by comparing every pair).
    expect(readOrTyped(() => readYarnLockfile(`${lines.slice(0, 50).join('\n')}\n"p7@npm:1.0.0":\n  version: 1.0.0\n`, yarnOpts))).toBeInstanceOf(PortcullisError);
    expect(readOrTyped(() => readYarnLockfile('__metadata:\n  version: 8\n"x@npm:1.0.0":\n  version: 1.0.0\n  resolution: "x@npm:1.0.0"\n  dependencies:\n    a: "1"\n    a: "2"\n', yarnOpts))).toBeInstanceOf(PortcullisError);
    expect(performance.now() - started).toBeLessThan(20_000);
  }, 60_000);
});

function readYamlObject(text: string): unknown {
  // Only for building test input: the lockfile as a plain object.
  return JSON.parse(JSON.stringify(yamlParse(text))) as unknown;
}
