/**
 * The plugin's settings, read from Verdaccio's config (the same block under `filters:` and `middlewares:`) as
 * hostile input: anything missing or malformed stops Verdaccio from starting, so a misconfigured instance never
 * serves unvetted packages. Key material is never quoted in an error.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { createRegistrySigner, keyIdOf, normalizeRegistryUrl, parseP256PublicKey, SigningKeyError, type RegistryKey, type RegistrySigner } from '@portcullis/core';

/** What the `portcullis` block of Verdaccio's config says, after validation. */
export interface PluginSettings {
  /** The organisation's portcullis.json (absolute). */
  policy: string;
  /** The registry Verdaccio's uplink proxies; its keys are the policy's `registries[upstream].keys`. */
  upstream: string;
  /** Signs every version served. */
  signer: RegistrySigner;
  /** Every key `/-/npm/v1/keys` publishes: the signing key, then retired keys with their `expires`. */
  keys: RegistryKey[];
  /** Core's metadata cache and memos (shared by instances on one host is fine: writes are atomic). */
  cacheDir: string;
  stateDir: string;
  /** How many name@version+integrity verdicts are kept in memory. */
  verdictCacheSize: number;
  /** How long a verdict counts before the version is judged again (new advisories, a changed policy). */
  recheckMs: number;
}

export class PluginConfigError extends Error {
  constructor(message: string) {
    super(`portcullis (Verdaccio plugin): ${message}`);
    this.name = 'PluginConfigError';
  }
}

type Raw = Record<string, unknown>;

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function path(raw: Raw, field: string, base: string): string | undefined {
  const value = raw[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new PluginConfigError(`"${field}" must be a path`);
  return isAbsolute(value) ? value : resolve(base, value);
}

/** Reads the PEM from a file or an environment variable; says where it looked, never what it found. */
function signingKeyPem(raw: unknown, base: string, env: NodeJS.ProcessEnv): { pem: string; source: string } {
  if (!isRecord(raw)) throw new PluginConfigError('"signingKey" must be { file: <path> } or { env: <VARIABLE> }');
  if (typeof raw.file === 'string' && raw.file.length > 0) {
    const file = isAbsolute(raw.file) ? raw.file : resolve(base, raw.file);
    try {
      return { pem: readFileSync(file, 'utf8'), source: `the file ${file}` };
    } catch (error) {
      throw new PluginConfigError(`cannot read the signing key file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (typeof raw.env === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(raw.env)) {
    const value = env[raw.env];
    if (value === undefined || value === '') throw new PluginConfigError(`the environment variable ${raw.env} (signingKey.env) is not set`);
    return { pem: value, source: `the environment variable ${raw.env}` };
  }
  throw new PluginConfigError('"signingKey" must be { file: <path> } or { env: <VARIABLE> }');
}

function retiredKeys(raw: unknown, signing: string): RegistryKey[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > 16) throw new PluginConfigError('"retiredKeys" must be a list (at most 16) of { key: <base64 SPKI DER>, expires: <ISO date> }');
  return raw.map((entry, i) => {
    if (!isRecord(entry) || typeof entry.key !== 'string' || typeof entry.expires !== 'string' || !Number.isFinite(Date.parse(entry.expires))) {
      throw new PluginConfigError(`retiredKeys[${i}] must be { key: <base64 SPKI DER>, expires: <ISO date> }: a retired key always expires`);
    }
    let keyid: string;
    try {
      keyid = keyIdOf(parseP256PublicKey(entry.key));
    } catch (error) {
      throw new PluginConfigError(`retiredKeys[${i}]: ${(error as Error).message}`);
    }
    if (keyid === signing) throw new PluginConfigError(`retiredKeys[${i}] is the signing key: a key that signs is not retired`);
    return { keyid, keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: entry.key, expires: new Date(Date.parse(entry.expires)).toISOString() };
  });
}

function positive(raw: Raw, field: string, fallback: number, max: number): number {
  const value = raw[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) throw new PluginConfigError(`"${field}" must be a whole number from 1 to ${max}`);
  return value;
}

/** Validates the plugin block; `configDir` is the folder of Verdaccio's config file (relative paths start there). */
export function readSettings(raw: unknown, configDir: string, env: NodeJS.ProcessEnv = process.env): PluginSettings {
  if (!isRecord(raw)) throw new PluginConfigError('the plugin needs a configuration block (policy, upstream, signingKey)');
  const policy = path(raw, 'policy', configDir);
  if (policy === undefined) throw new PluginConfigError('"policy" (the organisation\'s portcullis.json) is required');
  if (typeof raw.upstream !== 'string') throw new PluginConfigError('"upstream" (the URL the uplink proxies) is required');
  let upstream: string;
  try {
    upstream = normalizeRegistryUrl(raw.upstream);
  } catch {
    throw new PluginConfigError('"upstream" must be an http(s) URL');
  }
  const { pem, source } = signingKeyPem(raw.signingKey, configDir, env);
  let signer: RegistrySigner;
  try {
    signer = createRegistrySigner(pem);
  } catch (error) {
    // Core's messages never quote the key; say where it came from.
    if (error instanceof SigningKeyError) throw new PluginConfigError(`signingKey (${source}): ${error.message}`);
    throw error;
  }
  const home = join(tmpdir(), 'portcullis-verdaccio');
  return {
    policy,
    upstream,
    signer,
    keys: [signer.publicKey, ...retiredKeys(raw.retiredKeys, signer.keyid)],
    cacheDir: path(raw, 'cacheDir', configDir) ?? join(home, 'cache'),
    stateDir: path(raw, 'stateDir', configDir) ?? join(home, 'state'),
    verdictCacheSize: positive(raw, 'verdictCacheSize', 100_000, 10_000_000),
    recheckMs: positive(raw, 'recheckMinutes', 10, 24 * 60) * 60_000,
  };
}
