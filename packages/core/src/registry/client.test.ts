import { readdir, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PortcullisError } from '../errors.js';
import { createRegistryClient, type RegistryClientOptions, type RegistryFetch } from './client.js';
import { RegistryCredentials, createRegistryConfig } from './config.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const TOKEN = 'npm_s3cretT0kenValue';
const KEY = { keyid: `SHA256:${'k'.repeat(43)}`, keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: 'AAAA', expires: null };

function packument(name: string, versions: string[] = ['1.0.0']): string {
  return JSON.stringify({
    name,
    versions: Object.fromEntries(
      versions.map((v) => [v, { name, version: v, dist: { integrity: `sha512-${v}`, signatures: [{ keyid: 'SHA256:k', sig: 'sig' }] }, scripts: { postinstall: 'x' } }]),
    ),
    time: Object.fromEntries(versions.map((v) => [v, '2024-01-01T00:00:00.000Z'])),
  });
}

function json(res: ServerResponse, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

/**
 * Records the waits of the client's retry backoff from now on: the delays of the timers whose callback is a
 * promise's resolve function (a native function without a name — `await new Promise((r) => setTimeout(r, ms))`),
 * which tells them apart from the HTTP stack's own timers (named functions). Restored after each test.
 */
function clientWaits(): () => number[] {
  const spy = vi.spyOn(globalThis, 'setTimeout');
  return () =>
    spy.mock.calls.filter(([callback]) => typeof callback === 'function' && callback.name === '' && /\[native code\]/.test(Function.prototype.toString.call(callback))).map(([, ms]) => Number(ms));
}

/** Rejects with the PortcullisError a promise fails with. */
async function failure(promise: Promise<unknown>): Promise<PortcullisError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected the promise to reject');
}

