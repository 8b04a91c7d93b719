import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import { NPM_REGISTRY_KEYS } from '../signatures/npm-keys.js';
import { keysFromJson, MAX_KEYS_BYTES, parseKeys } from './keys.js';

const OLD = NPM_REGISTRY_KEYS.find((k) => k.expires !== null)!;
const NEW = NPM_REGISTRY_KEYS.find((k) => k.expires === null)!;
const body = (keys: unknown[]) => JSON.stringify({ keys });

/** The PortcullisError `fn` throws. */
function reason(fn: () => unknown): PortcullisError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected a PortcullisError');
}

describe('parseKeys (the one validator of /-/npm/v1/keys)', () => {
  it('reads the real document shape, from text or bytes', () => {
    expect(parseKeys(body([...NPM_REGISTRY_KEYS]))).toEqual([...NPM_REGISTRY_KEYS]);
    expect(parseKeys(new TextEncoder().encode(body([NEW])))).toEqual([NEW]);
    // Bytes that are a view into a larger buffer are read as the view.
    const padded = new TextEncoder().encode(`xx${body([NEW])}yy`);
    expect(parseKeys(padded.subarray(2, padded.length - 2))).toEqual([NEW]);
    // An identical duplicate is harmless.
    expect(parseKeys(body([NEW, NEW]))).toHaveLength(2);
    // Key types it cannot verify are the keyring's business, not the document's.
    expect(parseKeys(body([{ ...NEW, keyid: `SHA256:${'A'.repeat(43)}`, keytype: 'ssh-ed25519', scheme: 'ssh-ed25519' }]))).toHaveLength(1);
  });

  it.each([
    ['not JSON', 'nope', /not valid JSON/],
    ['not an object', '[]', /no "keys" array/],
    ['no keys', '{}', /no "keys" array/],
    ['keys not an array', '{"keys":{}}', /no "keys" array/],
    ['keys only on the prototype', '{"__proto__":{"keys":[]}}', /no "keys" array/],
    ['too many keys', body(Array(33).fill(NEW)), /33 keys, more than 32/],
    ['entry not an object', body([null]), /not an object/],
    ['entry an array', body([[]]), /not an object/],
    ['missing key', body([{ ...NEW, key: undefined }]), /lacks/],
    ['a field that is no string', body([{ ...NEW, scheme: 5 }]), /lacks/],
    ['keyid not a fingerprint', body([{ ...NEW, keyid: 'abc' }]), /not a SHA256 fingerprint/],
    ['over-long keytype', body([{ ...NEW, keytype: 'x'.repeat(65) }]), /over-long/],
    ['over-long key', body([{ ...NEW, key: 'A'.repeat(4097) }]), /over-long/],
    ['bad expires (a number)', body([{ ...NEW, expires: 12 }]), /expires/],
    ['bad expires (not a date)', body([{ ...NEW, expires: 'soon' }]), /expires/],
    ['missing expires', body([{ keyid: NEW.keyid, keytype: NEW.keytype, scheme: NEW.scheme, key: NEW.key }]), /no "expires"/],
    ['conflicting duplicate', body([NEW, { ...NEW, expires: '2030-01-01T00:00:00Z' }]), /twice/],
  ])('refuses %s (METADATA_UNAVAILABLE)', (_why, text, message) => {
    const error = reason(() => parseKeys(text));
    expect(error.code).toBe('METADATA_UNAVAILABLE');
    expect(error.message).toMatch(message);
  });

  it('refuses a document over the size limit before parsing it (INPUT_TOO_LARGE)', () => {
    expect(reason(() => parseKeys(' '.repeat(MAX_KEYS_BYTES + 1))).code).toBe('INPUT_TOO_LARGE');
    expect(reason(() => parseKeys(new Uint8Array(MAX_KEYS_BYTES + 1))).code).toBe('INPUT_TOO_LARGE');
    // At the limit it is parsed (and here refused for its content, not its size).
    expect(reason(() => parseKeys(' '.repeat(MAX_KEYS_BYTES))).code).toBe('METADATA_UNAVAILABLE');
  });

  it('keysFromJson applies the same checks to a parsed (cached) document', () => {
    expect(keysFromJson({ keys: [OLD] })).toEqual([OLD]);
    expect(reason(() => keysFromJson({ keys: [{ ...OLD, keyid: 'SHA256:k' }] })).message).toMatch(/fingerprint/);
    expect(reason(() => keysFromJson(JSON.parse('{"__proto__":{"keys":[]}}'))).message).toMatch(/no "keys" array/);
  });
});
