import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import * as keptMetadata from './kept-metadata.js';
import { OpenedCacheFiles, pnpmCached, pnpmCachedVersion, registryFolder, registryHostFolder } from './pnpm-metadata-cache.js';

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

/** cacheFile, with a document given as its exact bytes where it is `{ raw }`. */
function cacheFileOf(name: string, docs: Array<Record<string, unknown> | { raw: string }>): string {
  const header = JSON.stringify({ etag: '"x"', modified: '2026-06-01T12:00:00.000Z' });
  const texts = docs.map((d) => (typeof d.raw === 'string' ? d.raw : JSON.stringify(d)));
  const bodies = texts.map((text) => Buffer.from(text));
  let offset = 0;
  const versions = texts.map((text, i) => [(JSON.parse(text) as { version: string }).version, (offset += i === 0 ? 0 : bodies[i - 1]!.length), bodies[i]!.length]);
  const indexText = JSON.stringify({ name, distTags: { latest: '1.0.0' }, versions });
  return `pnpm-meta-v1 ${Buffer.byteLength(header)} ${Buffer.byteLength(indexText)}\n${header}${indexText}${Buffer.concat(bodies).toString()}`;
}

function cacheWith(registry: string, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pnpm-cache-'));
  const folder = join(dir, 'v12', 'metadata', registryFolder(registry)!, ...name.split('/').slice(0, -1));
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(dir, 'v12', 'metadata', registryFolder(registry)!, ...name.split('/')) + '.jsonl', text);
  return dir;
}

