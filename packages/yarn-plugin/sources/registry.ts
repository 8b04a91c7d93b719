/**
 * Registry access the way Yarn does it: registries and scopes from Yarn's configuration, and a `fetch`
 * for the core's metadata client backed by Yarn's own HTTP stack (its auth, proxies, TLS settings,
 * `enableNetwork` and retries).
 */
import { createRegistryConfig, NPM_REGISTRY_URL, normalizeRegistryUrl, type RegistryConfig } from '@portcullis/core';
import { httpUtils, structUtils, type Configuration } from '@yarnpkg/core';
import { npmConfigUtils, npmHttpUtils } from '@yarnpkg/plugin-npm';

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

/**
 * A `fetch` for the core's registry client that goes through Yarn's npm HTTP utilities. Conditional
 * headers are dropped (Yarn's helpers return bodies, not 304s), so every answer is a full 200 or an error status.
 */
export function yarnFetch(configuration: Configuration, registries: RegistryConfig): typeof fetch {
  const known = [registries.defaultRegistry, ...Object.values(registries.scopes)];
  return (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input);
    const headers: Record<string, string> = {};
    for (const [key, value] of new Headers(init?.headers).entries()) {
      if (key !== 'if-none-match' && key !== 'if-modified-since') headers[key] = value;
    }
    const registry = known.filter((r) => url.startsWith(r)).sort((a, b) => b.length - a.length)[0];
    try {
      let body: Buffer;
      if (registry !== undefined) {
        const path = `/${url.slice(registry.length)}`;
        const ident = identOfPath(path);
        // Yarn adds the token it would use for this registry (and scope) itself.
        delete headers.authorization;
        // Yarn memoizes GET bodies by URL whatever the Accept header, so a full packument (needed for
        // `time` when an expired key is involved) would come back abbreviated. A wrapNetworkRequest turns
        // that memo off for these rare requests.
        const full = !(headers.accept ?? '').includes('install-v1');
        const bypassMemo = full ? { wrapNetworkRequest: async <T>(executor: () => Promise<T>) => executor } : {};
        body = await npmHttpUtils.get(path, { configuration, registry: normalizeRegistryUrl(registry).replace(/\/$/, ''), headers, jsonResponse: false, ...bypassMemo, ...(ident ? { ident } : {}) });
      } else {
        // Not a registry Yarn is configured with: no credentials go there.
        body = await httpUtils.get(url, { configuration, headers, jsonResponse: false });
      }
      // A view of the same bytes (no copy).
      return new Response(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), { status: 200 });
    } catch (error) {
      const status = statusOf(error);
      if (status !== undefined && status !== 200 && status !== 304) return new Response(null, { status });
      throw error;
    }
  }) as typeof fetch;
}
