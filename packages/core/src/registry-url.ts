/**
 * Registry URLs: where a packument lives, the `//host/path/` form npm keys credentials by, and
 * redaction so that no message ever carries a secret that was written into a URL.
 */
import { PortcullisError } from './errors.js';

const REDACTED = '***';

/**
 * Normalizes a registry base URL so that every module keys registries the same way: lower-case scheme
 * and host, default port dropped, credentials/query/fragment dropped, exactly one trailing slash.
 * Throws a USAGE error for anything that is not an http(s) URL; the error never echoes a secret.
 */
export function normalizeRegistryUrl(url: string): string {
  const known = normalizedUrls.get(url);
  if (known !== undefined) return known;
  const result = normalizedUrl(url);
  // A graph names a handful of registries, asked for per package: parsed once each.
  if (normalizedUrls.size >= 256) normalizedUrls.clear();
  normalizedUrls.set(url, result);
  return result;
}

/** normalizeRegistryUrl's answers, by the exact text asked (failures are not kept: they throw again). */
const normalizedUrls = new Map<string, string>();

function normalizedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw notARegistry(url);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw notARegistry(url);
  // WHATWG URL already lower-cases scheme and host and drops the scheme's default port.
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}/`;
}

function notARegistry(url: string): PortcullisError {
  const shown = redactUrl(String(url));
  return new PortcullisError('USAGE', `"${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}" is not an http(s) registry URL (expected e.g. https://registry.example/)`);
}

/** The URL of a package's metadata document: scoped names as `@scope%2fname`, as npm requests them. */
export function packumentUrl(registry: string, name: string): string {
  return `${registry}${name.replace('/', '%2f')}`;
}

/**
 * The URL of a version's attestations on its registry (`/-/npm/v1/attestations/@scope%2fname@1.0.0`). Always this
 * one, on the package's own registry: the `dist.attestations.url` a packument names is not followed (it could send
 * the request, and the registry's credentials, anywhere).
 */
export function attestationsUrl(registry: string, name: string, version: string): string {
  return `${registry}-/npm/v1/attestations/${name.replace('/', '%2f')}@${encodeURIComponent(version)}`;
}

/** The URL of a registry's signing keys (`/-/npm/v1/keys`). */
export function keysUrl(registry: string): string {
  return `${registry}-/npm/v1/keys`;
}

/** `text` as an http(s) URL, else undefined. */
export function httpUrl(text: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
}

/**
 * npm's "nerf dart" of a URL: `//host[:port]/directory/`, the prefix credentials are keyed by.
 * The scheme is dropped (as npm does) and the last path segment, if not a directory, too.
 */
export function nerfDart(url: string): string | null {
  const parsed = httpUrl(url);
  if (parsed === undefined) return null;
  const dir = parsed.pathname.slice(0, parsed.pathname.lastIndexOf('/') + 1) || '/';
  return `//${parsed.host}${dir}`;
}

/**
 * Removes what a URL may carry as a secret: user-info (`user:token@`) and the values of query
 * parameters. Text that is not a URL is returned with any `scheme://user:pass@` runs masked.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return redactUrlsIn(url);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    parsed.username = REDACTED;
    parsed.password = '';
  }
  for (const key of [...parsed.searchParams.keys()]) parsed.searchParams.set(key, REDACTED);
  // URL re-encodes the mask; show it plainly.
  return parsed.href.replaceAll(encodeURIComponent(REDACTED), REDACTED);
}

/** Masks user-info and query values of every URL inside free text (error reasons, log lines). */
export function redactUrlsIn(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]*@/gi, `$1${REDACTED}@`)
    .replace(/([?&][^=\s&#'"]+=)[^\s&#'"]*/g, `$1${REDACTED}`);
}

/** The npm registry: the default registry of npm, pnpm and Yarn, and the one whose keys Portcullis embeds. */
export const NPM_REGISTRY_URL = 'https://registry.npmjs.org/';
