import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createKeyring } from './keyring.js';
import { createRegistrySigner, SigningKeyError } from './signer.js';
import { verifyRegistrySignatures } from './verify.js';

const REGISTRY = 'http://127.0.0.1:4873/';
const p256 = (type: 'pkcs8' | 'sec1' = 'pkcs8') => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type }).toString();

describe('createRegistrySigner', () => {
  it('signs name@version:integrity so that the verifier installs use accepts it, and only for that triple', () => {
    for (const pem of [p256('pkcs8'), p256('sec1')]) {
      const signer = createRegistrySigner(pem);
      const keyring = createKeyring({ [REGISTRY]: { keys: [signer.publicKey] } });
      const signature = signer.sign('@acme/widget', '1.2.3', 'sha512-AAAA');
      expect(signature.keyid).toBe(signer.keyid);
      const check = { name: '@acme/widget', version: '1.2.3', integrity: 'sha512-AAAA', signatures: [signature], registry: REGISTRY, keyring };
      expect(verifyRegistrySignatures(check).status).toBe('verified');
      expect(verifyRegistrySignatures({ ...check, integrity: 'sha512-BBBB' }).status).toBe('bad-signature');
      expect(verifyRegistrySignatures({ ...check, version: '1.2.4' }).status).toBe('bad-signature');
    }
  });

  it('publishes its public key in the /-/npm/v1/keys format, never the private key', () => {
    const pem = p256();
    const signer = createRegistrySigner(pem);
    expect(signer.publicKey).toMatchObject({ keyid: signer.keyid, keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', expires: null });
    expect(signer.keyid).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const body = pem.split('\n')[1]!;
    expect(JSON.stringify(signer)).not.toContain(body);
    expect(inspect(signer, { depth: 5, showHidden: true })).not.toContain(body);
  });

  it('refuses what is not a P-256 private key, without quoting it', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const broken = `${p256().slice(0, 70)}\n-----END PRIVATE KEY-----\n`;
    for (const pem of [rsa, p384, broken, 'not a key', '', 'x'.repeat(10_000)]) {
      let error: unknown;
      try {
        createRegistrySigner(pem);
      } catch (e) {
        error = e;
      }
      expect(error, pem.slice(0, 40)).toBeInstanceOf(SigningKeyError);
      const line = pem.split('\n')[1];
      if (line) expect((error as Error).message).not.toContain(line.slice(0, 16));
    }
  });
});
