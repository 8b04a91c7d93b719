import { describe, expect, it } from 'vitest';
import { createRegistryConfig } from '@portcullis/core';
import { hasPackages, lockfilePackages, manifestNode, registryDependencies, suppliedFields, suppliedMetadata, type Manifest } from './translate.js';

const registries = createRegistryConfig({ defaultRegistry: 'http://127.0.0.1:9/', scopes: { '@acme': 'http://127.0.0.1:8/acme/' } });
const SIG = { keyid: 'SHA256:test-key', sig: 'MEUCIQ==' };

describe('hasPackages', () => {
  it('is true only for a lockfile object that lists at least one package', () => {
    expect(hasPackages({ lockfileVersion: '9.0', packages: { 'left-pad@1.3.0': {} } })).toBe(true);
    expect(hasPackages({ lockfileVersion: '9.0', packages: {} })).toBe(false);
    expect(hasPackages({ lockfileVersion: '9.0', importers: { '.': {} } })).toBe(false);
    expect(hasPackages({ packages: null })).toBe(false);
    expect(hasPackages({ packages: 'left-pad' })).toBe(false);
    expect(hasPackages(undefined)).toBe(false);
    expect(hasPackages(null)).toBe(false);
    expect(hasPackages('packages')).toBe(false);
  });
});

describe('lockfilePackages', () => {
  it("turns pnpm's lockfile object into PackageNodes, each with the registry pnpm's settings give its name", () => {
    const lockfile = {
      lockfileVersion: '9.0',
      importers: { '.': { specifiers: { 'left-pad': '^1.3.0', '@acme/logger': '^2.0.0' }, dependencies: { 'left-pad': '1.3.0', '@acme/logger': '2.0.0' } } },
      packages: {
        'left-pad@1.3.0': { resolution: { integrity: 'sha512-AAAA' }, requiresBuild: true },
        '@acme/logger@2.0.0': { resolution: { integrity: 'sha512-BBBB' } },
      },
      snapshots: { 'left-pad@1.3.0': {}, '@acme/logger@2.0.0': { dependencies: { 'left-pad': '1.3.0' } } },
    };
    const nodes = lockfilePackages(lockfile, '/repo', registries);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    expect([...byId.keys()].sort()).toEqual(['@acme/logger@2.0.0', 'left-pad@1.3.0']);
    expect(byId.get('left-pad@1.3.0')).toMatchObject({ name: 'left-pad', version: '1.3.0', integrity: 'sha512-AAAA', source: 'registry', registry: 'http://127.0.0.1:9/', hasInstallScript: true });
    expect(byId.get('@acme/logger@2.0.0')).toMatchObject({ name: '@acme/logger', source: 'registry', registry: 'http://127.0.0.1:8/acme/', integrity: 'sha512-BBBB' });
    expect(byId.get('left-pad@1.3.0')!.dependents.sort()).toEqual(['.', '@acme/logger@2.0.0']);
  });

  it('reads the lockfile as the project\'s pnpm-lock.yaml (an error names it)', () => {
    expect(() => lockfilePackages({ lockfileVersion: '6.0', packages: { 'a@1.0.0': {} } }, '/repo', registries)).toThrow('/repo/pnpm-lock.yaml');
  });
});

describe('manifestNode', () => {
  it('a registry manifest is the registry package it describes', () => {
    const node = manifestNode({ name: 'left-pad', version: '1.3.0', dist: { integrity: 'sha512-AAAA', tarball: 'http://127.0.0.1:9/left-pad/-/left-pad-1.3.0.tgz' } }, registries);
    expect(node).toEqual({ id: 'left-pad@1.3.0', name: 'left-pad', version: '1.3.0', integrity: 'sha512-AAAA', source: 'registry', registry: 'http://127.0.0.1:9/', aliases: [], paths: [], dependents: [] });
  });

  it("a scoped package's registry is its scope's", () => {
    expect(manifestNode({ name: '@acme/logger', version: '2.0.0', dist: { integrity: 'sha512-BBBB' } }, registries)?.registry).toBe('http://127.0.0.1:8/acme/');
  });

  it("a project's own manifest (no integrity) or a manifest without name or version is no package", () => {
    expect(manifestNode({ name: 'my-app', version: '1.0.0', dependencies: { 'left-pad': '^1.3.0' } }, registries)).toBeUndefined();
    expect(manifestNode({ name: 'my-app', version: '1.0.0', dist: {} }, registries)).toBeUndefined();
    expect(manifestNode({ name: 'my-app', version: '1.0.0', dist: { integrity: 7 } }, registries)).toBeUndefined();
    expect(manifestNode({ version: '1.0.0', dist: { integrity: 'sha512-AAAA' } }, registries)).toBeUndefined();
    expect(manifestNode({ name: 'left-pad', dist: { integrity: 'sha512-AAAA' } }, registries)).toBeUndefined();
  });
});

