/** Registry configuration, the metadata client and its on-disk cache. */
export { DEFAULT_REGISTRY, RegistryCredentials, createRegistryConfig, normalizeAuthPrefix } from './config.js';
export type { RegistryConfig, RegistryConfigInput } from './config.js';
export { expandEnv, loadNpmConfig, npmConfigFromEnv, parseNpmrc, registryConfigFromNpmrc } from './npmrc.js';
export type { Env, LoadNpmConfigOptions } from './npmrc.js';
export { MAX_PACKUMENT_BYTES, packumentFromJson, packumentToJson, packumentVersionFromJson, parsePackument } from './packument.js';
export type { DistSignature, Packument, PackumentDist, PackumentKind, PackumentVersion, ParsePackumentOptions } from './packument.js';
export { MAX_KEYS_BYTES, keysFromJson, parseKeys } from './keys.js';
export { cacheKey, createMetadataCache, defaultCacheDir } from './cache.js';
export type { CacheEntry, CacheKind, MetadataCache } from './cache.js';
export { createRegistryClient } from './client.js';
export type { GetPackumentOptions, RegistryClient, RegistryClientOptions } from './client.js';
export { keysUrl, nerfDart, normalizeRegistryUrl, packumentUrl, redactUrl, redactUrlsIn } from './url.js';
export { loadYarnConfig } from './yarnrc.js';
