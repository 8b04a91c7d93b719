// Test-only: a throwaway registry signing key, generated per run (never checked in).
import { generateKeyPairSync, sign } from 'node:crypto';
import type { RegistryKey } from '../model.js';
import { keyIdOf } from './keyid.js';

/** A fresh P-256 key in the `/-/npm/v1/keys` format, and a signer for `name@version:integrity`. */
export function makeSigningKey(expires: string | null = null): { record: RegistryKey; sign: (message: string) => string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    record: {
      keyid: keyIdOf(publicKey),
      keytype: 'ecdsa-sha2-nistp256',
      scheme: 'ecdsa-sha2-nistp256',
      key: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      expires,
    },
    sign: (message) => sign('sha256', Buffer.from(message), privateKey).toString('base64'),
  };
}
