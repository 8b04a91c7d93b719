import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pnpmCachedPackument, pnpmCachedVersion, registryFolder } from './pnpm-metadata-cache.js';

/** A cache file in pnpm 12's layout: first line, header, index, then each version's document. */
function cacheFile(name: string, docs: Array<Record<string, unknown>>, tamper: (index: { versions: unknown[] }) => void = () => {}): string {
  const header = JSON.stringify({ etag: '"x"', modified: '2026-06-01T12:00:00.000Z' });
  const bodies = docs.map((doc) => Buffer.from(JSON.stringify(doc)));
  let offset = 0;
  const index = { name, distTags: { latest: '1.0.0' }, versions: docs.map((doc, i) => [doc.version, (offset += i === 0 ? 0 : bodies[i - 1]!.length), bodies[i]!.length]) as unknown[] };
  tamper(index);
  const indexText = JSON.stringify(index);
  return `pnpm-meta-v1 ${Buffer.byteLength(header)} ${Buffer.byteLength(indexText)}\n${header}${indexText}${Buffer.concat(bodies).toString()}`;
}

function cacheWith(registry: string, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pnpm-cache-'));
  const folder = join(dir, 'v12', 'metadata', registryFolder(registry)!, ...name.split('/').slice(0, -1));
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(dir, 'v12', 'metadata', registryFolder(registry)!, ...name.split('/')) + '.jsonl', text);
  return dir;
}

const doc = (name: string, version: string) => ({ name, version, dist: { integrity: `sha512-${version}`, signatures: [{ keyid: 'SHA256:k', sig: 'MEUC' }] }, hasInstallScript: true });

describe("pnpm 12's metadata cache", () => {
  it('names registry folders as pnpm 12 does', () => {
    expect(registryFolder('http://127.0.0.1:4998/')).toBe('http%3A+127.0.0.1+4998');
    expect(registryFolder('https://registry.example/npm/')).toBe('https%3A+registry.example+npm');
    expect(registryFolder('file:///etc/')).toBeUndefined();
  });

  it('reads one version’s document (plain and scoped names, any position in the file)', () => {
    const registry = 'http://127.0.0.1:4998/';
    const plain = cacheWith(registry, 'left-pad', cacheFile('left-pad', [doc('left-pad', '1.0.0'), doc('left-pad', '1.1.0')]));
    expect(pnpmCachedVersion(plain, registry, 'left-pad', '1.1.0')).toEqual(doc('left-pad', '1.1.0'));
    expect(pnpmCachedVersion(plain, registry, 'left-pad', '1.0.0')).toEqual(doc('left-pad', '1.0.0'));
    expect(pnpmCachedVersion(plain, registry, 'left-pad', '2.0.0')).toBeUndefined();
    expect(pnpmCachedVersion(plain, 'http://127.0.0.1:1/', 'left-pad', '1.0.0')).toBeUndefined();
    const scoped = cacheWith(registry, '@acme/widget', cacheFile('@acme/widget', [doc('@acme/widget', '1.0.0')]));
    expect(pnpmCachedVersion(scoped, registry, '@acme/widget', '1.0.0')).toEqual(doc('@acme/widget', '1.0.0'));
  });

  it('anything unfamiliar is a miss, never a throw or another package’s document', () => {
    const registry = 'http://127.0.0.1:4998/';
    const misses: Array<[string, string]> = [
      ['another name inside', cacheFile('other', [doc('left-pad', '1.0.0')])],
      ['a document of another version', cacheFile('left-pad', [doc('left-pad', '9.9.9')], (index) => (index.versions[0] = ['1.0.0', 0, (index.versions[0] as number[])[2]]))],
      ['an offset past the end', cacheFile('left-pad', [doc('left-pad', '1.0.0')], (index) => (index.versions[0] = ['1.0.0', 1e6, 10]))],
      ['a negative offset', cacheFile('left-pad', [doc('left-pad', '1.0.0')], (index) => (index.versions[0] = ['1.0.0', -5, 10]))],
      ['a torn document', cacheFile('left-pad', [doc('left-pad', '1.0.0')], (index) => (index.versions[0] = ['1.0.0', 0, 7]))],
      ['another format', 'pnpm-meta-v2 1 1\n{}{}'],
      ['not this layout at all', '{"name":"left-pad"}'],
      ['empty', ''],
    ];
    for (const [what, text] of misses) expect(pnpmCachedVersion(cacheWith(registry, 'left-pad', text), registry, 'left-pad', '1.0.0'), what).toBeUndefined();
    // A name that is not a package name never becomes a path.
    expect(pnpmCachedVersion(cacheWith(registry, 'left-pad', cacheFile('left-pad', [doc('left-pad', '1.0.0')])), registry, '../../left-pad', '1.0.0')).toBeUndefined();
  });

  it('reads a whole release line as a packument holding the version asked about (for the provenance downgrade check)', () => {
    const registry = 'http://127.0.0.1:4998/';
    const withClaims = (version: string, attested: boolean) => ({ ...doc('left-pad', version), dist: { integrity: `sha512-${version}`, ...(attested ? { attestations: { url: `${registry}-/npm/v1/attestations/left-pad@${version}`, provenance: { predicateType: 'https://slsa.dev/provenance/v1' } } } : {}) } });
    const dir = cacheWith(registry, 'left-pad', cacheFile('left-pad', [withClaims('1.0.0', true), withClaims('1.1.0', true), withClaims('1.2.0', false)]));
    const packument = pnpmCachedPackument([join(dir, 'none'), dir], registry, 'left-pad', '1.2.0');
    expect(packument?.name).toBe('left-pad');
    expect([...(packument?.versions.keys() ?? [])]).toEqual(['1.0.0', '1.1.0', '1.2.0']);
    // The claims the downgrade check reads are kept.
    expect(packument?.versions.get('1.1.0')?.dist.attestations).toBeDefined();
    expect(packument?.versions.get('1.2.0')?.dist.attestations).toBeUndefined();
    // Not holding the version (an older copy than pnpm resolved from): the packument is fetched instead.
    expect(pnpmCachedPackument([dir], registry, 'left-pad', '1.3.0')).toBeUndefined();
    expect(pnpmCachedPackument([dir], 'http://127.0.0.1:1/', 'left-pad', '1.2.0')).toBeUndefined();
  });

  it('a release line with any malformed entry is a miss, never a shorter line (an earlier version hidden)', () => {
    const registry = 'http://127.0.0.1:4998/';
    const docs = [doc('left-pad', '1.0.0'), doc('left-pad', '1.1.0')];
    const misses: Array<[string, string]> = [
      ['a torn earlier document', cacheFile('left-pad', docs, (index) => (index.versions[0] = ['1.0.0', 0, 7]))],
      ['an earlier entry that is not a triple', cacheFile('left-pad', docs, (index) => (index.versions[0] = 'x'))],
      ['a version listed twice', cacheFile('left-pad', docs, (index) => index.versions.push(index.versions[1]))],
      ['a document of another version', cacheFile('left-pad', docs, (index) => (index.versions[0] = ['0.9.0', 0, (index.versions[0] as number[])[2]]))],
      ['another name inside', cacheFile('other', docs)],
    ];
    for (const [what, text] of misses) expect(pnpmCachedPackument([cacheWith(registry, 'left-pad', text)], registry, 'left-pad', '1.1.0'), what).toBeUndefined();
  });
});
