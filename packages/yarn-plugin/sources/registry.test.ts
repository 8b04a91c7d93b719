import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NPM_REGISTRY_URL } from '@portcullis/core';
import { Configuration } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import npmPlugin, { npmConfigUtils } from '@yarnpkg/plugin-npm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { yarnFetch, yarnRegistryConfig } from './registry.js';

async function configuration(values: Record<string, unknown>): Promise<Configuration> {
  const configuration = await Configuration.create(npath.toPortablePath(process.cwd()), null, new Map([['@yarnpkg/plugin-npm', npmPlugin]]));
  if (Object.keys(values).length > 0) configuration.useWithSource('<test>', values, npath.toPortablePath(process.cwd()), { overwrite: true });
  return configuration;
}

describe('yarnRegistryConfig', () => {
  it('judges Yarn\'s built-in default host as the npm registry when npmRegistryServer is not set by the user', async () => {
    const config = yarnRegistryConfig(await configuration({}));
    expect(config.defaultRegistry).toBe(NPM_REGISTRY_URL);
    expect(config.registryFor('left-pad')).toBe(NPM_REGISTRY_URL);
    expect(config.registryFor('@acme/x')).toBe(NPM_REGISTRY_URL);
    // the only scope with a registry of its own is the one Yarn knows without configuration
    expect(config.scopes).toEqual({ '@jsr': 'https://npm.jsr.io/' });
  });

  it('uses the npmRegistryServer the user set, normalized', async () => {
    const config = yarnRegistryConfig(await configuration({ npmRegistryServer: 'http://127.0.0.1:4873/' }));
    expect(config.defaultRegistry).toBe('http://127.0.0.1:4873/');
    expect(config.registryFor('good')).toBe('http://127.0.0.1:4873/');
    expect(config.registryFor('@other/z')).toBe('http://127.0.0.1:4873/');
  });

  it('maps npmScopes that name their own registry; other scopes use the default', async () => {
    const config = yarnRegistryConfig(
      await configuration({ npmRegistryServer: 'http://127.0.0.1:4873', npmScopes: { acme: { npmRegistryServer: 'https://npm.acme.example/api/' } } }),
    );
    expect(config.scopes).toEqual({ '@acme': 'https://npm.acme.example/api/', '@jsr': 'https://npm.jsr.io/' });
    expect(config.registryFor('@acme/x')).toBe('https://npm.acme.example/api/');
    expect(config.registryFor('@other/z')).toBe('http://127.0.0.1:4873/');
    expect(config.registryFor('good')).toBe('http://127.0.0.1:4873/');
  });

  it('a scope that sets only credentials is judged where Yarn fetches it (its built-in host), as the npm registry', async () => {
    // Yarn's npmScopes shape defaults npmRegistryServer to https://registry.yarnpkg.com, whatever the top level says
    // (a private scope on npmjs.com with a token is set up exactly like this).
    for (const top of [{}, { npmRegistryServer: 'http://127.0.0.1:4873' }]) {
      const yarn = await configuration({ ...top, npmScopes: { tokenonly: { npmAuthToken: 'x', npmAlwaysAuth: true } } });
      expect(npmConfigUtils.getScopeRegistry('tokenonly', { configuration: yarn })).toBe('https://registry.yarnpkg.com');
      expect(yarnRegistryConfig(yarn).registryFor('@tokenonly/y')).toBe(NPM_REGISTRY_URL);
    }
  });

  it('a scope registry under the default (npm) host is still that scope\'s; a user\'s own jsr setting wins', async () => {
    const config = yarnRegistryConfig(
      await configuration({ npmScopes: { acme: { npmRegistryServer: 'http://127.0.0.1:4873/acme' }, jsr: { npmRegistryServer: 'http://127.0.0.1:4873/jsr-mirror' } } }),
    );
    expect(config.defaultRegistry).toBe(NPM_REGISTRY_URL);
    expect(config.registryFor('@acme/x')).toBe('http://127.0.0.1:4873/acme/');
    expect(config.registryFor('@jsr/std__path')).toBe('http://127.0.0.1:4873/jsr-mirror/');
  });
});

describe('yarnFetch', () => {
  /** Every request the local server saw: its path and headers. */
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      if (req.url === '/registry/missing' || req.url === '/elsewhere/missing') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ served: req.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** A project with its default registry at `/registry` and the `@acme` scope at `/acme`, each with its own token. */
  async function setup() {
    const config = await configuration({
      unsafeHttpWhitelist: ['127.0.0.1'],
      httpRetry: '0',
      npmRegistryServer: `${base}/registry`,
      npmAuthToken: 'default-token',
      npmAlwaysAuth: true,
      npmScopes: { acme: { npmRegistryServer: `${base}/acme`, npmAuthToken: 'acme-token' } },
    });
    const fetch = yarnFetch(config, yarnRegistryConfig(config));
    // as the core's client asks
    return (url: string, headers: Record<string, string> = {}) => fetch(url, { headers, signal: AbortSignal.timeout(10_000), redirect: 'manual' });
  }

  const lastRequest = () => seen[seen.length - 1]!;

  it('answers a registry\'s 200 with the same bytes, authenticated the way Yarn would', async () => {
    const fetch = await setup();
    const response = await fetch(`${base}/registry/good`, { Accept: 'application/vnd.npm.install-v1+json', 'If-None-Match': '"etag"' });
    expect(response.status).toBe(200);
    expect(response.body).toBeInstanceOf(Uint8Array);
    expect(JSON.parse(Buffer.from(response.body as Uint8Array).toString('utf8'))).toEqual({ served: '/registry/good' });
    expect(lastRequest().headers.accept).toBe('application/vnd.npm.install-v1+json');
    expect(lastRequest().url).toBe('/registry/good');
    expect(lastRequest().headers.authorization).toBe('Bearer default-token');
    // Yarn's helpers return bodies, not 304s: conditional headers are not sent
    expect(lastRequest().headers['if-none-match']).toBeUndefined();
  });

  it('a scoped package goes to its scope\'s registry with the scope\'s token', async () => {
    const fetch = await setup();
    const response = await fetch(`${base}/acme/@acme%2fx`);
    expect(response.status).toBe(200);
    expect(lastRequest().url).toBe('/acme/@acme%2fx');
    expect(lastRequest().headers.authorization).toBe('Bearer acme-token');
  });

  it('replaces an authorization header of the caller with Yarn\'s own for the registry', async () => {
    const fetch = await setup();
    await fetch(`${base}/registry/other`, { authorization: 'Bearer from-caller' });
    expect(lastRequest().headers.authorization).toBe('Bearer default-token');
  });

  it('answers a 404 with a 404 response (not a thrown error)', async () => {
    const fetch = await setup();
    const response = await fetch(`${base}/registry/missing`);
    expect(response.status).toBe(404);
    expect(lastRequest().url).toBe('/registry/missing');
  });

  it('sends no credentials to a URL outside every configured registry, even on the same host and a prefix of its path', async () => {
    const fetch = await setup();
    for (const path of ['/registry-evil/good', '/elsewhere/x']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(200);
      expect(lastRequest().url).toBe(path);
      expect(lastRequest().headers.authorization).toBeUndefined();
    }
    const missing = await fetch(`${base}/elsewhere/missing`);
    expect(missing.status).toBe(404);
    expect(lastRequest().headers.authorization).toBeUndefined();
  });
});
