/**
 * Registry configuration as every package manager expresses it: a default registry, per-scope
 * registries, and credentials keyed by URL prefix. Built from `.npmrc` (npmrc.ts) or directly by
 * an adapter that reads `.yarnrc.yml` / `pnpm-workspace.yaml`.
 */
import { inspect } from 'node:util';
import { nerfDart, normalizeRegistryUrl, NPM_REGISTRY_URL, redactUrlsIn } from '../registry-url.js';

/** The registry used when nothing configures another. */

const MASK = '***';

/**
 * Credentials for one URL prefix. The secret lives in a private field so that logging,
 * `JSON.stringify` or `util.inspect` of a config can never print it.
 */
export class RegistryCredentials {
  readonly kind: 'bearer' | 'basic';
  readonly #authorization: string;
  readonly #secrets: readonly string[];

  private constructor(kind: 'bearer' | 'basic', authorization: string, secrets: string[]) {
    this.kind = kind;
    this.#authorization = authorization;
    this.#secrets = secrets.filter((s) => s.length >= 4);
  }

  /** A bearer token (`:_authToken`). */
  static bearer(token: string): RegistryCredentials {
    return new RegistryCredentials('bearer', `Bearer ${token}`, [token]);
  }

  /** Basic credentials from a username and a plain password (`:username` + base64-decoded `:_password`). */
  static basic(username: string, password: string): RegistryCredentials {
    const encoded = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
    return new RegistryCredentials('basic', `Basic ${encoded}`, [password, encoded]);
  }

  /** Basic credentials already encoded as base64 `user:password` (`:_auth`). */
  static basicEncoded(encoded: string): RegistryCredentials {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const password = decoded.includes(':') ? decoded.slice(decoded.indexOf(':') + 1) : decoded;
    return new RegistryCredentials('basic', `Basic ${encoded}`, [encoded, password]);
  }

  /** The value of the `Authorization` header. */
  authorization(): string {
    return this.#authorization;
  }

  /** Replaces every occurrence of this credential's secrets in `text`. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.replaceAll(secret, MASK);
    return out;
  }

  toJSON(): { kind: string; secret: string } {
    return { kind: this.kind, secret: MASK };
  }

  [inspect.custom](): string {
    return `RegistryCredentials { kind: '${this.kind}', secret: '${MASK}' }`;
  }
}

/** Where packages come from and which credentials go to which URL prefix. */
export interface RegistryConfig {
  /** Normalized (trailing slash) registry for unscoped names and scopes without their own. */
  readonly defaultRegistry: string;
  /** `@scope` → normalized registry URL. */
  readonly scopes: Readonly<Record<string, string>>;
  /** `//host[:port]/path/` → credentials, as npm keys them. */
  readonly auth: Readonly<Record<string, RegistryCredentials>>;
  /** The registry a package name is fetched from: its scope's registry first, else the default. */
  registryFor(name: string): string;
  /** The credentials for a request URL: the longest configured `//host/path/` prefix of it, never another host's. */
  authFor(url: string): RegistryCredentials | null;
  /** Masks every configured secret and every URL's user-info/query in `text`; use on any message that mentions a URL. */
  redact(text: string): string;
}

/** What createRegistryConfig accepts; URLs are normalized, credential keys may be URLs or `//host/path/`. */
export interface RegistryConfigInput {
  defaultRegistry?: string;
  scopes?: Record<string, string>;
  auth?: Record<string, RegistryCredentials>;
}

/** Builds a RegistryConfig; throws USAGE for a registry URL that is not http(s). */
export function createRegistryConfig(input: RegistryConfigInput = {}): RegistryConfig {
  const defaultRegistry = normalizeRegistryUrl(input.defaultRegistry ?? NPM_REGISTRY_URL);
  // Null prototypes: a scope or prefix named `__proto__` or `constructor` is just a key.
  const scopes: Record<string, string> = Object.create(null);
  for (const [scope, url] of Object.entries(input.scopes ?? {})) {
    const key = scope.startsWith('@') ? scope : `@${scope}`;
    scopes[key] = normalizeRegistryUrl(url);
  }
  const auth: Record<string, RegistryCredentials> = Object.create(null);
  for (const [prefix, credentials] of Object.entries(input.auth ?? {})) {
    const key = normalizeAuthPrefix(prefix);
    if (key !== null) auth[key] = credentials;
  }
  Object.freeze(scopes);
  Object.freeze(auth);

  const allCredentials = Object.values(auth);
  return Object.freeze({
    defaultRegistry,
    scopes,
    auth,
    registryFor(name: string): string {
      if (name.startsWith('@')) {
        const slash = name.indexOf('/');
        const scoped = slash > 0 ? scopes[name.slice(0, slash)] : undefined;
        if (scoped !== undefined) return scoped;
      }
      return defaultRegistry;
    },
    authFor(url: string): RegistryCredentials | null {
      const dart = nerfDart(url);
      if (dart === null) return null;
      // Walk up the path one directory at a time, as npm does; stop at `//host/`, so a
      // credential is only ever sent to the host it was configured for.
      const hostEnd = dart.indexOf('/', 2);
      let prefix = dart;
      while (prefix.length > hostEnd) {
        const found = auth[prefix];
        if (found !== undefined) return found;
        prefix = prefix.slice(0, prefix.lastIndexOf('/', prefix.length - 2) + 1);
      }
      return null;
    },
    redact(text: string): string {
      let out = text;
      for (const credentials of allCredentials) out = credentials.redact(out);
      return redactUrlsIn(out);
    },
  });
}

/**
 * `//host[:port]/path/` (as written in .npmrc) or a registry URL → the canonical prefix: lower-case
 * host, exactly one trailing slash. Returns null for anything without a host.
 */
export function normalizeAuthPrefix(prefix: string): string | null {
  const text = prefix.trim();
  if (!text.startsWith('//')) {
    // A full URL: key it the way request URLs are keyed (URL drops the scheme's default port).
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      return null;
    }
    if (parsed.host === '') return null;
    return `//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}/`;
  }
  // As npm does, an explicit port in a `//host:port/` key is compared literally.
  const match = /^\/\/([^/?#@\s]+)([^?#\s]*)$/.exec(text);
  if (match === null) return null;
  return `//${match[1]!.toLowerCase()}${(match[2] ?? '').replace(/\/+$/, '')}/`;
}
