import { describe, expect, it, vi } from 'vitest';
import { PortcullisError } from '../errors.js';
import { createKeyring, refreshKeys, type CachedRegistryKeys, type KeyCache } from './keyring.js';
import { parseKeys } from '../registry/keys.js';
import { NPM_REGISTRY_URL } from '../registry-url.js';
import { NPM_REGISTRY_KEYS } from './npm-keys.js';
import { makeSigningKey } from './signing-key.fixture.js';

const OLD = NPM_REGISTRY_KEYS.find((k) => k.expires !== null)!;
const NEW = NPM_REGISTRY_KEYS.find((k) => k.expires === null)!;
const CORP = 'https://npm.example.corp/';

function memoryCache(initial: Record<string, unknown> = {}): KeyCache & { data: Record<string, unknown> } {
  const data: Record<string, unknown> = { ...initial };
  return { data, get: (r) => data[r], set: (r, e: CachedRegistryKeys) => void (data[r] = e) };
}
/** A keys document as the registry client hands it over: validated once by registry/keys.ts. */
const body = (keys: unknown[]) => parseKeys(JSON.stringify({ keys }));

describe('createKeyring', () => {
  it('"npm" selects both embedded keys, with the old key\'s expiry, under any spelling of the URL', () => {
    const keyring = createKeyring({ [NPM_REGISTRY_URL]: { keys: 'npm' } });
    for (const spelling of ['https://registry.npmjs.org', 'HTTPS://REGISTRY.NPMJS.ORG:443/']) {
      const set = keyring.forRegistry(spelling);
      expect(set.trust).toBe('npm');
      expect([...set.keys.keys()].sort()).toEqual([NEW.keyid, OLD.keyid].sort());
      expect(set.keys.get(OLD.keyid)).toMatchObject({ expires: '2025-01-29T00:00:00.000Z', origin: 'embedded' });
      expect(set.keys.get(NEW.keyid)).toMatchObject({ expires: null, expiresAt: null });
    }
  });

  it('takes explicit key lists from the policy', () => {
    const corp = makeSigningKey();
    const keyring = createKeyring({ 'https://NPM.example.corp': { keys: [corp.record] } });
    const set = keyring.forRegistry(CORP);
    expect(set.trust).toBe('explicit');
    expect(set.keys.get(corp.record.keyid)?.origin).toBe('policy');
    expect(keyring.trusts(NPM_REGISTRY_URL)).toBe(false);
  });

  it('leaves registries without keys untrusted', () => {
    const keyring = createKeyring({ [CORP]: { keys: [] } });
    expect(keyring.trusts(CORP)).toBe(false);
    expect(keyring.forRegistry('https://elsewhere.example/').trust).toBe('none');
    expect(keyring.forRegistry('not a url').keys.size).toBe(0);
  });

  it('rejects a key whose keyid does not match its material, naming the registry and keyid', () => {
    const corp = makeSigningKey();
    const other = makeSigningKey();
    const build = () => createKeyring({ [CORP]: { keys: [{ ...corp.record, keyid: other.record.keyid }] } }, { file: '/p/portcullis.json' });
    expect(build).toThrow(PortcullisError);
    try {
      build();
    } catch (error) {
      expect((error as PortcullisError).code).toBe('POLICY_INVALID');
      expect((error as PortcullisError).file).toBe('/p/portcullis.json');
      expect((error as Error).message).toContain(CORP);
      expect((error as Error).message).toContain(other.record.keyid);
      expect((error as Error).message).toContain(corp.record.keyid);
    }
  });

  it('rejects unsupported key types and bad expiry dates', () => {
    const corp = makeSigningKey();
    expect(() => createKeyring({ [CORP]: { keys: [{ ...corp.record, keytype: 'ssh-ed25519' }] } })).toThrow(/not supported/);
    expect(() => createKeyring({ [CORP]: { keys: [{ ...corp.record, expires: 'soon' }] } })).toThrow(/expires/);
  });

  it('accepts an identical duplicate and rejects a conflicting one', () => {
    const corp = makeSigningKey();
    expect(createKeyring({ [CORP]: { keys: [corp.record, corp.record] } }).forRegistry(CORP).keys.size).toBe(1);
    expect(() => createKeyring({ [CORP]: { keys: [corp.record, { ...corp.record, expires: '2030-01-01T00:00:00Z' }] } })).toThrow(/twice/);
  });

  it('gives equal key sets equal ids and different ones different ids', () => {
    const a = createKeyring({ [NPM_REGISTRY_URL]: { keys: 'npm' }, 'https://mirror.example/': { keys: 'npm' } });
    expect(a.forRegistry(NPM_REGISTRY_URL).id).toBe(a.forRegistry('https://mirror.example/').id);
    expect(a.forRegistry(NPM_REGISTRY_URL).id).not.toBe(a.forRegistry(CORP).id);
  });
});