describe('suppliedMetadata', () => {
  const manifest = (signatures: unknown) => ({ name: 'left-pad', version: '1.3.0', dist: { integrity: 'sha512-AAAA', tarball: 'http://127.0.0.1:9/left-pad/-/left-pad-1.3.0.tgz', signatures } });

  it("is the manifest's own registry metadata when dist.signatures is a non-empty array", () => {
    const supplied = suppliedMetadata(manifest([SIG]));
    expect(supplied).toBeDefined();
    expect(supplied!.dist.signatures).toEqual([SIG]);
    expect(supplied!.dist.integrity).toBe('sha512-AAAA');
  });

  it('is undefined without signatures to verify (pnpm 12 drops them), or for a manifest that is no version entry', () => {
    expect(suppliedMetadata(manifest(undefined))).toBeUndefined();
    expect(suppliedMetadata(manifest([]))).toBeUndefined();
    expect(suppliedMetadata(manifest({ 0: SIG, length: 1 }))).toBeUndefined();
    expect(suppliedMetadata(manifest('MEUCIQ=='))).toBeUndefined();
    expect(suppliedMetadata({ version: '1.3.0', dist: { signatures: [SIG] } })).toBeUndefined();
    // Signatures the packument reader rejects are not supplied (the packument is fetched instead).
    expect(suppliedMetadata(manifest([{ keyid: 'k' }]))).toBeUndefined();
  });
});

describe('suppliedFields', () => {
  const base = { name: 'left-pad', version: '1.3.0', description: 'x'.repeat(1000), readme: 'y', dependencies: { a: '1' }, optionalDependencies: { b: '2' }, devDependencies: { c: '3' } };
  const dist = { integrity: 'sha512-AAAA', tarball: 'http://127.0.0.1:9/left-pad/-/left-pad-1.3.0.tgz', signatures: [SIG], attestations: { url: 'u', provenance: { predicateType: 'https://slsa.dev/provenance/v1' } } };
  const cases: Array<[string, Record<string, unknown>]> = [
    ['plain', { ...base, dist }],
    ['scripts, flags', { ...base, dist, scripts: { postinstall: 'node x', test: 'y' }, hasInstallScript: true, gypfile: true }],
    ['every dependency bundled', { ...base, dist, bundleDependencies: true }],
    ['the other spelling', { ...base, dist, bundledDependencies: ['a'] }],
    ['a malformed script', { ...base, dist, scripts: { postinstall: 7 } }],
    ['another version in the entry', { ...base, version: '1.3.1', dist }],
    ['no signatures', { ...base, dist: { ...dist, signatures: [] } }],
    ['a malformed signature', { ...base, dist: { ...dist, signatures: [{ keyid: 'k' }] } }],
  ];

  it.each(cases)('reads as the whole manifest does (%s), through a structured clone', (_name, manifest) => {
    const fields = suppliedFields(manifest as Manifest);
    expect(suppliedMetadata(fields === undefined ? ({} as Manifest) : (structuredClone(fields) as Manifest))).toEqual(suppliedMetadata(manifest as Manifest));
  });

  it('carries none of what the reading does not need, and the dependencies only when all are bundled', () => {
    expect(Object.keys(suppliedFields({ ...base, dist } as Manifest)!).sort()).toEqual(['dist', 'name', 'version']);
    expect(Object.keys(suppliedFields({ ...base, dist, bundleDependencies: true } as Manifest)!).sort()).toEqual(['bundleDependencies', 'dependencies', 'dist', 'name', 'optionalDependencies', 'version']);
    expect(suppliedFields({ ...base, dist: { ...dist, signatures: [] } } as Manifest)).toBeUndefined();
  });
});

describe('registryDependencies', () => {
  it('names the registry packages pnpm resolves next: npm: aliases by their real name, git/file/workspace/link/URL specs skipped', () => {
    const names = registryDependencies({
      dependencies: {
        'left-pad': '^1.3.0',
        'my-alias': 'npm:real-pkg@^2.0.0',
        'scoped-alias': 'npm:@acme/real@1',
        'from-git': 'git+https://github.com/u/r.git',
        'from-github': 'u/r',
        local: 'file:../local',
        sibling: 'workspace:*',
        linked: 'link:../x',
        remote: 'https://example.test/x.tgz',
        weird: 7,
      },
      optionalDependencies: { fsevents: '^2.3.0' },
    });
    expect(names).toEqual(['left-pad', 'real-pkg', '@acme/real', 'fsevents']);
  });

  it('is empty for a manifest without dependencies (or with malformed fields)', () => {
    expect(registryDependencies({ name: 'x' })).toEqual([]);
    expect(registryDependencies({ dependencies: null, optionalDependencies: 'left-pad' })).toEqual([]);
  });
});
