import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyMaterialError, keyIdOf, parseKeyWithId, parseP256PublicKey } from './keyid.js';
import { NPM_REGISTRY_KEYS } from './npm-keys.js';
import { readVectors } from './vectors.fixture.js';

const spki = (key: import('node:crypto').KeyObject) => key.export({ format: 'der', type: 'spki' }).toString('base64');

describe('keyIdOf', () => {
  it('computes the OpenSSH fingerprint npm uses as keyid, for both embedded keys', () => {
    for (const record of NPM_REGISTRY_KEYS) {
      expect(keyIdOf(parseP256PublicKey(record.key))).toBe(record.keyid);
    }
  });

  it('embeds exactly the key material of the shared vectors', () => {
    const shared = readVectors<{ keys: typeof NPM_REGISTRY_KEYS }>('npm-registry-keys.json').keys;
    const byId = (keys: typeof NPM_REGISTRY_KEYS) => [...keys].sort((a, b) => a.keyid.localeCompare(b.keyid));
    expect(byId(NPM_REGISTRY_KEYS)).toEqual(byId(shared));
  });

  it('is not a hash of the SPKI', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(keyIdOf(publicKey)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('parseKeyWithId', () => {
  it('accepts a key whose keyid matches its material', () => {
    const [record] = NPM_REGISTRY_KEYS;
    expect(parseKeyWithId(record!.keyid, record!.key).asymmetricKeyType).toBe('ec');
  });

  it('rejects a keyid that belongs to another key', () => {
    const [oldKey, newKey] = NPM_REGISTRY_KEYS;
    const attempt = () => parseKeyWithId(oldKey!.keyid, newKey!.key);
    expect(attempt).toThrow(KeyMaterialError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'KEYID_MISMATCH' }));
  });

  it('rejects other curves and algorithms', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    const ed = generateKeyPairSync('ed25519').publicKey;
    for (const key of [p384, ed]) {
      expect(() => parseP256PublicKey(spki(key))).toThrow(expect.objectContaining({ code: 'KEY_UNSUPPORTED' }));
    }
  });

  it('rejects malformed material', () => {
    for (const bad of ['', 'not base64!', 'AAAA', 'A'.repeat(4096), 42 as unknown as string]) {
      expect(() => parseP256PublicKey(bad)).toThrow(expect.objectContaining({ code: 'KEY_MALFORMED' }));
    }
  });
});
