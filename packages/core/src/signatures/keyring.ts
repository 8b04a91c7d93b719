import { createHash, type KeyObject } from 'node:crypto';
import { PortcullisError } from '../errors.js';
import type { RegistryKey } from '../model.js';
import type { RegistryTrust } from '../policy/types.js';
import { KeyMaterialError, parseKeyWithId, SUPPORTED_KEYTYPE } from './keyid.js';
import { NPM_REGISTRY_KEYS } from './npm-keys.js';
import { normalizeRegistryUrl } from '../registry-url.js';
import { keysFromJson, type ServedKeys } from '../registry/keys.js';

/** Where a trusted key came from. */
export type KeyOrigin = 'embedded' | 'policy' | 'refreshed';

/** A key the keyring trusts for one registry, parsed once and ready to verify with. */
export interface TrustedKey {
  readonly keyid: string;
  /** ISO date after which the key no longer signs, or null. */
  readonly expires: string | null;
  /** `expires` in epoch milliseconds, or null. */
  readonly expiresAt: number | null;
  readonly publicKey: KeyObject;
  readonly origin: KeyOrigin;
}

/** The keys trusted for one registry. */
export interface RegistryKeySet {
  /** Normalized registry URL. */
  readonly registry: string;
  /** How the policy configured it: npm's embedded keys, an explicit list, or not at all. */
  readonly trust: 'npm' | 'explicit' | 'none';
  readonly keys: ReadonlyMap<string, TrustedKey>;
  /** Stable fingerprint of the key set (keyids and expiries); part of every verified-versions memo entry. */
  readonly id: string;
}

function keySetId(keys: Iterable<TrustedKey>): string {
  const parts = [...keys].map((k) => `${k.keyid}|${k.expires ?? ''}`).sort();
  if (parts.length === 0) return 'none';
  return createHash('sha256').update(parts.join('\n')).digest('base64').slice(0, 22);
}

/** Builds a key set; `id` is derived from the keys so equal sets share an id. */
export function makeKeySet(registry: string, trust: RegistryKeySet['trust'], keys: Iterable<TrustedKey>): RegistryKeySet {
  const map = new Map<string, TrustedKey>();
  for (const key of keys) map.set(key.keyid, key);
  return Object.freeze({ registry, trust, keys: map, id: keySetId(map.values()) });
}

function parseExpiry(expires: unknown): { expires: string | null; expiresAt: number | null } | null {
  if (expires === null || expires === undefined) return { expires: null, expiresAt: null };
  if (typeof expires !== 'string' || expires.length > 64) return null;
  const at = Date.parse(expires);
  return Number.isNaN(at) ? null : { expires, expiresAt: at };
}

/**
 * Turns one `/-/npm/v1/keys` record into a trusted key, or throws `KeyMaterialError`
 * (unsupported type, malformed material, or a keyid that is not the material's fingerprint).
 */
export function trustKey(record: RegistryKey, origin: KeyOrigin): TrustedKey {
  if (record.keytype !== SUPPORTED_KEYTYPE || record.scheme !== SUPPORTED_KEYTYPE) {
    throw new KeyMaterialError(
      'KEY_UNSUPPORTED',
      `keytype "${String(record.keytype)}" / scheme "${String(record.scheme)}" is not supported (only ${SUPPORTED_KEYTYPE})`,
    );
  }
  const expiry = parseExpiry(record.expires);
  if (!expiry) throw new KeyMaterialError('KEY_MALFORMED', `"expires" must be null or an ISO date, not ${JSON.stringify(record.expires)}`);
  const publicKey = parseKeyWithId(record.keyid, record.key);
  return Object.freeze({ keyid: record.keyid, ...expiry, publicKey, origin });
}

let embedded: readonly TrustedKey[] | undefined;
/** npm's embedded keys, parsed once per process. */
export function embeddedNpmKeys(): readonly TrustedKey[] {
  embedded ??= Object.freeze(NPM_REGISTRY_KEYS.map((record) => trustKey(record, 'embedded')));
  return embedded;
}