// Each version claims attestations: a release line (`past`) holds exactly the versions that claim them.
const ATTESTATIONS = { url: 'https://registry.example/att', provenance: { predicateType: 'https://slsa.dev/provenance/v1' } };
const doc = (name: string, version: string) => ({ name, version, dist: { integrity: `sha512-${version}`, signatures: [{ keyid: 'SHA256:k', sig: 'MEUC' }], attestations: ATTESTATIONS }, hasInstallScript: true });
/** A version's document that claims no attestations (most versions of most packages). */
const plainDoc = (name: string, version: string) => ({ name, version, dist: { integrity: `sha512-${version}`, signatures: [{ keyid: 'SHA256:k', sig: 'MEUC' }] }, hasInstallScript: true });

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

  it('reads a version’s past from the same file: only the wanted versions, only when the installed integrity is there', () => {
    const registry = 'http://127.0.0.1:4998/';
    const line = ['1.0.0', '1.1.0', '1.2.0', '2.0.0'].map((v) => doc('left-pad', v));
    const dir = cacheWith(registry, 'left-pad', cacheFile('left-pad', line));
    const earlier = (candidate: string) => candidate.startsWith('1.') && candidate < '1.2.0';
    const found = pnpmCached([dir], registry, 'left-pad', '1.2.0', 'sha512-1.2.0', earlier);
    expect(found?.metadata.version).toBe('1.2.0');
    expect([...(found?.past?.versions.keys() ?? [])]).toEqual(['1.0.0', '1.1.0']);
    expect(found?.past?.versions.get('1.1.0')?.dist.integrity).toBe('sha512-1.1.0');
    expect(found?.past?.name).toBe('left-pad');
    // Not asked: no past.
    expect(pnpmCached([dir], registry, 'left-pad', '1.2.0', 'sha512-1.2.0')?.past).toBeUndefined();
    // Another integrity than the one installed: this file says nothing about that version, nor about its past.
    expect(pnpmCached([dir], registry, 'left-pad', '1.2.0', 'sha512-other', earlier)).toBeUndefined();
    // A later file in the list is read when the first does not hold the version.
    const empty = cacheWith(registry, 'left-pad', cacheFile('left-pad', [doc('left-pad', '0.1.0')]));
    expect([...(pnpmCached([empty, dir], registry, 'left-pad', '1.2.0', 'sha512-1.2.0', earlier)?.past?.versions.keys() ?? [])]).toEqual(['1.0.0', '1.1.0']);
  });

  it('a past holds the wanted versions that claim attestations; the others are left out, not even parsed when their bytes show it', () => {
    const registry = 'http://127.0.0.1:4998/';
    const line = [
      plainDoc('left-pad', '1.0.0'),
      doc('left-pad', '1.1.0'),
      // The key spelt with an escape: JSON reads it as `attestations`, so its bytes alone cannot rule a claim out.
      { raw: `{"name":"left-pad","version":"1.2.0","dist":{"integrity":"sha512-1.2.0","signatures":[],"att\\u0065stations":${JSON.stringify(ATTESTATIONS)}}}` },
      // The word in a description only: parsed, and no claim.
      { ...plainDoc('left-pad', '1.3.0'), description: 'verifies attestations' },
      // Malformed, but claiming nothing (parsed: the word is there): left out, as a fetched packument leaves a malformed version out.
      { name: 'left-pad', version: '1.4.0', dist: 'none', description: 'no attestations' },
      doc('left-pad', '1.5.0'),
    ];
    const dir = cacheWith(registry, 'left-pad', cacheFileOf('left-pad', line));
    const earlier = (candidate: string) => candidate < '1.5.0';
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const found = pnpmCached([dir], registry, 'left-pad', '1.5.0', 'sha512-1.5.0', earlier);
      expect(found?.metadata.version).toBe('1.5.0');
      expect([...(found?.past?.versions.keys() ?? [])]).toEqual(['1.1.0', '1.2.0']);
      expect(found?.past?.versions.get('1.2.0')?.dist.attestations).toEqual({ provenance: 'https://slsa.dev/provenance/v1' });
      // The index, 1.5.0's document, then 1.1.0, 1.2.0, 1.3.0 and 1.4.0's: never 1.0.0's.
      expect(parse).toHaveBeenCalledTimes(6);
    } finally {
      parse.mockRestore();
    }
    // A claiming version that is malformed still leaves no past (the packument is fetched instead).
    const broken = cacheWith(registry, 'left-pad', cacheFileOf('left-pad', [{ ...doc('left-pad', '1.0.0'), dist: { integrity: 7, attestations: ATTESTATIONS } }, doc('left-pad', '1.1.0')]));
    expect(pnpmCached([broken], registry, 'left-pad', '1.1.0', 'sha512-1.1.0', (v) => v < '1.1.0')?.past).toBeUndefined();
  });

  it('a past with any wanted entry unreadable is no past (the packument is fetched instead)', () => {
    const registry = 'http://127.0.0.1:4998/';
    const line = ['1.0.0', '1.1.0', '1.2.0'].map((v) => doc('left-pad', v));
    const earlier = (candidate: string) => candidate < '1.2.0';
    const cases: Array<[string, (index: { versions: unknown[] }) => void]> = [
      ['a torn earlier document', (index) => (index.versions[0] = ['1.0.0', 0, 7])],
      ['an earlier entry naming another version', (index) => (index.versions[0] = ['1.0.5', ...(index.versions[0] as unknown[]).slice(1)])],
      ['a repeated version', (index) => index.versions.push(index.versions[1])],
      ['an index entry that is not an entry', (index) => index.versions.push('1.0.0')],
    ];
    for (const [what, tamper] of cases) {
      const found = pnpmCached([cacheWith(registry, 'left-pad', cacheFile('left-pad', line, tamper))], registry, 'left-pad', '1.2.0', 'sha512-1.2.0', earlier);
      expect(found?.metadata.version, what).toBe('1.2.0');
      expect(found?.past, what).toBeUndefined();
    }
    // An unreadable entry that is not wanted does not matter.
    const later = cacheWith(registry, 'left-pad', cacheFile('left-pad', [...line, doc('left-pad', '1.3.0')], (index) => (index.versions[3] = ['1.3.0', 0, 7])));
    expect([...(pnpmCached([later], registry, 'left-pad', '1.2.0', 'sha512-1.2.0', earlier)?.past?.versions.keys() ?? [])]).toEqual(['1.0.0', '1.1.0']);
  });
});

