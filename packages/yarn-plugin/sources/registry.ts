/**
 * Registry access the way Yarn does it: registries and scopes from Yarn's configuration, and a `fetch`
 * for the core's metadata client backed by Yarn's own HTTP stack (its auth, proxies, TLS settings,
 * `enableNetwork` and retries).
 */
import { createRegistryConfig, NPM_REGISTRY_URL, normalizeRegistryUrl, packumentUrl, type RegistryConfig, type RegistryFetch, type RegistryResponse } from '@portcullis/core';
import { httpUtils, structUtils, type Configuration, type Ident } from '@yarnpkg/core';
import { npmConfigUtils, npmHttpUtils } from '@yarnpkg/plugin-npm';
import type { ResolutionPackuments } from './resolution-packuments.js';

/** Whether the user set a configuration value (a built-in default has no source file). */
function isUserSet(configuration: Configuration, key: string): boolean {
  const source = configuration.sources.get(key);
  return source !== undefined && source !== '<default>';
}

/** Yarn's built-in default host (`npmRegistryServer`'s default, also each npmScopes entry's): it serves the npm registry. */
const YARN_DEFAULT_HOST = normalizeRegistryUrl('https://registry.yarnpkg.com');

/** Scopes Yarn fetches from a registry of their own without any configuration (Yarn 4.9+: `@jsr` from npm.jsr.io). */
const BUILT_IN_SCOPES = ['jsr'];

/** The default registry and per-scope registries Yarn installs from, as the core's RegistryConfig. */
export function yarnRegistryConfig(configuration: Configuration): RegistryConfig {
  // Yarn's built-in default host serves the npm registry's packages and signatures: judge it as that registry,
  // as `portcullis check` does for a project that sets no npmRegistryServer.
  const defaultRegistry = isUserSet(configuration, 'npmRegistryServer') ? npmConfigUtils.getDefaultRegistry({ configuration }) : NPM_REGISTRY_URL;
  const scopes: Record<string, string> = {};
  // Each scope as Yarn fetches it: an npmScopes entry without its own npmRegistryServer gets Yarn's built-in
  // host (the shape's default), not the top-level registry; that host is judged as the npm registry here too.
  for (const scope of new Set([...configuration.get('npmScopes').keys(), ...BUILT_IN_SCOPES])) {
    const registry = normalizeRegistryUrl(npmConfigUtils.getScopeRegistry(scope, { configuration }));
    scopes[scope] = registry === YARN_DEFAULT_HOST ? NPM_REGISTRY_URL : registry;
  }
  return createRegistryConfig({ defaultRegistry, scopes });
}

/** The HTTP status behind an error of Yarn's http utilities, if the server answered. */
function statusOf(error: unknown): number | undefined {
  const e = error as { originalError?: { response?: { statusCode?: number } }; response?: { statusCode?: number } };
  return e?.originalError?.response?.statusCode ?? e?.response?.statusCode;
}

/** The package name a registry request path is about (`/@scope%2fname`, `/name`), for Yarn's scoped auth. */
function identOfPath(path: string) {
  const segments = path.replace(/^\/+/, '').split('/');
  const first = decodeURIComponent(segments[0] ?? '');
  const name = first.startsWith('@') && !first.includes('/') ? `${first}/${decodeURIComponent(segments[1] ?? '')}` : first;
  if (name === '' || name.startsWith('-')) return undefined;
  return structUtils.tryParseIdent(name) ?? undefined;
}

/** The registry a URL is on, of those given (the longest that prefixes it). */
function registryOf(url: string, registries: readonly string[]): string | undefined {
  return registries.filter((r) => url.startsWith(r)).sort((a, b) => b.length - a.length)[0];
}

/** The URL Yarn's npm HTTP utilities request for a path on a registry (`npmHttpUtils.get`: the registry without its trailing slash, then the path). */
function yarnRequestUrl(registry: string, path: string): string {
  return `${normalizeRegistryUrl(registry).replace(/\/$/, '')}${path}`;
}

