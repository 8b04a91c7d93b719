/**
 * A registry signer: signs `name@version:integrity` with an ECDSA P-256 private key in npm's `dist.signatures`
 * format, for a registry that vets packages and vouches for them with its own key (the Verdaccio plugin). Every
 * signer proves itself on creation: a probe signature must pass the same verifier installs use.
 */
import { createPrivateKey, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { RegistryKey } from '../model.js';
import { keyIdOf, SUPPORTED_KEYTYPE } from './keyid.js';
import { createKeyring } from './keyring.js';
import { signedMessage, verifyRegistrySignatures } from './verify.js';

/** One `dist.signatures` entry. */
export interface RegistrySignature {
  keyid: string;
  sig: string;
}

/** Signs versions with one private key; the key material never leaves it (not in messages, not in `inspect`). */
export interface RegistrySigner {
  readonly keyid: string;
  /** The public half in the `/-/npm/v1/keys` format (`expires: null`: it is the key that signs now). */
  readonly publicKey: RegistryKey;
  sign(name: string, version: string, integrity: string): RegistrySignature;
}

/** Why a signing key was refused. Messages never quote the key. */
export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

// A PEM P-256 private key is a few hundred bytes; refuse anything far larger before parsing it.
const MAX_PEM_LENGTH = 8192;

/** A signer for a PEM private key (PKCS#8 or SEC1 `EC PRIVATE KEY`); `SigningKeyError` when it is not a usable P-256 key. */
export function createRegistrySigner(pem: string): RegistrySigner {
  if (typeof pem !== 'string' || pem.length === 0 || pem.length > MAX_PEM_LENGTH || !pem.includes('PRIVATE KEY-----')) {
    throw new SigningKeyError('the signing key is not a PEM private key');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new SigningKeyError('the signing key could not be read as a PEM private key (an encrypted key is not supported)');
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SigningKeyError(`the signing key is not an ECDSA P-256 key (${SUPPORTED_KEYTYPE})`);
  }
  const publicKeyObject = createPublicKey(privateKey);
  const keyid = keyIdOf(publicKeyObject);
  const publicKey: RegistryKey = {
    keyid,
    keytype: SUPPORTED_KEYTYPE,
    scheme: SUPPORTED_KEYTYPE,
    key: publicKeyObject.export({ format: 'der', type: 'spki' }).toString('base64'),
    expires: null,
  };
  const sign = (name: string, version: string, integrity: string): RegistrySignature => ({
    keyid,
    sig: cryptoSign('sha256', signedMessage(name, version, integrity), privateKey).toString('base64'),
  });
  selfTest(sign, publicKey);
  const signer: RegistrySigner = { keyid, publicKey, sign };
  // Keep the private key out of util.inspect / console.log of the signer.
  Object.defineProperty(signer, Symbol.for('nodejs.util.inspect.custom'), { value: () => `RegistrySigner { keyid: '${keyid}' }` });
  return signer;
}

/** Signs a probe and verifies it the way every install does; a signer that fails would vouch for nothing. */
function selfTest(sign: RegistrySigner['sign'], publicKey: RegistryKey): void {
  const registry = 'http://127.0.0.1/';
  const probe = { name: 'portcullis-self-test', version: '1.0.0', integrity: 'sha512-cHJvYmU=' };
  const verdict = verifyRegistrySignatures({
    ...probe,
    signatures: [sign(probe.name, probe.version, probe.integrity)],
    registry,
    keyring: createKeyring({ [registry]: { keys: [publicKey] } }),
  });
  if (verdict.status !== 'verified') throw new SigningKeyError(`the signing key failed its self-test (${verdict.status})`);
}