describe("pnpm 12's metadata cache: a file larger than what is read first (64 KB)", () => {
  const registry = 'http://127.0.0.1:4998/';
  // A real packument's file: hundreds of versions, most of them no question is about. 2.x claims attestations on its
  // even minors; every document is padded to ~600 bytes, so the file is ~300 KB and its documents lie past its front.
  const padding = 'p'.repeat(500);
  const versions = [...Array.from({ length: 250 }, (_, i) => `1.${i}.0`), ...Array.from({ length: 40 }, (_, i) => `2.${i}.0`), ...Array.from({ length: 200 }, (_, i) => `3.${i}.0`)];
  const docsOf = (name: string) => versions.map((v) => ({ ...(v.startsWith('2.') && Number(v.split('.')[1]) % 2 === 0 ? doc(name, v) : plainDoc(name, v)), readme: padding }));
  const inLine2 = (v: string) => v.startsWith('2.') && Number(v.split('.')[1]) < 30;

  it("reads the index with the front, and a version's document and its release line in one more read, never the rest", () => {
    const text = cacheFile('left-pad', docsOf('left-pad'));
    expect(text.length).toBeGreaterThan(4 * 64 * 1024);
    const dir = cacheWith(registry, 'left-pad', text);
    const front = vi.spyOn(keptMetadata, 'readFrontOf');
    const range = vi.spyOn(keptMetadata, 'readRangeOf');
    const whole = vi.spyOn(keptMetadata, 'readAll');
    try {
      const found = pnpmCached([dir], registry, 'left-pad', '2.30.0', 'sha512-2.30.0', inLine2);
      expect(found?.metadata.version).toBe('2.30.0');
      expect([...found!.past!.versions.keys()]).toEqual(Array.from({ length: 15 }, (_, i) => `2.${i * 2}.0`));
      expect(front).toHaveBeenCalledTimes(1);
      expect(range).toHaveBeenCalledTimes(1);
      // The front, then 2.0.0 to 2.30.0's documents (they lie together): a fifth of the file.
      const line = docsOf('left-pad').filter((d) => inLine2(d.version) || d.version === '2.30.0');
      expect((front.mock.results[0]!.value as { bytes: Buffer }).bytes.length).toBe(64 * 1024);
      expect((range.mock.results[0]!.value as Buffer).length).toBe(line.reduce((n, d) => n + JSON.stringify(d).length, 0));
      expect(whole).not.toHaveBeenCalledWith(expect.stringContaining('v12'));
      // One version's document alone (readPackage's question): one range, its own.
      range.mockClear();
      expect(pnpmCachedVersion(dir, registry, 'left-pad', '3.199.0')).toMatchObject({ version: '3.199.0' });
      expect(range).toHaveBeenCalledTimes(1);
      expect((range.mock.results[0]!.value as Buffer).toString()).toBe(JSON.stringify(docsOf('left-pad').at(-1)));
    } finally {
      front.mockRestore();
      range.mockRestore();
      whole.mockRestore();
    }
  });

  it('a kept file whose file changed since reads none of its new bytes at the old places: the file is read again', () => {
    const dir = cacheWith(registry, 'left-pad', cacheFile('left-pad', docsOf('left-pad')));
    const opened = new OpenedCacheFiles();
    expect(pnpmCached([dir], registry, 'left-pad', '1.0.0', 'sha512-1.0.0', undefined, opened)?.metadata.version).toBe('1.0.0');
    // pnpm wrote the file again, each document somewhere else (one more version first).
    writeFileSync(join(dir, 'v12', 'metadata', registryFolder(registry)!, 'left-pad.jsonl'), cacheFile('left-pad', [plainDoc('left-pad', '0.9.0'), ...docsOf('left-pad')]));
    const found = pnpmCached([dir], registry, 'left-pad', '2.30.0', 'sha512-2.30.0', inLine2, opened);
    expect(found?.metadata.version).toBe('2.30.0');
    expect(found?.past?.versions.size).toBe(15);
    expect(pnpmCached([dir], registry, 'left-pad', '0.9.0', 'sha512-0.9.0', undefined, opened)?.metadata.version).toBe('0.9.0');
  });

  it("parses only the index's versions when pnpm wrote them last; any other index is parsed whole, and read the same", () => {
    const line = [doc('left-pad', '1.0.0'), plainDoc('left-pad', '1.1.0')];
    const indexOf = (index: Record<string, unknown>) => {
      const header = '{}';
      const bodies = line.map((d) => JSON.stringify(d)).join('');
      const text = JSON.stringify(index);
      return `pnpm-meta-v1 ${header.length} ${Buffer.byteLength(text)}\n${header}${text}${bodies}`;
    };
    const first = JSON.stringify(line[0]).length;
    const entries = [['1.0.0', 0, first], ['1.1.0', first, JSON.stringify(line[1]).length]];
    const cases: Array<[string, Record<string, unknown>, boolean]> = [
      ['versions last, as pnpm writes it', { name: 'left-pad', distTags: {}, time: { '1.0.0': 'x' }, versions: entries }, true],
      ['versions first', { name: 'left-pad', versions: entries, time: {} }, true],
      // What follows a key inside another object is never taken for the index's own versions.
      ['another versions key nested last', { name: 'left-pad', versions: entries, time: { a: 0, versions: [['1.1.0', 0, first]] } }, true],
      ['in an array nested last', { name: 'left-pad', versions: entries, time: [0, { a: 0, versions: [['1.1.0', 0, first]] }] }, true],
      ["another package's index", { name: 'right-pad', versions: entries }, false],
      ['no versions', { name: 'left-pad', time: {} }, false],
    ];
    for (const [what, index, readable] of cases) {
      const dir = cacheWith(registry, 'left-pad', indexOf(index));
      expect(pnpmCachedVersion(dir, registry, 'left-pad', '1.1.0'), what).toEqual(readable ? line[1] : undefined);
      expect(pnpmCached([dir], registry, 'left-pad', '1.1.0', 'sha512-1.1.0', () => true)?.past?.versions.size, what).toBe(readable ? 1 : undefined);
    }
    // An index cut short is no index, whichever part of it is read.
    const torn = indexOf({ name: 'left-pad', versions: entries }).replace('"versions":[[', '"versions":[');
    expect(pnpmCachedVersion(cacheWith(registry, 'left-pad', torn), registry, 'left-pad', '1.1.0')).toBeUndefined();
  });
});

