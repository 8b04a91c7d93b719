export { NPM_REGISTRY_KEYS, NPM_REGISTRY_URL } from './npm-keys.js';
export { KeyMaterialError, keyIdOf, parseKeyWithId, parseP256PublicKey, SUPPORTED_KEYTYPE } from './keyid.js';
export type { KeyMaterialErrorCode } from './keyid.js';
export {
  createKeyring,
  embeddedNpmKeys,
  Keyring,
  KeysResponseError,
  makeKeySet,
  MAX_KEYS_RESPONSE_BYTES,
  parseKeysResponse,
  refreshKeys,
  trustKey,
} from './keyring.js';
export type {
  CachedRegistryKeys,
  FetchRegistryKeys,
  KeyCache,
  KeyOrigin,
  KeyRefresh,
  RefreshKeysOptions,
  RegistryKeySet,
  TrustedKey,
} from './keyring.js';
export { SignatureMemo, verifyRegistrySignatures } from './verify.js';
export type { BadSignature, NeedsPublishTime, SignatureCheck, SignatureMemoJSON, SignatureVerdict } from './verify.js';
export { describeSignatureStripping, detectSignatureStripping } from './mirror.js';
export type { RegistryOutcome, SignatureStripping, StrippingOptions } from './mirror.js';
export { checkTarballIntegrity, type TarballIntegrity } from './tarball.js';
