import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { npmCached, npmPackumentKey } from './npm-metadata-cache.js';

const registry = 'http://127.0.0.1:4998/';
// Each version claims attestations: a release line (`past`) holds exactly the versions that claim them.
const doc = (name: string, version: string) => ({ name, version, dist: { integrity: `sha512-${version}`, signatures: [{ keyid: 'SHA256:k', sig: 'MEUC' }], attestations: { url: 'https://registry.example/att', provenance: { predicateType: 'https://slsa.dev/provenance/v1' } } }, hasInstallScript: false });
const packument = (name: string, versions: string[]) => JSON.stringify({ name, 'dist-tags': { latest: versions.at(-1) }, versions: Object.fromEntries(versions.map((v) => [v, doc(name, v)])) });

/** Writes `body` under `key` as cacache does (index line `<sha1>\t<json>`, content by its sha512); returns the folder. */
function cacheWith(entries: Array<{ key: string; body?: string; integrity?: string | null; sha1?: string; lines?: string }>, cacache = mkdtempSync(join(tmpdir(), 'portcullis-cacache-'))): string {
  for (const { key, body, integrity, sha1, lines } of entries) {
    let stored = integrity;
    if (body !== undefined) {
      const digest = createHash('sha512').update(body).digest();
      const hex = digest.toString('hex');
      mkdirSync(join(cacache, 'content-v2', 'sha512', hex.slice(0, 2), hex.slice(2, 4)), { recursive: true });
      writeFileSync(join(cacache, 'content-v2', 'sha512', hex.slice(0, 2), hex.slice(2, 4), hex.slice(4)), body);
      if (stored === undefined) stored = `sha512-${digest.toString('base64')}`;
    }
    const hash = createHash('sha256').update(key).digest('hex');
    const json = JSON.stringify({ key, integrity: stored ?? null, time: 1, size: body?.length ?? 0, metadata: {} });
    const folder = join(cacache, 'index-v5', hash.slice(0, 2), hash.slice(2, 4));
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, hash.slice(4)), lines ?? `\n${sha1 ?? createHash('sha1').update(json).digest('hex')}\t${json}`, { flag: 'a' });
  }
  return cacache;
}

describe("npm's cache (cacache)", () => {
  it('keys packuments by the URL npm fetches them from', () => {
    expect(npmPackumentKey('http://127.0.0.1:4998/', 'left-pad')).toBe('make-fetch-happen:request-cache:http://127.0.0.1:4998/left-pad');
    expect(npmPackumentKey('https://registry.example/npm/', '@acme/widget')).toBe('make-fetch-happen:request-cache:https://registry.example/npm/@acme%2fwidget');
    expect(npmPackumentKey('file:///etc/', 'left-pad')).toBeUndefined();
  });

  it('reads a version’s document and its past, only with the installed integrity', () => {
    const key = npmPackumentKey(registry, 'left-pad')!;
    const dir = cacheWith([{ key, body: packument('left-pad', ['1.0.0', '1.1.0', '1.2.0', '2.0.0']) }]);
    const earlier = (candidate: string) => candidate.startsWith('1.') && candidate < '1.2.0';
    const found = npmCached([dir], registry, 'left-pad', '1.2.0', 'sha512-1.2.0', earlier);
    expect(found?.metadata.dist.signatures).toEqual([{ keyid: 'SHA256:k', sig: 'MEUC' }]);
    expect([...(found?.past?.versions.keys() ?? [])]).toEqual(['1.0.0', '1.1.0']);
    expect(npmCached([dir], registry, 'left-pad', '1.2.0', 'sha512-other', earlier)).toBeUndefined();
    expect(npmCached([dir], 'http://127.0.0.1:1/', 'left-pad', '1.2.0', 'sha512-1.2.0')).toBeUndefined();
    const scoped = cacheWith([{ key: npmPackumentKey(registry, '@acme/widget')!, body: packument('@acme/widget', ['1.0.0']) }]);
    expect(npmCached([scoped], registry, '@acme/widget', '1.0.0', 'sha512-1.0.0')?.metadata.name).toBe('@acme/widget');
    // The newest index line for the key wins: a later one with no integrity (npm removed it) leaves nothing.
    cacheWith([{ key, integrity: null }], dir);
    expect(npmCached([dir], registry, 'left-pad', '1.2.0', 'sha512-1.2.0')).toBeUndefined();
  });

  it('anything unfamiliar is a miss, never a throw or another package’s document', () => {
    const key = npmPackumentKey(registry, 'left-pad')!;
    const body = packument('left-pad', ['1.0.0']);
    const misses: Array<[string, string]> = [
      ['an index line whose sha1 does not match', cacheWith([{ key, body, sha1: '0'.repeat(40) }])],
      ['content that is not what the integrity names', cacheWith([{ key, body, integrity: `sha512-${createHash('sha512').update('other').digest('base64')}` }])],
      ['an integrity that is not sha512', cacheWith([{ key, body, integrity: 'sha1-AAAA' }])],
      ['an entry for another key in the bucket', cacheWith([{ key, body, lines: `\nx\t{"key":"other"}` }])],
      ['another package inside', cacheWith([{ key, body: packument('other', ['1.0.0']) }])],
      ['not JSON', cacheWith([{ key, body: '{"name":"left-pad",' }])],
      ['nothing there', mkdtempSync(join(tmpdir(), 'portcullis-cacache-'))],
    ];
    for (const [what, dir] of misses) expect(npmCached([dir], registry, 'left-pad', '1.0.0', 'sha512-1.0.0'), what).toBeUndefined();
    expect(npmCached([cacheWith([{ key, body }])], registry, '../left-pad', '1.0.0', 'sha512-1.0.0')).toBeUndefined();
    expect(npmCached([cacheWith([{ key, body }])], registry, 'left-pad', '1.0.0', undefined)).toBeUndefined();
  });
});