/** A cache with one file in pnpm 10's layout (`<folder>/<host>/<name>.json`, one JSON packument). */
function v10CacheWith(registry: string, name: string, text: string, folder = 'metadata-v1.3', dir = mkdtempSync(join(tmpdir(), 'portcullis-pnpm10-cache-'))): string {
  mkdirSync(join(dir, folder, registryHostFolder(registry)!, ...name.split('/').slice(0, -1)), { recursive: true });
  writeFileSync(join(dir, folder, registryHostFolder(registry)!, ...name.split('/')) + '.json', text);
  return dir;
}
const v10File = (name: string, docs: Array<Record<string, unknown>>) => JSON.stringify({ name, 'dist-tags': { latest: '1.0.0' }, versions: Object.fromEntries(docs.map((d) => [d.version, d])), cachedAt: 1 });

describe("pnpm 10's metadata cache", () => {
  const registry = 'http://127.0.0.1:4998/';

  it('names registry folders as pnpm 10 does: the host, its first ":" as "+"', () => {
    expect(registryHostFolder('http://127.0.0.1:4998/')).toBe('127.0.0.1+4998');
    expect(registryHostFolder('https://registry.example/npm/')).toBe('registry.example');
    expect(registryHostFolder('file:///etc/')).toBeUndefined();
    expect(registryHostFolder('not a url')).toBeUndefined();
  });

  it('remembers folder names per registry, past the 64 it keeps, without mixing registries up', () => {
    for (let round = 0; round < 2; round++) {
      for (let port = 5000; port < 5070; port++) {
        expect(registryHostFolder(`http://127.0.0.1:${port}/`)).toBe(`127.0.0.1+${port}`);
        expect(registryFolder(`http://127.0.0.1:${port}/`)).toBe(`http%3A+127.0.0.1+${port}`);
        expect(registryHostFolder('file:///etc/')).toBeUndefined();
      }
    }
  });

  it('looks first where it last found a file, and still in every other layout: each name is found in whichever has it', () => {
    // pnpm 10's folder answers first, then a name only pnpm 12's layout has, then pnpm 10's again, in one cache folder.
    const dir = v10CacheWith(registry, 'left-pad', v10File('left-pad', [doc('left-pad', '1.0.0')]));
    const v12 = join(dir, 'v12', 'metadata', registryFolder(registry)!);
    mkdirSync(join(v12, '@scope'), { recursive: true });
    writeFileSync(join(v12, '@scope', 'only-new.jsonl'), cacheFile('@scope/only-new', [doc('@scope/only-new', '2.0.0')]));
    v10CacheWith(registry, 'right-pad', v10File('right-pad', [doc('right-pad', '3.0.0')]), 'metadata-full-v1.3', dir);
    for (let round = 0; round < 2; round++) {
      const opened = round === 0 ? undefined : new OpenedCacheFiles();
      expect(pnpmCached([dir], registry, 'left-pad', '1.0.0', 'sha512-1.0.0', undefined, opened)?.metadata.version).toBe('1.0.0');
      expect(pnpmCached([dir], registry, '@scope/only-new', '2.0.0', 'sha512-2.0.0', undefined, opened)?.metadata.version).toBe('2.0.0');
      expect(pnpmCached([dir], registry, 'left-pad', '1.0.0', 'sha512-1.0.0', undefined, opened)?.metadata.version).toBe('1.0.0');
      expect(pnpmCached([dir], registry, 'right-pad', '3.0.0', 'sha512-3.0.0', undefined, opened)?.metadata.version).toBe('3.0.0');
      expect(pnpmCached([dir], registry, '@scope/only-new', '2.0.0', 'sha512-2.0.0', undefined, opened)?.metadata.version).toBe('2.0.0');
      expect(pnpmCached([dir], registry, 'absent', '1.0.0', 'sha512-1.0.0', undefined, opened)).toBeUndefined();
    }
  });

  it('reads a version’s document and its past from the abbreviated, filtered-full or full folder', () => {
    const line = ['1.0.0', '1.1.0', '1.2.0', '2.0.0'].map((v) => doc('left-pad', v));
    const earlier = (candidate: string) => candidate.startsWith('1.') && candidate < '1.2.0';
    for (const folder of ['metadata-v1.3', 'metadata-ff-v1.3', 'metadata-full-v1.3']) {
      const dir = v10CacheWith(registry, 'left-pad', v10File('left-pad', line), folder);
      expect(pnpmCachedVersion(dir, registry, 'left-pad', '1.1.0'), folder).toEqual(doc('left-pad', '1.1.0'));
      const found = pnpmCached([dir], registry, 'left-pad', '1.2.0', 'sha512-1.2.0', earlier);
      expect(found?.metadata.version, folder).toBe('1.2.0');
      expect([...(found?.past?.versions.keys() ?? [])], folder).toEqual(['1.0.0', '1.1.0']);
      expect(pnpmCached([dir], registry, 'left-pad', '1.2.0', 'sha512-other', earlier), folder).toBeUndefined();
    }
    // The abbreviated file without the version: the full one is read next.
    const both = v10CacheWith(registry, 'left-pad', v10File('left-pad', line.slice(0, 1)));
    v10CacheWith(registry, 'left-pad', v10File('left-pad', line), 'metadata-full-v1.3', both);
    expect(pnpmCached([both], registry, 'left-pad', '1.2.0', 'sha512-1.2.0', earlier)?.past?.versions.size).toBe(2);
    const scoped = v10CacheWith(registry, '@acme/widget', v10File('@acme/widget', [doc('@acme/widget', '1.0.0')]));
    expect(pnpmCachedVersion(scoped, registry, '@acme/widget', '1.0.0')).toEqual(doc('@acme/widget', '1.0.0'));
    // Another registry's folder says nothing about this one.
    expect(pnpmCachedVersion(scoped, 'http://127.0.0.1:1/', '@acme/widget', '1.0.0')).toBeUndefined();
  });

  it('anything unfamiliar is a miss, never a throw or another package’s document', () => {
    const misses: Array<[string, string]> = [
      ['another name inside', v10File('other', [doc('left-pad', '1.0.0')])],
      ['a document of another version under the key', JSON.stringify({ name: 'left-pad', versions: { '1.0.0': doc('left-pad', '9.9.9') } })],
      ['versions not an object', JSON.stringify({ name: 'left-pad', versions: [doc('left-pad', '1.0.0')] })],
      ['a document that is not an object', JSON.stringify({ name: 'left-pad', versions: { '1.0.0': 'x' } })],
      ['the version only on the prototype', '{"name":"left-pad","versions":{"__proto__":{"1.0.0":{"name":"left-pad","version":"1.0.0"}}}}'],
      ['torn', v10File('left-pad', [doc('left-pad', '1.0.0')]).slice(0, 40)],
      ['empty', ''],
    ];
    for (const [what, text] of misses) expect(pnpmCachedVersion(v10CacheWith(registry, 'left-pad', text), registry, 'left-pad', '1.0.0'), what).toBeUndefined();
    // A name that is not a package name never becomes a path; a name with capitals is kept under another file name by pnpm.
    expect(pnpmCachedVersion(v10CacheWith(registry, 'left-pad', v10File('left-pad', [doc('left-pad', '1.0.0')])), registry, '../left-pad', '1.0.0')).toBeUndefined();
    expect(pnpmCachedVersion(v10CacheWith(registry, 'JSONStream', v10File('JSONStream', [doc('JSONStream', '1.0.0')])), registry, 'JSONStream', '1.0.0')).toBeUndefined();
    // A past with an unreadable wanted entry is no past.
    const torn = JSON.stringify({ name: 'left-pad', versions: { '1.0.0': doc('left-pad', '1.0.5'), '1.2.0': doc('left-pad', '1.2.0') } });
    const found = pnpmCached([v10CacheWith(registry, 'left-pad', torn)], registry, 'left-pad', '1.2.0', 'sha512-1.2.0', (c) => c < '1.2.0');
    expect(found?.metadata.version).toBe('1.2.0');
    expect(found?.past).toBeUndefined();
  });
});

