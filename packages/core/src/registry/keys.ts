/**
 * The `/-/npm/v1/keys` document: the signing keys a registry says it uses. Whether to trust them is
 * the policy's decision, not this module's.
 */
import { PortcullisError } from '../errors.js';
import type { RegistryKey } from '../model.js';

/** A keys document beyond this size is not a keys document. */
export const MAX_KEYS_BYTES = 1024 * 1024;

/** Parses a `{ "keys": [...] }` document; throws METADATA_UNAVAILABLE with the reason when it is malformed. */
export function parseKeys(input: string | Uint8Array): RegistryKey[] {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (size > MAX_KEYS_BYTES) throw new PortcullisError('INPUT_TOO_LARGE', `the keys document is ${size} bytes, over the ${MAX_KEYS_BYTES}-byte limit`);
  let value: unknown;
  try {
    value = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
  } catch {
    throw new PortcullisError('METADATA_UNAVAILABLE', 'the keys response is not valid JSON');
  }
  return keysFromJson(value);
}

/** Validates an already-parsed keys document (see parseKeys). */
export function keysFromJson(value: unknown): RegistryKey[] {
  const keys = isObject(value) && Object.hasOwn(value, 'keys') ? value.keys : undefined;
  if (!Array.isArray(keys)) throw new PortcullisError('METADATA_UNAVAILABLE', 'the keys response has no "keys" array');
  return (keys as unknown[]).map((entry, i) => {
    if (!isObject(entry)) throw new PortcullisError('METADATA_UNAVAILABLE', `key ${i} in the keys response is not an object`);
    const field = (name: string): unknown => (Object.hasOwn(entry, name) ? entry[name] : undefined);
    const [keyid, keytype, scheme, key] = [field('keyid'), field('keytype'), field('scheme'), field('key')];
    const expires = field('expires') ?? null;
    if (typeof keyid !== 'string' || typeof keytype !== 'string' || typeof scheme !== 'string' || typeof key !== 'string') {
      throw new PortcullisError('METADATA_UNAVAILABLE', `key ${i} in the keys response lacks a string keyid, keytype, scheme or key`);
    }
    if (expires !== null && typeof expires !== 'string') {
      throw new PortcullisError('METADATA_UNAVAILABLE', `key ${keyid} in the keys response has an "expires" that is neither a date string nor null`);
    }
    return { keyid, keytype, scheme, key, expires };
  });
}

function isObject(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
