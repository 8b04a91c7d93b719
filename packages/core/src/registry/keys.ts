/**
 * The `/-/npm/v1/keys` document: the signing keys a registry says it uses. This is the one validator of that
 * document (hostile input), used for what the registry serves and for every cached copy read back from disk.
 * Whether to trust the keys is the policy's decision, and whether a key's material matches its keyid is the
 * keyring's (signatures/keyring.ts `trustKey`), not this module's.
 */
import { PortcullisError } from '../errors.js';
import type { RegistryKey } from '../model.js';

/** Upper bound of a keys document; the real one is well under 1 KiB. */
export const MAX_KEYS_BYTES = 64 * 1024;
/** At most this many keys in one document. */
export const MAX_KEYS = 32;
/** Bounds of each string field, so that a parsed document (a cached copy) is bounded like the bytes are. */
const MAX_FIELD = 64;
const MAX_KEY_MATERIAL = 4096;
const KEYID = /^SHA256:[A-Za-z0-9+/]{43}$/;

declare const validated: unique symbol;
/** Keys that passed `parseKeys`/`keysFromJson`: only those functions make one. */
export type ServedKeys = readonly Readonly<RegistryKey>[] & { readonly [validated]: true };

const malformed = (reason: string) => new PortcullisError('METADATA_UNAVAILABLE', reason);

/** Parses a `{ "keys": [...] }` document; throws INPUT_TOO_LARGE or METADATA_UNAVAILABLE with the reason. */
export function parseKeys(input: string | Uint8Array): ServedKeys {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (size > MAX_KEYS_BYTES) throw new PortcullisError('INPUT_TOO_LARGE', `the keys document is ${size} bytes, over the ${MAX_KEYS_BYTES}-byte limit`);
  let value: unknown;
  try {
    value = JSON.parse(typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8'));
  } catch {
    throw malformed('the keys response is not valid JSON');
  }
  return keysFromJson(value);
}

/**
 * Validates an already-parsed keys document (see parseKeys): an object with an own `keys` array of at most
 * MAX_KEYS objects, each with string `keyid` (a SHA256 fingerprint), `keytype`, `scheme` and `key`, and an
 * `expires` that is present and null or a date; a keyid listed twice must have the same `expires`.
 */
export function keysFromJson(value: unknown): ServedKeys {
  const list = isObject(value) && Object.hasOwn(value, 'keys') ? value.keys : undefined;
  if (!Array.isArray(list)) throw malformed('the keys response has no "keys" array');
  if (list.length > MAX_KEYS) throw malformed(`the keys response lists ${list.length} keys, more than ${MAX_KEYS}`);
  const expiries = new Map<string, string | null>();
  const keys = (list as unknown[]).map((entry, i): RegistryKey => {
    if (!isObject(entry)) throw malformed(`key ${i} in the keys response is not an object`);
    const field = (name: string): unknown => (Object.hasOwn(entry, name) ? entry[name] : undefined);
    const [keyid, keytype, scheme, key] = [field('keyid'), field('keytype'), field('scheme'), field('key')];
    if (typeof keyid !== 'string' || typeof keytype !== 'string' || typeof scheme !== 'string' || typeof key !== 'string') {
      throw malformed(`key ${i} in the keys response lacks a string keyid, keytype, scheme or key`);
    }
    if (!KEYID.test(keyid)) throw malformed(`key ${i} in the keys response has a keyid that is not a SHA256 fingerprint`);
    if (keytype.length > MAX_FIELD || scheme.length > MAX_FIELD || key.length > MAX_KEY_MATERIAL) {
      throw malformed(`key ${keyid} in the keys response has an over-long keytype, scheme or key`);
    }
    if (!Object.hasOwn(entry, 'expires')) throw malformed(`key ${keyid} in the keys response has no "expires" (null or a date)`);
    const expires = entry.expires;
    if (expires !== null && (typeof expires !== 'string' || expires.length > MAX_FIELD || Number.isNaN(Date.parse(expires)))) {
      throw malformed(`key ${keyid} in the keys response has an "expires" that is neither a date nor null`);
    }
    if (expiries.has(keyid) && expiries.get(keyid) !== expires) throw malformed(`key ${keyid} is listed twice in the keys response with different "expires"`);
    expiries.set(keyid, expires);
    return { keyid, keytype, scheme, key, expires };
  });
  return Object.freeze(keys) as unknown as ServedKeys;
}

function isObject(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
