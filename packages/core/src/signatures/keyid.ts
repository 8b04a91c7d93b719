import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** The only key type and scheme npm-compatible registries sign with today. */
export const SUPPORTED_KEYTYPE = 'ecdsa-sha2-nistp256';

/** Why key material was refused; `KeyMaterialError.code` lets callers branch. */
export type KeyMaterialErrorCode = 'KEY_UNSUPPORTED' | 'KEY_MALFORMED' | 'KEYID_MISMATCH';

/** Key material that cannot be trusted as written: a stable code plus one sentence. */
export class KeyMaterialError extends Error {
  readonly code: KeyMaterialErrorCode;
  constructor(code: KeyMaterialErrorCode, message: string) {
    super(message);
    this.name = 'KeyMaterialError';
    this.code = code;
  }
}

// A P-256 SPKI DER is 91 bytes; anything far larger is not a key we could use.
const MAX_SPKI_BASE64_LENGTH = 512;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses base64 SPKI DER into a P-256 public KeyObject, or throws `KeyMaterialError`. */
export function parseP256PublicKey(spkiBase64: string): KeyObject {
  if (typeof spkiBase64 !== 'string' || spkiBase64.length === 0 || spkiBase64.length > MAX_SPKI_BASE64_LENGTH || !BASE64.test(spkiBase64)) {
    throw new KeyMaterialError('KEY_MALFORMED', 'the key is not base64-encoded SPKI DER');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new KeyMaterialError('KEY_MALFORMED', 'the key is not a valid SPKI DER public key');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new KeyMaterialError('KEY_UNSUPPORTED', `the key is not an ECDSA P-256 key (${SUPPORTED_KEYTYPE})`);
  }
  return key;
}

/** The uncompressed EC point (0x04 || X || Y) of a P-256 public key. */
function uncompressedPoint(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
    throw new KeyMaterialError('KEY_MALFORMED', 'the key has no EC point');
  }
  const x = Buffer.from(jwk.x, 'base64url');
  const y = Buffer.from(jwk.y, 'base64url');
  if (x.length !== 32 || y.length !== 32) throw new KeyMaterialError('KEY_MALFORMED', 'the key has a malformed EC point');
  return Buffer.concat([Buffer.of(0x04), x, y]);
}

/** An SSH wire-format `string`: uint32 big-endian length, then the bytes. */
function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * The registry keyid of a P-256 public key: `SHA256:` + unpadded base64 of SHA-256 over the
 * OpenSSH wire-format key — the same string `ssh-keygen -l` prints, not a hash of the SPKI.
 */
export function keyIdOf(key: KeyObject): string {
  const wire = Buffer.concat([
    sshString(Buffer.from(SUPPORTED_KEYTYPE)),
    sshString(Buffer.from('nistp256')),
    sshString(uncompressedPoint(key)),
  ]);
  return `SHA256:${createHash('sha256').update(wire).digest('base64').replace(/=+$/, '')}`;
}

/** Parses a key and checks that its declared keyid is the fingerprint of its material. */
export function parseKeyWithId(declaredKeyid: string, spkiBase64: string): KeyObject {
  const key = parseP256PublicKey(spkiBase64);
  const actual = keyIdOf(key);
  if (actual !== declaredKeyid) {
    throw new KeyMaterialError('KEYID_MISMATCH', `its key material has keyid ${actual}, not ${declaredKeyid}`);
  }
  return key;
}