const UNTRUSTED_ID = 'none';
// Registry spellings seen at verification time are few; the bound only guards hostile input.
const MAX_LOOKUP_CACHE = 1024;

/** Which keys each registry is trusted with. Immutable: refreshing returns a new keyring. */
export class Keyring {
  readonly #sets: ReadonlyMap<string, RegistryKeySet>;
  readonly #lookup = new Map<string, RegistryKeySet>();

  constructor(sets: Iterable<RegistryKeySet>) {
    const map = new Map<string, RegistryKeySet>();
    for (const set of sets) map.set(set.registry, set);
    this.#sets = map;
  }

  /** The keys trusted for a registry, however its URL is spelled; an empty set when none. */
  forRegistry(registry: string): RegistryKeySet {
    const hit = this.#lookup.get(registry);
    if (hit) return hit;
    let normalized: string | null;
    try {
      normalized = normalizeRegistryUrl(registry);
    } catch {
      normalized = null;
    }
    const set =
      (normalized !== null ? this.#sets.get(normalized) : undefined) ??
      Object.freeze({ registry: normalized ?? registry, trust: 'none' as const, keys: new Map<string, TrustedKey>(), id: UNTRUSTED_ID });
    if (this.#lookup.size >= MAX_LOOKUP_CACHE) this.#lookup.clear();
    this.#lookup.set(registry, set);
    return set;
  }

  /** Whether the registry has at least one trusted key. */
  trusts(registry: string): boolean {
    return this.forRegistry(registry).keys.size > 0;
  }

  /** Normalized URLs of the registries the policy configures. */
  get registries(): string[] {
    return [...this.#sets.keys()];
  }

  /** A new keyring with one registry's key set replaced. */
  withKeySet(set: RegistryKeySet): Keyring {
    return new Keyring([...[...this.#sets.values()].filter((s) => s.registry !== set.registry), set]);
  }
}

/**
 * Builds the keyring from `policy.registries`: `"npm"` → the embedded npm keys, explicit lists →
 * those keys after checking each keyid against its material. A bad key is a configuration error
 * (`POLICY_INVALID`) naming the registry and keyid.
 */
export function createKeyring(registries: Readonly<Record<string, RegistryTrust>>, options: { file?: string | null } = {}): Keyring {
  const where = options.file ? { file: options.file } : undefined;
  const label = options.file ?? 'portcullis.json';
  const sets: RegistryKeySet[] = [];
  for (const [url, trust] of Object.entries(registries)) {
    let registry: string;
    try {
      registry = normalizeRegistryUrl(url);
    } catch (error) {
      throw new PortcullisError('POLICY_INVALID', `${label}: registries: ${(error as Error).message}`, where);
    }
    if (trust.keys === 'npm') {
      sets.push(makeKeySet(registry, 'npm', embeddedNpmKeys()));
      continue;
    }
    if (!Array.isArray(trust.keys)) {
      throw new PortcullisError('POLICY_INVALID', `${label}: registries["${url}"].keys must be "npm" or a list of keys`, where);
    }
    const keys = new Map<string, TrustedKey>();
    for (const record of trust.keys) {
      const keyid = typeof record?.keyid === 'string' ? record.keyid : '(no keyid)';
      let key: TrustedKey;
      try {
        key = trustKey(record, 'policy');
      } catch (error) {
        const reason = error instanceof KeyMaterialError ? error.message : String(error);
        throw new PortcullisError(
          'POLICY_INVALID',
          `${label}: registry ${registry} lists key ${keyid}, but ${reason}; copy the keys exactly as ${registry}-/npm/v1/keys serves them`,
          where,
        );
      }
      const previous = keys.get(key.keyid);
      if (previous && previous.expires !== key.expires) {
        throw new PortcullisError(
          'POLICY_INVALID',
          `${label}: registry ${registry} lists key ${key.keyid} twice with different "expires"; keep one entry`,
          where,
        );
      }
      keys.set(key.keyid, key);
    }
    sets.push(makeKeySet(registry, 'explicit', keys.values()));
  }
  return new Keyring(sets);
}

// ---------------------------------------------------------------------------------------------
// Opt-in refresh from a registry's /-/npm/v1/keys.
//
// Merging rules (the keys from the policy — embedded npm keys or an explicit list — are the base):
//  1. A refresh never removes, replaces or loosens a base key. A response that omits one changes nothing.
//  2. A fetched key with a base key's keyid has the same material (keyids are checked against it).
//     Its `expires` is adopted only when it is EARLIER than the base one: a registry may retire its
//     key early (respected, reported in `tightened`), never extend or revive it.
//  3. A new keyid is added with origin "refreshed" and reported in `added`, so callers can say so.
//     Only registries the policy configures are refreshed: a registry never becomes trusted on its
//     own say-so.
//  4. Keys of a type we cannot verify are skipped and reported in `ignored`.
//  5. Anything malformed rejects the whole response and the keyring stays as it was: the document
//     (size, shape, keyid format, conflicting duplicates) is validated once, by registry/keys.ts, as it
//     arrives (the registry client) and as it is read back from the key cache; a keyid that does not
//     match its material is found here (`trustKey`).
//  6. Refreshed keys are recomputed from the newest response each time; they never accumulate.
// ---------------------------------------------------------------------------------------------

/**
 * Fetches `<registry>-/npm/v1/keys`; resolves to the keys validated by `parseKeys` (the registry client's
 * `getKeys` does), or null when the endpoint does not exist (404). A rejection is reported as `unavailable`.
 */
export type FetchRegistryKeys = (url: string) => Promise<ServedKeys | null>;

/** What the key cache stores per registry. */
export interface CachedRegistryKeys {
  /** ISO time of the fetch. */
  fetchedAt: string;
  /** The keys as served (validated again by `keysFromJson` on every read: the cache is a file on disk). */
  keys: readonly RegistryKey[];
}

/** A caller-supplied store for fetched key lists (e.g. beside the metadata cache). */
export interface KeyCache {
  get(registry: string): Promise<unknown> | unknown;
  set(registry: string, entry: CachedRegistryKeys): Promise<void> | void;
}

/** Options of `refreshKeys`. */
export interface RefreshKeysOptions {
  fetchKeys: FetchRegistryKeys;
  cache?: KeyCache;
  /** How long a cached response is used without fetching; default one day. */
  maxAgeMs?: number;
  /** Clock, for tests. */
  now?: number;
}

/** Outcome of a key refresh; `keyring` is always usable (unchanged unless `refreshed`/`cached`). */
export type KeyRefresh =
  | {
      status: 'refreshed' | 'cached';
      registry: string;
      keyring: Keyring;
      added: string[];
      tightened: Array<{ keyid: string; expires: string }>;
      ignored: Array<{ keyid: string; reason: string }>;
    }
  | { status: 'missing'; registry: string; keyring: Keyring }
  | { status: 'not-configured'; registry: string; keyring: Keyring }
  | { status: 'rejected' | 'unavailable'; registry: string; keyring: Keyring; reason: string };

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Turns validated keys into trusted ones: keys of a type we cannot verify are skipped (and returned in
 * `ignored`); a key whose keyid is not its material's fingerprint throws, rejecting the whole document.
 */
function trustServed(served: ServedKeys): { keys: TrustedKey[]; ignored: Array<{ keyid: string; reason: string }> } {
  const keys: TrustedKey[] = [];
  const ignored: Array<{ keyid: string; reason: string }> = [];
  for (const record of served) {
    if (record.keytype !== SUPPORTED_KEYTYPE || record.scheme !== SUPPORTED_KEYTYPE) {
      ignored.push({ keyid: record.keyid, reason: `unsupported keytype "${record.keytype}"` });
      continue;
    }
    try {
      keys.push(trustKey(record, 'refreshed'));
    } catch (error) {
      throw new Error(`key ${record.keyid}: ${(error as Error).message}`);
    }
  }
  return { keys: [...new Map(keys.map((k) => [k.keyid, k])).values()], ignored };
}

/** Applies the merging rules above to one registry's key set. */
function mergeRefreshed(set: RegistryKeySet, fetched: readonly TrustedKey[]) {
  const base = [...set.keys.values()].filter((k) => k.origin !== 'refreshed');
  const baseIds = new Set(base.map((k) => k.keyid));
  const fetchedById = new Map(fetched.map((k) => [k.keyid, k]));
  const tightened: Array<{ keyid: string; expires: string }> = [];
  const merged: TrustedKey[] = base.map((key) => {
    const update = fetchedById.get(key.keyid);
    if (update?.expiresAt != null && (key.expiresAt === null || update.expiresAt < key.expiresAt)) {
      tightened.push({ keyid: key.keyid, expires: update.expires as string });
      return Object.freeze({ ...key, expires: update.expires, expiresAt: update.expiresAt });
    }
    return key;
  });
  const added = fetched.filter((k) => !baseIds.has(k.keyid));
  merged.push(...added);
  return { set: makeKeySet(set.registry, set.trust, merged), added: added.map((k) => k.keyid), tightened };
}

function cachedEntry(value: unknown): CachedRegistryKeys | null {
  if (typeof value !== 'object' || value === null) return null;
  const { fetchedAt, keys } = value as Record<string, unknown>;
  if (typeof fetchedAt !== 'string' || Number.isNaN(Date.parse(fetchedAt))) return null;
  return { fetchedAt, keys: keys as readonly RegistryKey[] };
}

/**
 * Opt-in: merges a registry's own `/-/npm/v1/keys` into the keyring (rules above), using the
 * caller's fetcher and cache so that all I/O stays at the edge. Never throws for bad responses.
 */
export async function refreshKeys(keyring: Keyring, registry: string, options: RefreshKeysOptions): Promise<KeyRefresh> {
  const set = keyring.forRegistry(registry);
  const url = set.registry;
  if (set.trust === 'none') return { status: 'not-configured', registry: url, keyring };
  const now = options.now ?? Date.now();
  const maxAge = options.maxAgeMs ?? DAY_MS;

  let cached: CachedRegistryKeys | null = null;
  try {
    cached = cachedEntry(await options.cache?.get(url));
  } catch {
    cached = null; // an unreadable cache is a cache miss
  }
  if (cached) {
    const age = now - Date.parse(cached.fetchedAt);
    if (age >= 0 && age <= maxAge) {
      try {
        const { keys, ignored } = trustServed(keysFromJson({ keys: cached.keys }));
        const merged = mergeRefreshed(set, keys);
        return { status: 'cached', registry: url, keyring: keyring.withKeySet(merged.set), added: merged.added, tightened: merged.tightened, ignored };
      } catch {
        // A corrupt cache entry falls through to a fetch.
      }
    }
  }

  let served: ServedKeys | null;
  try {
    served = await options.fetchKeys(`${url}-/npm/v1/keys`);
  } catch (error) {
    return { status: 'unavailable', registry: url, keyring, reason: error instanceof Error ? error.message : String(error) };
  }
  if (served === null) return { status: 'missing', registry: url, keyring };
  let parsed: ReturnType<typeof trustServed>;
  try {
    parsed = trustServed(served);
  } catch (error) {
    return { status: 'rejected', registry: url, keyring, reason: (error as Error).message };
  }
  try {
    await options.cache?.set(url, { fetchedAt: new Date(now).toISOString(), keys: served });
  } catch {
    // Failing to cache only costs a fetch next time.
  }
  const merged = mergeRefreshed(set, parsed.keys);
  return {
    status: 'refreshed',
    registry: url,
    keyring: keyring.withKeySet(merged.set),
    added: merged.added,
    tightened: merged.tightened,
    ignored: parsed.ignored,
  };
}