describe('registry client', () => {
  let server: Server;
  let handler: Handler;
  let base: string;
  let requests: IncomingMessage[];
  let dir: string;

  beforeEach(async () => {
    requests = [];
    handler = (_req, res) => res.writeHead(500).end();
    server = createServer((req, res) => {
      requests.push(req);
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    dir = await mkdtemp(join(tmpdir(), 'portcullis-client-'));
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  function client(options: Partial<RegistryClientOptions> = {}) {
    return createRegistryClient({
      config: createRegistryConfig({ defaultRegistry: base }),
      timeoutMs: 2000,
      retries: 2,
      backoffMs: 1,
      maxBackoffMs: 5,
      ...options,
    });
  }

  it('settle() waits for requests nobody awaits (prefetches) until their cache entries are written', async () => {
    handler = (req, res) => setTimeout(() => json(res, packument(decodeURIComponent(req.url!.slice(1)))), 50);
    const c = client({ cacheDir: dir });
    for (const name of ['a', 'b', '@s/c']) c.getPackument(name).catch(() => undefined);
    c.getPackument('missing-on-purpose', { registry: 'http://127.0.0.1:1/' }).catch(() => undefined);
    await c.settle();
    const files = (await readdir(dir, { recursive: true })).map(String);
    expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(3);
    expect(files.filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('after settle() a request still answers but writes no cache entry (the process is ending: no write to cut off)', async () => {
    handler = (req, res) => json(res, packument(decodeURIComponent(req.url!.slice(1))));
    const c = client({ cacheDir: dir });
    await c.getPackument('a');
    await c.settle();
    const later = await c.getPackument('b');
    expect(later.name).toBe('b');
    expect(requests.map((r) => r.url)).toEqual(['/a', '/b']);
    const files = (await readdir(dir, { recursive: true })).map(String);
    expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(1);
    expect(files.filter((f) => f.includes('.tmp'))).toEqual([]);
    // A new client (the next process) writes again.
    await client({ cacheDir: dir }).getPackument('c');
    expect((await readdir(dir, { recursive: true })).map(String).filter((f) => f.endsWith('.json'))).toHaveLength(2);
  });

  it('asks once for attestations wanted twice at the same time, and keeps no document once it is read', async () => {
    const document = JSON.stringify({ attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle: {} }] });
    handler = (_req, res) => setTimeout(() => json(res, document), 20);
    const c = client();
    const [a, b] = await Promise.all([c.getAttestations('pkg', '1.0.0', base), c.getAttestations('pkg', '1.0.0', base)]);
    expect(a).toBe(b);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe('/-/npm/v1/attestations/pkg@1.0.0');
    // Read and verified once by the caller, who keeps the outcome: the parsed document is not held for later.
    const again = await c.getAttestations('pkg', '1.0.0', base);
    expect(again).toEqual(a);
    expect(again).not.toBe(a);
    expect(requests).toHaveLength(2);
    // A packument, read by several rules in one decision, is kept.
    handler = (req, res) => json(res, packument(decodeURIComponent(req.url!.slice(1))));
    expect(await c.getPackument('pkg')).toBe(await c.getPackument('pkg'));
    expect(requests).toHaveLength(3);
  });

  it('asks for the abbreviated document with the install Accept header and encodes scopes', async () => {
    handler = (req, res) => json(res, packument(decodeURIComponent(req.url!.slice(1))));
    const p = await client().getPackument('@scope/name');
    expect(p.name).toBe('@scope/name');
    expect(p.kind).toBe('abbreviated');
    expect(p.versions.get('1.0.0')?.dist.integrity).toBe('sha512-1.0.0');
    expect(requests[0]!.url).toBe('/@scope%2fname');
    expect(requests[0]!.headers.accept).toBe('application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8');
    expect(requests[0]!.headers.authorization).toBeUndefined();
  });

  it('asks for the full document with application/json and reads its scripts and times', async () => {
    handler = (_req, res) => json(res, packument('pkg'));
    const p = await client().getPackument('pkg', { full: true });
    expect(requests[0]!.headers.accept).toBe('application/json');
    expect(p.versions.get('1.0.0')?.scripts?.postinstall).toBe('x');
    expect(p.time.get('1.0.0')).toBe('2024-01-01T00:00:00.000Z');
  });

  it('uses the registry it is given over the configured one', async () => {
    handler = (_req, res) => json(res, packument('pkg'));
    const c = createRegistryClient({ config: createRegistryConfig({ defaultRegistry: 'http://elsewhere.invalid/' }), retries: 0 });
    await c.getPackument('pkg', { registry: `${base}nested/path` });
    expect(requests[0]!.url).toBe('/nested/path/pkg');
  });

  it('retries a 500 and then succeeds', async () => {
    let n = 0;
    handler = (_req, res) => (n++ === 0 ? res.writeHead(500).end() : json(res, packument('pkg')));
    expect((await client().getPackument('pkg')).versions.size).toBe(1);
    expect(requests).toHaveLength(2);
  });

  it('retries a 429, honouring a (capped) Retry-After', async () => {
    let n = 0;
    handler = (_req, res) => (n++ === 0 ? res.writeHead(429, { 'retry-after': '120' }).end() : json(res, packument('pkg')));
    const waits = clientWaits();
    await client({ maxBackoffMs: 50 }).getPackument('pkg');
    expect(requests).toHaveLength(2);
    // One wait between the attempts: the 120 s the registry asked for, capped at maxBackoffMs.
    expect(waits()).toEqual([50]);
  });

  it('gives up after the retries with METADATA_UNAVAILABLE naming the package and registry', async () => {
    handler = (_req, res) => res.writeHead(503).end();
    const error = await failure(client().getPackument('pkg'));
    expect(error.code).toBe('METADATA_UNAVAILABLE');
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe(`could not fetch metadata for pkg from ${base}: HTTP 503 (after 3 attempts)`);
    expect(requests).toHaveLength(3);
  });

  it('never retries a 4xx other than 429', async () => {
    handler = (_req, res) => res.writeHead(400).end();
    expect((await failure(client().getPackument('pkg'))).message).toMatch(/unexpected HTTP 400$/);
    expect(requests).toHaveLength(1);
  });

  it('times out a registry that never answers', async () => {
    handler = () => undefined;
    const timeouts = vi.spyOn(AbortSignal, 'timeout');
    const waits = clientWaits();
    const error = await failure(client({ timeoutMs: 100, retries: 1 }).getPackument('pkg'));
    expect(error.message).toMatch(/timed out after 100 ms \(after 2 attempts\)$/);
    expect(requests).toHaveLength(2);
    // Bounded without a clock: each attempt was aborted by its own 100 ms timer (the message says the abort, not
    // another error, ended it), and the one wait between them was a backoff within maxBackoffMs (5 ms).
    expect(timeouts.mock.calls).toEqual([[100], [100]]);
    expect(waits()).toHaveLength(1);
    expect(waits()[0]).toBeLessThanOrEqual(5);
  });

  it('times out a body that stalls halfway', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"name":"pkg",');
    };
    expect((await failure(client({ timeoutMs: 150, retries: 0 }).getPackument('pkg'))).message).toMatch(/timed out after 150 ms$/);
  });

  it('retries a reset connection', async () => {
    let n = 0;
    handler = (req, res) => (n++ === 0 ? req.socket.destroy() : json(res, packument('pkg')));
    expect((await client().getPackument('pkg')).name).toBe('pkg');
    expect(requests).toHaveLength(2);
  });

  it('reports connections that keep being reset', async () => {
    handler = (req) => req.socket.destroy();
    const error = await failure(client({ retries: 1 }).getPackument('pkg'));
    expect(error.message).toMatch(/the connection was reset \(after 2 attempts\)$/);
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
    await new Promise((resolve) => closed.close(resolve));
    const c = createRegistryClient({ config: createRegistryConfig({ defaultRegistry: url }), retries: 0 });
    expect((await failure(c.getPackument('pkg'))).message).toBe(`could not fetch metadata for pkg from ${url}: the connection was refused`);
  });

  it('retries a body cut off before its Content-Length', async () => {
    let n = 0;
    handler = (req, res) => {
      if (n++ > 0) return json(res, packument('pkg'));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
      res.write(packument('pkg').slice(0, 20));
      setTimeout(() => req.socket.destroy(), 10);
    };
    expect((await client().getPackument('pkg')).name).toBe('pkg');
    expect(requests).toHaveLength(2);
  });

  it('fails on a truncated body that keeps being truncated', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
      res.write(packument('pkg').slice(0, 20));
      setTimeout(() => req.socket.destroy(), 10);
    };
    const error = await failure(client({ retries: 1 }).getPackument('pkg'));
    expect(error.code).toBe('METADATA_UNAVAILABLE');
    expect(error.message).toMatch(/after 2 attempts/);
  });

  it('fails, without retrying, on a body that is not JSON', async () => {
    handler = (_req, res) => json(res, '<html>proxy error</html>');
    const error = await failure(client().getPackument('pkg'));
    expect(error.message).toMatch(/^could not fetch metadata for pkg from .*: the response is not valid JSON/);
    expect(requests).toHaveLength(1);
  });

  it('fails on a document for another package', async () => {
    handler = (_req, res) => json(res, packument('other'));
    expect((await failure(client().getPackument('pkg'))).message).toMatch(/answered with the packument of "other"/);
  });

  it('stops reading a response over the size limit', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"name":"pkg","x":"${'x'.repeat(100_000)}`);
      res.write('x'.repeat(100_000));
      res.end('"}');
    };
    const error = await failure(client({ maxBytes: 50_000 }).getPackument('pkg'));
    expect(error.message).toMatch(/larger than the 50000-byte limit$/);
    expect(requests).toHaveLength(1);
  });

  it('refuses a declared Content-Length over the limit before reading', async () => {
    handler = (_req, res) => json(res, packument('pkg', ['1.0.0', '1.0.1', '1.0.2']));
    expect((await failure(client({ maxBytes: 100 }).getPackument('pkg'))).message).toMatch(/larger than the 100-byte limit$/);
  });

  it('takes a body a surface hands over as bytes (no stream), within the same size limit', async () => {
    const config = createRegistryConfig({ defaultRegistry: 'http://registry.invalid/' });
    const asked: string[] = [];
    const bytes = (body: string, status = 200): RegistryFetch => async (url) => {
      asked.push(url);
      return { status, headers: { get: () => null }, body: Buffer.from(body) };
    };
    const got = await createRegistryClient({ config, fetch: bytes(packument('pkg')) }).getPackument('pkg');
    expect([...got.versions.keys()]).toEqual(['1.0.0']);
    expect(asked).toEqual(['http://registry.invalid/pkg']);
    const big = await failure(createRegistryClient({ config, fetch: bytes(packument('pkg', ['1.0.0', '1.0.1', '1.0.2'])), maxBytes: 100 }).getPackument('pkg'));
    expect(big.message).toMatch(/larger than the 100-byte limit$/);
    // a status other than 200 with bytes: the bytes are let go, the status decides
    const missing = await failure(createRegistryClient({ config, fetch: bytes('{}', 404) }).getPackument('pkg'));
    expect(missing.message).toMatch(/HTTP 404/);
  });

  it('turns a 404 into METADATA_UNAVAILABLE with its own reason', async () => {
    handler = (_req, res) => res.writeHead(404).end('{"error":"Not found"}');
    const error = await failure(client().getPackument('ghost'));
    expect(error.code).toBe('METADATA_UNAVAILABLE');
    expect(error.message).toMatch(/the registry has no package named ghost \(HTTP 404\), yet the lockfile says it was installed from there/);
    expect(requests).toHaveLength(1);
  });

  it('explains a 401 when no credentials are configured', async () => {
    handler = (_req, res) => res.writeHead(401).end();
    const error = await failure(client().getPackument('pkg'));
    const prefix = base.replace(/^http:/, '');
    expect(error.message).toContain(`no credentials are configured for ${prefix}; add "${prefix}:_authToken=…" to .npmrc`);
    expect(requests).toHaveLength(1);
  });

  it('sends the configured token and never echoes it when it is refused', async () => {
    handler = (_req, res) => res.writeHead(401).end(`bad token ${TOKEN}`);
    const logs: string[] = [];
    const config = createRegistryConfig({ defaultRegistry: base, auth: { [base.replace(/^http:/, '')]: RegistryCredentials.bearer(TOKEN) } });
    const error = await failure(createRegistryClient({ config, retries: 0, log: (m) => logs.push(m) }).getPackument('pkg'));
    expect(requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(error.message).toMatch(/refused the credentials configured for \/\/127\.0\.0\.1:\d+\/ \(HTTP 401\)/);
    expect(`${error.message} ${error.stack} ${logs.join('\n')}`).not.toContain(TOKEN);
  });

  it('does not carry credentials across a redirect to another host', async () => {
    const port = (server.address() as AddressInfo).port;
    handler = (req, res) => {
      if (req.headers.host?.startsWith('127.0.0.1')) res.writeHead(302, { location: `http://localhost:${port}/moved/pkg` }).end();
      else json(res, packument('pkg'));
    };
    const config = createRegistryConfig({ defaultRegistry: base, auth: { [`//127.0.0.1:${port}/`]: RegistryCredentials.bearer(TOKEN) } });
    await createRegistryClient({ config, retries: 0 }).getPackument('pkg');
    expect(requests.map((r) => [r.headers.host?.split(':')[0], r.url, r.headers.authorization])).toEqual([
      ['127.0.0.1', '/pkg', `Bearer ${TOKEN}`],
      ['localhost', '/moved/pkg', undefined],
    ]);
  });

  it('stops following a redirect loop', async () => {
    handler = (_req, res) => res.writeHead(301, { location: '/pkg' }).end();
    expect((await failure(client().getPackument('pkg'))).message).toMatch(/more than 5 redirects$/);
  });

  it('refuses names that could leave the registry path', async () => {
    for (const name of ['..', '../x', '@scope/../x', '.hidden', 'a/b', '@scope', 'a%2fb', '']) {
      expect((await failure(client().getPackument(name))).message).toMatch(/not a valid package name/);
    }
    expect(requests).toHaveLength(0);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    let active = 0;
    let peak = 0;
    handler = (req, res) => {
      active++;
      peak = Math.max(peak, active);
      setTimeout(() => {
        active--;
        json(res, packument(req.url!.slice(1)));
      }, 30);
    };
    const c = client({ concurrency: 3 });
    const names = Array.from({ length: 12 }, (_, i) => `pkg${i}`);
    const results = await Promise.all(names.map((name) => c.getPackument(name)));
    expect(results.map((p) => p.name)).toEqual(names);
    expect(peak).toBe(3);
    expect(requests).toHaveLength(12);
  });

  it('shares one request among callers of the same packument, and remembers it', async () => {
    handler = (_req, res) => setTimeout(() => json(res, packument('pkg')), 20);
    const c = client();
    const all = await Promise.all(Array.from({ length: 5 }, () => c.getPackument('pkg')));
    expect(new Set(all).size).toBe(1);
    await c.getPackument('pkg');
    expect(requests).toHaveLength(1);
    // A different kind is a different document.
    await c.getPackument('pkg', { full: true });
    expect(requests).toHaveLength(2);
  });

  it('forgets a failure so that a later call tries again', async () => {
    let n = 0;
    handler = (_req, res) => (n++ === 0 ? res.writeHead(500).end() : json(res, packument('pkg')));
    const c = client({ retries: 0 });
    await failure(c.getPackument('pkg'));
    expect((await c.getPackument('pkg')).name).toBe('pkg');
  });

  describe('with a cache', () => {
    it('revalidates with If-None-Match and uses the cached body on 304', async () => {
      handler = (req, res) => {
        if (req.headers['if-none-match'] === '"v1"') return res.writeHead(304, { etag: '"v1"' }).end();
        json(res, packument('pkg'), { etag: '"v1"', 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT' });
      };
      const first = await client({ cacheDir: dir, maxAgeMs: 0 }).getPackument('pkg');
      const second = await client({ cacheDir: dir, maxAgeMs: 0 }).getPackument('pkg');
      expect(second).toEqual(first);
      expect(requests).toHaveLength(2);
      expect(requests[1]!.headers['if-none-match']).toBe('"v1"');
      expect(requests[1]!.headers['if-modified-since']).toBe('Mon, 01 Jan 2024 00:00:00 GMT');
    });

    it('replaces the cached body when the registry sends a new one', async () => {
      let versions = ['1.0.0'];
      handler = (_req, res) => json(res, packument('pkg', versions), { etag: `"${versions.length}"` });
      await client({ cacheDir: dir, maxAgeMs: 0 }).getPackument('pkg');
      versions = ['1.0.0', '1.1.0'];
      expect([...(await client({ cacheDir: dir, maxAgeMs: 0 }).getPackument('pkg')).versions.keys()]).toEqual(['1.0.0', '1.1.0']);
      expect([...(await client({ cacheDir: dir, offline: true }).getPackument('pkg')).versions.keys()]).toEqual(['1.0.0', '1.1.0']);
    });

    it('uses a fresh entry without asking the registry', async () => {
      let clock = 1_000_000;
      handler = (_req, res) => json(res, packument('pkg'), { etag: '"v1"' });
      await client({ cacheDir: dir, now: () => clock }).getPackument('pkg');
      clock += 60_000;
      await client({ cacheDir: dir, now: () => clock }).getPackument('pkg');
      expect(requests).toHaveLength(1);
      clock += 5 * 60_000;
      await client({ cacheDir: dir, now: () => clock }).getPackument('pkg');
      expect(requests).toHaveLength(2);
    });

    it('a caller naming a version takes an older entry that lists it without asking, for a day at most; anything else revalidates', async () => {
      let clock = 1_000_000;
      let versions = ['1.0.0', '1.1.0'];
      handler = (req, res) => {
        if (req.headers['if-none-match'] === `"${versions.length}"`) return res.writeHead(304, { etag: `"${versions.length}"` }).end();
        json(res, packument('pkg', versions), { etag: `"${versions.length}"` });
      };
      const at = (options: Partial<RegistryClientOptions> = {}) => client({ cacheDir: dir, now: () => clock, ...options });
      await at().getPackument('pkg');
      expect(requests).toHaveLength(1);
      // An hour later (past the 5 minutes): a pinned version the entry lists is read from it, each version it lists.
      clock += 60 * 60_000;
      const pinned = at();
      expect((await pinned.getPackument('pkg', { version: '1.1.0' })).versions.has('1.1.0')).toBe(true);
      expect((await pinned.getPackument('pkg', { version: '1.0.0' })).versions.has('1.0.0')).toBe(true);
      expect(requests).toHaveLength(1);
      // From the same client, a caller that names no version (the list of versions) gets it revalidated, once.
      expect([...(await pinned.getPackument('pkg')).versions.keys()]).toEqual(['1.0.0', '1.1.0']);
      expect([...(await pinned.getPackument('pkg')).versions.keys()]).toEqual(['1.0.0', '1.1.0']);
      expect(requests).toHaveLength(2);
      expect(requests[1]!.headers['if-none-match']).toBe('"2"');
      // A version the entry does not list: revalidated, and the new version is there.
      versions = ['1.0.0', '1.1.0', '2.0.0'];
      clock += 60 * 60_000;
      const newer = at();
      expect((await newer.getPackument('pkg', { version: '1.0.0' })).versions.has('2.0.0')).toBe(false);
      expect((await newer.getPackument('pkg', { version: '2.0.0' })).versions.has('2.0.0')).toBe(true);
      expect(requests).toHaveLength(3);
      // The first caller's version missing: revalidated at once, and that answer serves every later caller.
      const other = at({ cacheDir: await mkdtemp(join(tmpdir(), 'portcullis-client-')) });
      await other.getPackument('pkg', { version: '2.0.0' });
      expect(requests).toHaveLength(4);
      // Older than a day: revalidated, whatever it lists.
      clock += 25 * 60 * 60_000;
      await at().getPackument('pkg', { version: '1.0.0' });
      expect(requests).toHaveLength(5);
      // A shorter allowance by option (never shorter than the freshness window): revalidated after it.
      clock += 10 * 60_000;
      await at({ versionMaxAgeMs: 60_000 }).getPackument('pkg', { version: '1.0.0' });
      expect(requests).toHaveLength(6);
      clock += 10 * 60_000;
      await at({ versionMaxAgeMs: 60 * 60_000 }).getPackument('pkg', { version: '1.0.0' });
      expect(requests).toHaveLength(6);
    });

    it('treats a corrupt cache file as a miss and overwrites it', async () => {
      handler = (_req, res) => json(res, packument('pkg'), { etag: '"v1"' });
      await client({ cacheDir: dir, maxAgeMs: 0 }).getPackument('pkg');
      const [file] = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.json'));
      for (const garbage of ['{"format":"portcullis-metadata-cache"', 'garbage', '']) {
        await writeFile(join(dir, file!), garbage);
        expect((await client({ cacheDir: dir }).getPackument('pkg')).name).toBe('pkg');
        // Unconditional: a validator for a body we cannot read would get a 304 we cannot use.
        expect(requests.at(-1)!.headers['if-none-match']).toBeUndefined();
      }
      await client({ cacheDir: dir, offline: true }).getPackument('pkg');
    });

    it('treats a cached body that is not a valid packument as a miss', async () => {
      handler = (_req, res) => json(res, packument('pkg'), { etag: '"v1"' });
      await client({ cacheDir: dir }).getPackument('pkg');
      const [file] = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.json'));
      const { readFile } = await import('node:fs/promises');
      const entry = JSON.parse(await readFile(join(dir, file!), 'utf8'));
      await writeFile(join(dir, file!), JSON.stringify({ ...entry, body: { name: 'pkg', versions: [] } }));
      expect((await client({ cacheDir: dir }).getPackument('pkg')).versions.size).toBe(1);
      expect(requests).toHaveLength(2);
    });

    it('writeCache false: reads the cache (fresh, offline) but writes nothing; fetched documents stay in memory for the client', async () => {
      let versions = ['1.0.0'];
      handler = (_req, res) => json(res, packument('pkg', versions), { etag: `"${versions.length}"` });
      await client({ cacheDir: dir }).getPackument('pkg');
      const before = (await readdir(dir, { recursive: true })).map(String).sort();
      expect(before.filter((f) => f.endsWith('.json'))).toHaveLength(1);
      // a fresh entry is used without asking
      expect((await client({ cacheDir: dir, writeCache: false }).getPackument('pkg')).name).toBe('pkg');
      expect(requests).toHaveLength(1);
      // a stale entry is fetched anew; the new body is served and validated, but not written
      versions = ['1.0.0', '1.1.0'];
      const noWrites = client({ cacheDir: dir, writeCache: false, maxAgeMs: 0 });
      expect([...(await noWrites.getPackument('pkg')).versions.keys()]).toEqual(['1.0.0', '1.1.0']);
      expect([...(await noWrites.getPackument('pkg')).versions.keys()]).toEqual(['1.0.0', '1.1.0']);
      expect(requests).toHaveLength(2);
      handler = (_req, res) => json(res, packument('other'));
      await noWrites.getPackument('fresh-one').then(() => expect.unreachable(), (error: unknown) => expect((error as PortcullisError).code).toBe('METADATA_UNAVAILABLE'));
      handler = (req, res) => json(res, packument(decodeURIComponent(req.url!.slice(1))));
      await noWrites.getPackument('new-one');
      await noWrites.settle();
      expect((await readdir(dir, { recursive: true })).map(String).sort()).toEqual(before);
      // offline still reads what an earlier writer cached (the old body: nothing was replaced)
      expect([...(await client({ cacheDir: dir, offline: true, writeCache: false }).getPackument('pkg')).versions.keys()]).toEqual(['1.0.0']);
    });

    it('offline: serves a cached entry of any age, and a miss says to run online once', async () => {
      handler = (_req, res) => json(res, packument('pkg'));
      await client({ cacheDir: dir }).getPackument('pkg');
      const offline = client({ cacheDir: dir, offline: true, now: () => Date.now() + 365 * 86_400_000 });
      expect((await offline.getPackument('pkg')).name).toBe('pkg');
      const error = await failure(offline.getPackument('missing'));
      expect(error.code).toBe('METADATA_UNAVAILABLE');
      expect(error.message).toMatch(/could not fetch metadata for missing from .*: offline mode and nothing is cached for it; run once online/);
      expect(requests).toHaveLength(1);
      expect((await failure(client({ offline: true }).getPackument('pkg'))).message).toMatch(/run once online/);
    });
  });

  describe('getKeys', () => {
    it('fetches /-/npm/v1/keys', async () => {
      handler = (_req, res) => json(res, JSON.stringify({ keys: [KEY] }));
      expect(await client().getKeys(base)).toEqual([KEY]);
      expect(requests[0]!.url).toBe('/-/npm/v1/keys');
    });

    it('returns null when the registry serves no keys, and caches that', async () => {
      handler = (_req, res) => res.writeHead(404).end();
      expect(await client({ cacheDir: dir }).getKeys(base)).toBeNull();
      expect(await client({ cacheDir: dir, offline: true }).getKeys(base)).toBeNull();
      expect(requests).toHaveLength(1);
    });

    it('fails closed on a malformed keys document', async () => {
      handler = (_req, res) => json(res, '{"keys":"nope"}');
      const error = await failure(client().getKeys(base));
      expect(error.message).toBe(`could not fetch the signing keys from ${base}: the keys response has no "keys" array`);
    });

    it('caches keys for offline use', async () => {
      handler = (_req, res) => json(res, JSON.stringify({ keys: [KEY] }), { etag: '"k"' });
      await client({ cacheDir: dir }).getKeys(base);
      expect(await client({ cacheDir: dir, offline: true }).getKeys(base)).toEqual([KEY]);
    });
  });
});
