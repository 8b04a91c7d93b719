/**
 * The organisation policy package a portcullis.json extends: fetched by exact version, compared with the pinned
 * integrity, read as hostile input, judged by the policy it makes, kept by integrity for offline installs.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import { parsePolicy } from '../policy/load.js';
import { createRegistryConfig } from '../registry/config.js';
import { readTarballFiles } from '../registry/package-tarball.js';
import { tgz } from '../registry/tarball.fixture.js';
import { resolveInheritance } from './organisation.js';

const REGISTRY = 'http://127.0.0.1:9/';
const NAME = '@acme/portcullis-policy';

const sri = (bytes: Uint8Array) => `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

const ORG_POLICY = { signatures: { require: 'off' }, cooldown: { minimumReleaseAge: '3d' }, provenance: { require: ['@acme/widget'] }, delegate: { 'scripts.allow': ['@acme/*'] } };
function policyPackage(policy: object = ORG_POLICY, manifest: object = {}, extra: Array<{ path: string; content?: string; type?: string }> = []): Buffer {
  return tgz([
    { path: 'package/package.json', content: JSON.stringify({ name: NAME, version: '1.2.3', ...manifest }) },
    { path: 'package/portcullis.json', content: JSON.stringify(policy) },
    ...extra,
  ]);
}

/** A registry serving one version of the policy package (its dist.integrity is that of `published`), and `served` as its tarball. */
function registry(published: Buffer, served: Buffer = published) {
  const requests: string[] = [];
  const fetch: typeof globalThis.fetch = (async (input: string | URL) => {
    const url = String(input);
    requests.push(url);
    if (url === `${REGISTRY}@acme%2fportcullis-policy`) {
      const body = { name: NAME, versions: { '1.2.3': { name: NAME, version: '1.2.3', dist: { integrity: sri(published), tarball: `${REGISTRY}@acme/portcullis-policy/-/portcullis-policy-1.2.3.tgz` } } }, time: { '1.2.3': '2026-01-01T00:00:00.000Z' } };
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    }
    if (url.endsWith('.tgz')) return new Response(served, { status: 200 });
    return new Response('{}', { status: 404 });
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

function repository(extendsIntegrity: string, more: object = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-org-'));
  const file = join(dir, 'portcullis.json');
  const text = JSON.stringify({ extends: { package: NAME, version: '1.2.3', integrity: extendsIntegrity }, ...more });
  writeFileSync(file, text);
  return { policy: parsePolicy(text, file), file, dir };
}

const options = (fetch: typeof globalThis.fetch, cacheDir: string, offline = false) => ({
  registryConfig: createRegistryConfig({ defaultRegistry: REGISTRY }),
  fetch,
  cacheDir,
  offline,
  env: {},
  stateDir: mkdtempSync(join(tmpdir(), 'portcullis-org-state-')),
});

async function refusal(promise: Promise<unknown>): Promise<PortcullisError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(PortcullisError);
  return error as PortcullisError;
}

describe('resolveInheritance', () => {
  it('merges the pinned organisation policy (each line remembering its file), keeps it by integrity, and uses only the cache offline', async () => {
    const pkg = policyPackage();
    const { fetch, requests } = registry(pkg);
    const repo = repository(sri(pkg), { scripts: { allow: ['@acme/build-tool'] }, cooldown: { minimumReleaseAge: '7d' } });
    const cacheDir = mkdtempSync(join(tmpdir(), 'portcullis-org-cache-'));
    const merged = await resolveInheritance(repo.policy, options(fetch, cacheDir));
    expect(merged.cooldown.minimumReleaseAge?.raw).toBe('7d');
    expect(merged.origins['cooldown.minimumReleaseAge']?.source).toBe(repo.file);
    expect(merged.provenance.require.map((s) => [s.raw, s.source])).toEqual([['@acme/widget', `${NAME}@1.2.3/portcullis.json`]]);
    expect(merged.scripts.allow.map((s) => [s.raw, s.source])).toEqual([['@acme/build-tool', repo.file]]);
    expect(merged.sources).toEqual([`${NAME}@1.2.3/portcullis.json`, repo.file]);
    expect(requests.some((u) => u.endsWith('.tgz'))).toBe(true);
    expect(readdirSync(join(cacheDir, 'policy-packages-v1'))).toHaveLength(1);

    const offline = await resolveInheritance(repo.policy, options((async () => { throw new Error('no network'); }) as typeof fetch, cacheDir, true));
    expect(offline.cooldown.minimumReleaseAge?.raw).toBe('7d');
    // A damaged cache entry is never used: offline, the install cannot go on.
    const [entry] = readdirSync(join(cacheDir, 'policy-packages-v1'));
    writeFileSync(join(cacheDir, 'policy-packages-v1', entry!), 'tampered');
    expect((await refusal(resolveInheritance(repo.policy, options(fetch, cacheDir, true)))).code).toBe('METADATA_UNAVAILABLE');
  });

  it('a tarball that is not the pinned one is refused (exit 2), naming both integrities; nothing is cached', async () => {
    const pinned = policyPackage();
    const changed = policyPackage({ signatures: { require: 'off' } });
    const { fetch } = registry(changed);
    const cacheDir = mkdtempSync(join(tmpdir(), 'portcullis-org-cache-'));
    const error = await refusal(resolveInheritance(repository(sri(pinned)).policy, options(fetch, cacheDir)));
    expect(error.code).toBe('ORGANISATION_POLICY_REFUSED');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(sri(changed));
    expect(error.message).toContain(sri(pinned));
    expect(() => readdirSync(join(cacheDir, 'policy-packages-v1'))).toThrow();
  });

  it('refuses a policy package with dependencies, install scripts, or no portcullis.json', async () => {
    for (const [pkg, why] of [
      [policyPackage(ORG_POLICY, { dependencies: { 'left-pad': '^1.0.0' } }), /has dependencies/],
      [policyPackage(ORG_POLICY, { scripts: { postinstall: 'node steal.js' } }), /has install scripts \(postinstall\)/],
      [tgz([{ path: 'package/package.json', content: JSON.stringify({ name: NAME, version: '1.2.3' }) }]), /has no package\/portcullis\.json/],
      [policyPackage(ORG_POLICY, {}, [{ path: 'package/../../etc/passwd', content: 'x' }]), /outside its folder/],
      [policyPackage(ORG_POLICY, {}, [{ path: 'package/portcullis.json', content: '{}' }]), /package\/portcullis\.json twice/],
    ] as const) {
      const { fetch } = registry(pkg);
      const error = await refusal(resolveInheritance(repository(sri(pkg)).policy, options(fetch, mkdtempSync(join(tmpdir(), 'portcullis-org-cache-')))));
      expect(error.code).toBe('ORGANISATION_POLICY_REFUSED');
      expect(error.message).toMatch(why);
    }
  });

  it('the policy package is judged by the policy it makes, like any package: provenance required for its scope and missing → refused', async () => {
    const pkg = policyPackage({ ...ORG_POLICY, provenance: { require: ['@acme/*'] } });
    const { fetch } = registry(pkg);
    const cacheDir = mkdtempSync(join(tmpdir(), 'portcullis-org-cache-'));
    const error = await refusal(resolveInheritance(repository(sri(pkg)).policy, options(fetch, cacheDir)));
    expect(error.code).toBe('ORGANISATION_POLICY_REFUSED');
    expect(error.message).toContain('PROVENANCE_MISSING');
    expect(() => readdirSync(join(cacheDir, 'policy-packages-v1'))).toThrow();
  });

  it('a repository policy that loosens an inherited requirement is refused, naming both files and the key', async () => {
    const pkg = policyPackage();
    const { fetch } = registry(pkg);
    const repo = repository(sri(pkg), { cooldown: { minimumReleaseAge: '1d' } });
    const error = await refusal(resolveInheritance(repo.policy, options(fetch, mkdtempSync(join(tmpdir(), 'portcullis-org-cache-')))));
    expect(error.code).toBe('POLICY_LOOSENED');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(repo.file);
    expect(error.message).toContain(`${NAME}@1.2.3/portcullis.json`);
    expect(error.message).toContain('"cooldown.minimumReleaseAge" is 1d where the organisation requires at least 3d');
    const undelegated = repository(sri(pkg), { scripts: { allow: ['esbuild'] } });
    expect((await refusal(resolveInheritance(undelegated.policy, options(fetch, mkdtempSync(join(tmpdir(), 'portcullis-org-cache-')))))).message).toMatch(/"scripts\.allow" adds "esbuild".*does not delegate it/);
  });
});

describe('readTarballFiles (hostile tarballs)', () => {
  const limits = { compressed: 1024 * 1024, uncompressed: 1024 * 1024, file: 1024 };
  it('reads only the wanted files; refuses links under a wanted name, oversized files, bombs and garbage', () => {
    const ok = readTarballFiles(policyPackage(), ['package/portcullis.json'], limits);
    expect([...ok.keys()]).toEqual(['package/portcullis.json']);
    expect(() => readTarballFiles(tgz([{ path: 'package/portcullis.json', type: '2' }]), ['package/portcullis.json'], limits)).toThrow(/not a regular file/);
    expect(() => readTarballFiles(tgz([{ path: 'package/portcullis.json', content: 'x'.repeat(2000) }]), ['package/portcullis.json'], limits)).toThrow(/larger than 1024 bytes/);
    expect(() => readTarballFiles(gzipSync(Buffer.alloc(4 * 1024 * 1024)), ['package/portcullis.json'], limits)).toThrow(/inflates to more than/);
    expect(() => readTarballFiles(Buffer.from('not gzip'), ['package/portcullis.json'], limits)).toThrow(/not valid gzip/);
    expect(() => readTarballFiles(tgz([{ path: '/etc/passwd' }]), ['package/portcullis.json'], limits)).toThrow(/outside its folder/);
  });
});