describe('refreshKeys', () => {
  const npmKeyring = () => createKeyring({ [NPM_REGISTRY_URL]: { keys: 'npm' }, [CORP]: { keys: [] } });

  it('adds a new key the registry serves, and fetches the keys endpoint of that registry', async () => {
    const rotated = makeSigningKey();
    const fetchKeys = vi.fn(async () => body([NEW, rotated.record]));
    const result = await refreshKeys(npmKeyring(), 'https://registry.npmjs.org', { fetchKeys });
    expect(fetchKeys).toHaveBeenCalledWith(`${NPM_REGISTRY_URL}-/npm/v1/keys`);
    expect(result.status).toBe('refreshed');
    if (result.status !== 'refreshed') return;
    expect(result.added).toEqual([rotated.record.keyid]);
    const set = result.keyring.forRegistry(NPM_REGISTRY_URL);
    expect(set.keys.get(rotated.record.keyid)?.origin).toBe('refreshed');
    expect(set.keys.size).toBe(3);
  });

  it('never removes, replaces or loosens an embedded key', async () => {
    // Omits the old key, and claims the new one... never expires (as it already does) — nothing changes.
    const looser = await refreshKeys(npmKeyring(), NPM_REGISTRY_URL, { fetchKeys: async () => body([{ ...OLD, expires: null }]) });
    expect(looser.status).toBe('refreshed');
    const set = looser.keyring.forRegistry(NPM_REGISTRY_URL);
    expect(set.keys.get(OLD.keyid)).toMatchObject({ expires: OLD.expires, origin: 'embedded' });
    expect(set.keys.get(NEW.keyid)).toMatchObject({ expires: null, origin: 'embedded' });
    expect(set.keys.get(NEW.keyid)?.publicKey).toBe(npmKeyring().forRegistry(NPM_REGISTRY_URL).keys.get(NEW.keyid)?.publicKey);
    if (looser.status === 'refreshed') expect(looser.tightened).toEqual([]);

    const empty = await refreshKeys(npmKeyring(), NPM_REGISTRY_URL, { fetchKeys: async () => body([]) });
    expect(empty.keyring.forRegistry(NPM_REGISTRY_URL).keys.size).toBe(2);
  });

  it('adopts an earlier expiry (a retired key), and reports it', async () => {
    const retired = { ...NEW, expires: '2026-06-01T00:00:00.000Z' };
    const result = await refreshKeys(npmKeyring(), NPM_REGISTRY_URL, { fetchKeys: async () => body([retired]) });
    expect(result.status === 'refreshed' && result.tightened).toEqual([{ keyid: NEW.keyid, expires: retired.expires }]);
    expect(result.keyring.forRegistry(NPM_REGISTRY_URL).keys.get(NEW.keyid)?.expires).toBe(retired.expires);
    expect(result.keyring.forRegistry(NPM_REGISTRY_URL).id).not.toBe(npmKeyring().forRegistry(NPM_REGISTRY_URL).id);
    // A later expiry than the embedded one is never adopted.
    const later = await refreshKeys(npmKeyring(), NPM_REGISTRY_URL, { fetchKeys: async () => body([{ ...OLD, expires: '2099-01-01T00:00:00Z' }]) });
    expect(later.keyring.forRegistry(NPM_REGISTRY_URL).keys.get(OLD.keyid)?.expires).toBe(OLD.expires);
  });

  it('does not accumulate refreshed keys across refreshes', async () => {
    const first = makeSigningKey();
    const second = makeSigningKey();
    const one = await refreshKeys(npmKeyring(), NPM_REGISTRY_URL, { fetchKeys: async () => body([first.record]) });
    const two = await refreshKeys(one.keyring, NPM_REGISTRY_URL, { fetchKeys: async () => body([second.record]) });
    const keys = two.keyring.forRegistry(NPM_REGISTRY_URL).keys;
    expect(keys.has(first.record.keyid)).toBe(false);
    expect(keys.has(second.record.keyid)).toBe(true);
  });

  it('rejects a hostile response and keeps the keyring', async () => {
    const keyring = npmKeyring();
    const impostor = makeSigningKey();
    const result = await refreshKeys(keyring, NPM_REGISTRY_URL, { fetchKeys: async () => body([{ ...impostor.record, keyid: NEW.keyid }]) });
    expect(result).toMatchObject({ status: 'rejected', keyring });
    if (result.status === 'rejected') expect(result.reason).toContain(NEW.keyid);
    // One bad key among good ones rejects the whole document.
    const mixed = await refreshKeys(keyring, NPM_REGISTRY_URL, { fetchKeys: async () => body([impostor.record, { ...OLD, keyid: NEW.keyid }]) });
    expect(mixed).toMatchObject({ status: 'rejected', keyring });
  });

  it('skips key types it cannot verify, and says so', async () => {
    const other = `SHA256:${'A'.repeat(43)}`;
    const result = await refreshKeys(npmKeyring(), NPM_REGISTRY_URL, { fetchKeys: async () => body([NEW, { ...NEW, keyid: other, keytype: 'ssh-ed25519', scheme: 'ssh-ed25519' }]) });
    expect(result.status === 'refreshed' && result.ignored).toEqual([{ keyid: other, reason: 'unsupported keytype "ssh-ed25519"' }]);
    expect(result.keyring.forRegistry(NPM_REGISTRY_URL).keys.has(other)).toBe(false);
  });

  it('reports a missing endpoint, a failing fetch, and an unconfigured registry', async () => {
    const keyring = npmKeyring();
    expect(await refreshKeys(keyring, NPM_REGISTRY_URL, { fetchKeys: async () => null })).toMatchObject({ status: 'missing', keyring });
    expect(
      await refreshKeys(keyring, NPM_REGISTRY_URL, {
        fetchKeys: async () => {
          throw new Error('ECONNREFUSED');
        },
      }),
    ).toMatchObject({ status: 'unavailable', reason: 'ECONNREFUSED', keyring });
    const fetchKeys = vi.fn(async () => body([NEW]));
    expect(await refreshKeys(keyring, 'https://elsewhere.example/', { fetchKeys })).toMatchObject({ status: 'not-configured', keyring });
    expect(fetchKeys).not.toHaveBeenCalled();
  });

  it('refreshes a registry configured with an empty list, making it trusted (opt-in)', async () => {
    const corp = makeSigningKey();
    const result = await refreshKeys(npmKeyring(), CORP, { fetchKeys: async () => body([corp.record]) });
    expect(result.keyring.trusts(CORP)).toBe(true);
  });

  it('caches responses through the caller\'s store and re-validates them when read', async () => {
    const now = Date.parse('2026-11-01T00:00:00Z');
    const rotated = makeSigningKey();
    const cache = memoryCache();
    const fetchKeys = vi.fn(async () => body([rotated.record]));
    await refreshKeys(npmKeyring(), NPM_REGISTRY_URL, { fetchKeys, cache, now });
    // The cache holds the keys as served; they pass the document validator again on every read (below).
    expect(cache.data[NPM_REGISTRY_URL]).toEqual({ fetchedAt: '2026-11-01T00:00:00.000Z', keys: [rotated.record] });

    const fresh = await refreshKeys(npmKeyring(), NPM_REGISTRY_URL, { fetchKeys, cache, now: now + 1000 });
    expect(fresh.status).toBe('cached');
    expect(fresh.keyring.forRegistry(NPM_REGISTRY_URL).keys.has(rotated.record.keyid)).toBe(true);
    expect(fetchKeys).toHaveBeenCalledTimes(1);

    const stale = await refreshKeys(npmKeyring(), NPM_REGISTRY_URL, { fetchKeys, cache, now: now + 2 * 86_400_000 });
    expect(stale.status).toBe('refreshed');
    expect(fetchKeys).toHaveBeenCalledTimes(2);

    const fetchedAt = new Date(now).toISOString();
    const tamperings: unknown[] = [
      { fetchedAt, keys: [{ ...rotated.record, keyid: NEW.keyid }] }, // another key's keyid (material check)
      { fetchedAt, keys: [{ ...rotated.record, keyid: 'abc' }] }, // not a fingerprint (document check)
      { fetchedAt, keys: Array(33).fill(rotated.record) }, // more keys than a document may list
      { fetchedAt, keys: [{ ...rotated.record, key: 'A'.repeat(64 * 1024) }] }, // over-long material
      { fetchedAt, keys: 'nope' },
      { fetchedAt, body: JSON.stringify({ keys: [rotated.record] }) }, // another shape
    ];
    for (const entry of tamperings) {
      const calls = fetchKeys.mock.calls.length;
      const afterTamper = await refreshKeys(npmKeyring(), NPM_REGISTRY_URL, { fetchKeys, cache: memoryCache({ [NPM_REGISTRY_URL]: entry }), now });
      expect(afterTamper.status).toBe('refreshed');
      expect(fetchKeys.mock.calls.length).toBe(calls + 1);
    }

    const broken = { get: () => { throw new Error('EACCES'); }, set: () => { throw new Error('EACCES'); } };
    expect((await refreshKeys(npmKeyring(), NPM_REGISTRY_URL, { fetchKeys, cache: broken, now })).status).toBe('refreshed');
  });
});
