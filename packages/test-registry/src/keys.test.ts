import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXPIRED_KEY_EXPIRES, deriveSigningKey, keyIdOf, servedKeys, signVersion, signedMessage, testKeys, type RegistryKey } from './keys.js';

const vectors = new URL('../../../test-vectors/', import.meta.url);
const npmKeys = JSON.parse(readFileSync(new URL('npm-registry-keys.json', vectors), 'utf8')) as { keys: RegistryKey[] };
const npmSignatures = JSON.parse(readFileSync(new URL('npm-registry-signatures.json', vectors), 'utf8')) as Array<{ name: string; version: string; integrity: string; keyid: string; sig: string }>;

function verifies(key: RegistryKey, name: string, version: string, integrity: string, sig: string): boolean {
  const publicKey = createPublicKey({ key: Buffer.from(key.key, 'base64'), format: 'der', type: 'spki' });
  return verify('sha256', Buffer.from(signedMessage(name, version, integrity)), publicKey, Buffer.from(sig, 'base64'));
}

describe('keyIdOf', () => {
  it.each(npmKeys.keys.map((key) => [key.keyid, key] as const))('reproduces the npm registry keyid %s', (keyid, key) => {
    expect(keyIdOf(key.key)).toBe(keyid);
  });

  it('agrees with the real signatures: each names a key whose id we derive', () => {
    const byId = new Map(npmKeys.keys.map((key) => [keyIdOf(key.key), key]));
    for (const vector of npmSignatures.slice(0, 20)) {
      const key = byId.get(vector.keyid);
      expect(key, vector.keyid).toBeDefined();
      expect(verifies(key!, vector.name, vector.version, vector.integrity, vector.sig)).toBe(true);
    }
  });
});

describe('test keys', () => {
  it('are deterministic, distinct, and self-consistent', () => {
    expect(deriveSigningKey('active', null).record).toEqual(testKeys.active.record);
    const ids = [testKeys.active, testKeys.expired, testKeys.unknown].map((key) => key.record.keyid);
    expect(new Set(ids).size).toBe(3);
    for (const key of [testKeys.active, testKeys.expired, testKeys.unknown]) {
      expect(key.record.keyid).toBe(keyIdOf(key.record.key));
      expect(key.record.keytype).toBe('ecdsa-sha2-nistp256');
    }
  });

  it('serves active and expired keys, never the unknown one', () => {
    const { keys } = servedKeys();
    expect(keys.map((key) => key.keyid)).toEqual([testKeys.active.record.keyid, testKeys.expired.record.keyid]);
    expect(keys[0]!.expires).toBeNull();
    expect(keys[1]!.expires).toBe(EXPIRED_KEY_EXPIRES);
  });

  it('makes base64 DER ECDSA signatures over name@version:integrity that node:crypto verifies', () => {
    const integrity = 'sha512-abc';
    const { keyid, sig } = signVersion(testKeys.active, '@acme/logger', '2.1.0', integrity);
    expect(keyid).toBe(testKeys.active.record.keyid);
    expect(Buffer.from(sig, 'base64')[0]).toBe(0x30); // DER SEQUENCE
    expect(verifies(testKeys.active.record, '@acme/logger', '2.1.0', integrity, sig)).toBe(true);
    expect(verifies(testKeys.active.record, '@acme/logger', '2.1.1', integrity, sig)).toBe(false);
    expect(verifies(testKeys.expired.record, '@acme/logger', '2.1.0', integrity, sig)).toBe(false);
  });
});