describe('cache files kept for one install (OpenedCacheFiles)', () => {
  const registry = 'http://127.0.0.1:4998/';
  const fileOf = (dir: string, name: string) => join(dir, 'v12', 'metadata', registryFolder(registry)!, name) + '.jsonl';

  it('a file read once answers the next questions about it; without it kept, each question reads the file', () => {
    const dir = cacheWith(registry, 'left-pad', cacheFile('left-pad', [doc('left-pad', '1.0.0'), doc('left-pad', '1.1.0')]));
    const opened = new OpenedCacheFiles();
    expect(pnpmCached([dir], registry, 'left-pad', '1.1.0', 'sha512-1.1.0', undefined, opened)?.metadata.version).toBe('1.1.0');
    // The file gone: the kept copy still answers (within one install), a fresh read does not.
    rmSync(fileOf(dir, 'left-pad'));
    const kept = pnpmCached([dir], registry, 'left-pad', '1.1.0', 'sha512-1.1.0', (v) => v.startsWith('1.'), opened);
    expect(kept?.metadata.version).toBe('1.1.0');
    expect([...kept!.past!.versions.keys()]).toEqual(['1.0.0']);
    expect(pnpmCached([dir], registry, 'left-pad', '1.1.0', 'sha512-1.1.0')).toBeUndefined();
  });

  it('a version the kept file lacks (or has at another integrity) is looked for in the file as it is now; a file not there yet is not kept', () => {
    const dir = cacheWith(registry, 'left-pad', cacheFile('left-pad', [doc('left-pad', '1.0.0')]));
    const opened = new OpenedCacheFiles();
    expect(pnpmCached([dir], registry, 'left-pad', '1.0.0', 'sha512-1.0.0', undefined, opened)).toBeDefined();
    writeFileSync(fileOf(dir, 'left-pad'), cacheFile('left-pad', [doc('left-pad', '1.0.0'), doc('left-pad', '1.1.0')]));
    expect(pnpmCached([dir], registry, 'left-pad', '1.1.0', 'sha512-1.1.0', undefined, opened)?.metadata.version).toBe('1.1.0');
    writeFileSync(fileOf(dir, 'left-pad'), cacheFile('left-pad', [{ ...doc('left-pad', '1.0.0'), dist: { integrity: 'sha512-other', signatures: [] } }]));
    expect(pnpmCached([dir], registry, 'left-pad', '1.0.0', 'sha512-other', undefined, opened)?.metadata.dist.integrity).toBe('sha512-other');

    expect(pnpmCached([dir], registry, 'is-odd', '1.0.0', 'sha512-1.0.0', undefined, opened)).toBeUndefined();
    writeFileSync(fileOf(dir, 'is-odd'), cacheFile('is-odd', [doc('is-odd', '1.0.0')]));
    expect(pnpmCached([dir], registry, 'is-odd', '1.0.0', 'sha512-1.0.0', undefined, opened)).toBeDefined();
  });

  it('parses each version\'s document once while the file is kept (the signatures, then the release line)', () => {
    const dir = cacheWith(registry, 'left-pad', cacheFile('left-pad', [doc('left-pad', '1.0.0'), doc('left-pad', '1.1.0')]));
    const opened = new OpenedCacheFiles();
    const parse = vi.spyOn(JSON, 'parse');
    try {
      expect(pnpmCached([dir], registry, 'left-pad', '1.1.0', 'sha512-1.1.0', undefined, opened)?.metadata.version).toBe('1.1.0');
      // The first line's index and 1.1.0's document.
      expect(parse).toHaveBeenCalledTimes(2);
      parse.mockClear();
      const kept = pnpmCached([dir], registry, 'left-pad', '1.1.0', 'sha512-1.1.0', (v) => v.startsWith('1.'), opened);
      expect([...kept!.past!.versions.keys()]).toEqual(['1.0.0']);
      // Only 1.0.0's document is new.
      expect(parse).toHaveBeenCalledTimes(1);
      parse.mockClear();
      expect(pnpmCached([dir], registry, 'left-pad', '1.1.0', 'sha512-1.1.0', (v) => v.startsWith('1.'), opened)?.past?.versions.size).toBe(1);
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  it('a document parsed once is still only its own version\'s: an entry pointing at another version\'s bytes is a miss', () => {
    const text = cacheFile('left-pad', [doc('left-pad', '1.0.0'), doc('left-pad', '1.1.0')], (index) => {
      (index.versions[1] as unknown[])[1] = 0;
      (index.versions[1] as unknown[])[2] = (index.versions[0] as unknown[])[2];
    });
    const dir = cacheWith(registry, 'left-pad', text);
    const opened = new OpenedCacheFiles();
    expect(pnpmCached([dir], registry, 'left-pad', '1.0.0', 'sha512-1.0.0', undefined, opened)?.metadata.version).toBe('1.0.0');
    expect(pnpmCached([dir], registry, 'left-pad', '1.1.0', 'sha512-1.1.0', undefined, opened)).toBeUndefined();
    expect(pnpmCached([dir], registry, 'left-pad', '1.0.0', 'sha512-1.0.0', (v) => v.startsWith('1.'), opened)?.past).toBeUndefined();
  });

  it('holds at most its budget of bytes, dropping the least recently used', () => {
    const dir = cacheWith(registry, 'a-lib', cacheFile('a-lib', [doc('a-lib', '1.0.0')]));
    writeFileSync(fileOf(dir, 'b-lib'), cacheFile('b-lib', [doc('b-lib', '1.0.0')]));
    const size = cacheFile('a-lib', [doc('a-lib', '1.0.0')]).length;
    const opened = new OpenedCacheFiles(size + 10);
    expect(pnpmCached([dir], registry, 'a-lib', '1.0.0', 'sha512-1.0.0', undefined, opened)).toBeDefined();
    expect(pnpmCached([dir], registry, 'b-lib', '1.0.0', 'sha512-1.0.0', undefined, opened)).toBeDefined();
    rmSync(fileOf(dir, 'a-lib'));
    rmSync(fileOf(dir, 'b-lib'));
    // Only the most recent one fits.
    expect(pnpmCached([dir], registry, 'a-lib', '1.0.0', 'sha512-1.0.0', undefined, opened)).toBeUndefined();
    expect(pnpmCached([dir], registry, 'b-lib', '1.0.0', 'sha512-1.0.0', undefined, opened)).toBeDefined();
  });
});
