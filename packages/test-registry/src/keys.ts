/**
 * Test signing keys (ECDSA P-256), derived deterministically from fixed labels so every registry
 * start — and the demo's portcullis.json — sees the same keyids. These private keys are public
 * knowledge by construction: they must never be trusted outside tests.
 */
import { createECDH, createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';

/** One entry of `/-/npm/v1/keys`, the format npm, pnpm and Portcullis read. */
export interface RegistryKey {
  keyid: string;
  keytype: 'ecdsa-sha2-nistp256';
  scheme: 'ecdsa-sha2-nistp256';
  /** Base64 SPKI DER. */
  key: string;
  /** ISO date after which signatures made later are invalid; null = no expiry. */
  expires: string | null;
}

/** A signing key: its public record and the private half that signs. */
export interface SigningKey {
  record: RegistryKey;
  privateKey: KeyObject;
}

/** Expiry of the `expired` test key — the same date the npm registry's first key expired. */
export const EXPIRED_KEY_EXPIRES = '2025-01-29T00:00:00.000Z';

/** SSH wire-format string: uint32 big-endian length, then the bytes. */
function sshString(value: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  return Buffer.concat([length, value]);
}

/** The uncompressed EC point (0x04 || x || y) of a P-256 public key. */
function uncompressedPoint(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new Error('not a P-256 public key');
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

/**
 * The npm keyid of a P-256 public key (base64 SPKI DER): `SHA256:` + unpadded base64 of SHA-256 over
 * the key in OpenSSH wire format — i.e. the key's OpenSSH fingerprint.
 */
export function keyIdOf(spkiBase64: string): string {
  const publicKey = createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' });
  const wire = Buffer.concat([
    sshString(Buffer.from('ecdsa-sha2-nistp256')),
    sshString(Buffer.from('nistp256')),
    sshString(uncompressedPoint(publicKey)),
  ]);
  return `SHA256:${createHash('sha256').update(wire).digest('base64').replace(/=+$/, '')}`;
}

/** Derives a P-256 key from a label: private scalar = SHA-256(label) (below the curve order in practice). */
export function deriveSigningKey(label: string, expires: string | null): SigningKey {
  const scalar = createHash('sha256').update(`portcullis test key: ${label}`).digest();
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(scalar); // throws if the scalar is out of range, which SHA-256 output never is in practice
  const point = ecdh.getPublicKey();
  const privateKey = createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: scalar.toString('base64url'),
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
  const key = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
  return {
    privateKey,
    record: { keyid: keyIdOf(key), keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key, expires },
  };
}

/** The three test keys: `active` and `expired` are served by `/-/npm/v1/keys`; `unknown` signs but is never served. */
export const testKeys = {
  active: deriveSigningKey('active', null),
  expired: deriveSigningKey('expired', EXPIRED_KEY_EXPIRES),
  unknown: deriveSigningKey('unknown', null),
} as const;

/** The `/-/npm/v1/keys` body the test registry serves (a fresh copy each call). */
export function servedKeys(): { keys: RegistryKey[] } {
  return { keys: [{ ...testKeys.active.record }, { ...testKeys.expired.record }] };
}

/** The message a registry signs for one version: `${name}@${version}:${integrity}`. */
export function signedMessage(name: string, version: string, integrity: string): string {
  return `${name}@${version}:${integrity}`;
}

/** A registry signature entry: base64 DER ECDSA/SHA-256 over `name@version:integrity`. */
export function signVersion(key: SigningKey, name: string, version: string, integrity: string): { keyid: string; sig: string } {
  const sig = sign('sha256', Buffer.from(signedMessage(name, version, integrity)), { key: key.privateKey, dsaEncoding: 'der' });
  return { keyid: key.record.keyid, sig: sig.toString('base64') };
}