/**
 * The URL of a package's packument when Yarn's resolver and the gate's client ask for the very same one (the same
 * registry, so the same credentials), else undefined: the gate's registry for a name can differ from Yarn's (Yarn's
 * built-in default host is judged as the npm registry).
 */
export function sharedPackumentUrl(configuration: Configuration, registries: RegistryConfig, name: string): string | undefined {
  // The parts getIdentUrl reads, without the hash structUtils makes of every ident (~10 ms a cold install of 1,000 packages).
  const scoped = /^@([^/@]+)\/([^/@]+)$/.exec(name);
  if (scoped === null && (name.includes('/') || name.includes('@') || name === '')) return undefined;
  const ident = scoped !== null ? { scope: scoped[1]!, name: scoped[2]! } : { scope: null, name };
  const yarns = `${npmConfigUtils.getScopeRegistry(ident.scope, { configuration })}${npmHttpUtils.getIdentUrl(ident as Ident)}`;
  const registry = normalizeRegistryUrl(registries.registryFor(name));
  const gates = yarnRequestUrl(registry, `/${packumentUrl(registry, name).slice(registry.length)}`);
  return yarns === gates ? gates : undefined;
}

/** Yarn's helpers hand over bodies only: no header of the response reaches the client. */
const NO_HEADERS: RegistryResponse['headers'] = { get: () => null };

/**
 * The core's registry client's requests, through Yarn's npm HTTP utilities. Conditional headers are dropped (Yarn's
 * helpers return bodies, not 304s), so every answer is a full 200 or an error status; a body is handed over as the
 * bytes Yarn's helpers returned (a web Response around them cost ~80 ms of a cold install of 1,000 packages). During
 * a resolution, a packument Yarn itself is fetching for the gate (see resolution-packuments.ts) is Yarn's bytes.
 */
export function yarnFetch(configuration: Configuration, registries: RegistryConfig, packuments?: ResolutionPackuments): RegistryFetch {
  const known = [registries.defaultRegistry, ...Object.values(registries.scopes)];
  async function fromRegistry(registry: string, path: string, headers: Record<string, string>): Promise<Buffer> {
    const full = !(headers.accept ?? '').includes('install-v1');
    const yarns = await packuments?.take(yarnRequestUrl(registry, path), full);
    if (yarns !== undefined) return yarns;
    const ident = identOfPath(path);
    // Yarn adds the token it would use for this registry (and scope) itself.
    delete headers.authorization;
    // Yarn memoizes GET bodies by URL whatever the Accept header, so a full packument (needed for
    // `time` when an expired key is involved) would come back abbreviated. A wrapNetworkRequest turns
    // that memo off for these rare requests.
    const bypassMemo = full ? { wrapNetworkRequest: async <T>(executor: () => Promise<T>) => executor } : {};
    return await npmHttpUtils.get(path, { configuration, registry: normalizeRegistryUrl(registry).replace(/\/$/, ''), headers, jsonResponse: false, ...bypassMemo, ...(ident ? { ident } : {}) });
  }
  return async (url, init) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(init.headers)) {
      const key = name.toLowerCase();
      if (key !== 'if-none-match' && key !== 'if-modified-since') headers[key] = value;
    }
    const registry = registryOf(url, known);
    try {
      // Not a registry Yarn is configured with: no credentials go there.
      const body: Buffer = registry === undefined ? await httpUtils.get(url, { configuration, headers, jsonResponse: false }) : await fromRegistry(registry, `/${url.slice(registry.length)}`, headers);
      return { status: 200, headers: NO_HEADERS, body };
    } catch (error) {
      const status = statusOf(error);
      if (status !== undefined && status !== 200 && status !== 304) return { status, headers: NO_HEADERS, body: null };
      throw error;
    }
  };
}
