import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryResponse } from '@portcullis/core';
import { Configuration, structUtils, type Plugin, type Project } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import npmPlugin, { npmHttpUtils } from '@yarnpkg/plugin-npm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPackumentUrl, yarnFetch, yarnRegistryConfig } from './registry.js';
import { ABBREVIATED_INSTEAD_BYTES, keepForGate, ResolutionPackuments, resolutionPackuments } from './resolution-packuments.js';

const ABBREVIATED = { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8' };
const text = (response: RegistryResponse) => Buffer.from(response.body as Uint8Array).toString('utf8');

describe('ResolutionPackuments', () => {
  const response = (body: Buffer, statusCode = 200) => async () => ({ statusCode, headers: {}, body: { pruned: true }, rawBody: body });

  it('hands Yarn\'s body to the gate whichever asks first, once', async () => {
    const packuments = new ResolutionPackuments();
    packuments.begin();
    packuments.expect('u1');
    packuments.expect('u2');
    const waiting = packuments.take('u1', false);
    await packuments.observe('u1', 'GET', response(Buffer.from('one')))();
    expect(String(await waiting)).toBe('one');
    await packuments.observe('u2', 'GET', response(Buffer.from('two')))();
    expect(String(await packuments.take('u2', false))).toBe('two');
    // once: a second request of the gate's fetches for itself
    expect(await packuments.take('u2', false)).toBeUndefined();
    packuments.end();
  });

  it('Yarn\'s request goes on unchanged: its response is the one Yarn gets, and an error is Yarn\'s', async () => {
    const packuments = new ResolutionPackuments();
    packuments.begin();
    packuments.expect('ok');
    packuments.expect('fails');
    const answer = { statusCode: 200, headers: {}, body: { pruned: true }, rawBody: Buffer.from('{}') };
    expect(await packuments.observe('ok', 'GET', async () => answer)()).toBe(answer);
    const gate = packuments.take('fails', false);
    await expect(packuments.observe('fails', 'GET', async () => { throw new Error('HTTP 500'); })()).rejects.toThrow('HTTP 500');
    expect(await gate).toBeUndefined();
    packuments.end();
  });

  it('anything but a 200 with its bytes, or a request not expected, is not handed over', async () => {
    const packuments = new ResolutionPackuments();
    packuments.begin();
    for (const url of ['304', 'no-body', 'post']) packuments.expect(url);
    await packuments.observe('304', 'GET', response(Buffer.alloc(0), 304))();
    await packuments.observe('no-body', 'GET', async () => ({ statusCode: 200, headers: {}, body: {} }))();
    const post = packuments.observe('post', 'POST', response(Buffer.from('x')));
    await post();
    expect(await packuments.take('304', false)).toBeUndefined();
    expect(await packuments.take('no-body', false)).toBeUndefined();
    await packuments.observe('unexpected', 'GET', response(Buffer.from('x')))();
    expect(await packuments.take('unexpected', false)).toBeUndefined();
    // the POST left the expectation open: the gate waits until the resolution ends, then fetches for itself
    const waiting = packuments.take('post', false);
    packuments.end();
    expect(await waiting).toBeUndefined();
  });

  it('the end of the resolution releases every request still waiting, and nothing is kept past it', async () => {
    const packuments = new ResolutionPackuments();
    packuments.begin();
    packuments.expect('never-asked');
    packuments.expect('kept');
    await packuments.observe('kept', 'GET', response(Buffer.from('kept')))();
    const waiting = packuments.take('never-asked', false);
    packuments.end();
    expect(await waiting).toBeUndefined();
    expect(await packuments.take('kept', false)).toBeUndefined();
    // outside a resolution nothing is expected
    packuments.expect('late');
    expect(await packuments.take('late', false)).toBeUndefined();
  });

  it('a large full document stands in for the full one only; the abbreviated one is fetched', async () => {
    const packuments = new ResolutionPackuments();
    packuments.begin();
    packuments.expect('big-a');
    packuments.expect('big-f');
    const big = Buffer.alloc(ABBREVIATED_INSTEAD_BYTES + 1, 0x20);
    await packuments.observe('big-a', 'GET', response(big))();
    await packuments.observe('big-f', 'GET', response(big))();
    expect(await packuments.take('big-a', false)).toBeUndefined();
    expect((await packuments.take('big-f', true))?.byteLength).toBe(big.byteLength);
    packuments.end();
  });
});

describe('Yarn\'s own metadata request, shared with the gate\'s client', () => {
  const seen: string[] = [];
  let server: Server;
  let base: string;
  let globalFolder: string;
  const document = (name: string) => JSON.stringify({ name, 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { name, version: '1.0.0', dist: { integrity: 'sha512-x', tarball: `${base}/registry/${name}/-/x.tgz` } } }, time: { '1.0.0': '2025-01-01T00:00:00.000Z' } });

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = req.url ?? '';
      seen.push(url);
      const name = decodeURIComponent(url.replace(/^\/registry\//, ''));
      if (name.startsWith('missing')) res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(document(name));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    globalFolder = mkdtempSync(join(tmpdir(), 'portcullis-yarn-global-'));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(globalFolder, { recursive: true, force: true });
  });

  /** A configuration with Yarn's npm plugin and the hook index.ts installs; `registry` as npmRegistryServer (default: the local server). */
  async function setup(registry: string | null = `${base}/registry`) {
    const hook: Plugin = { hooks: { wrapNetworkRequest: keepForGate } };
    const configuration = await Configuration.create(
      npath.toPortablePath(process.cwd()),
      null,
      new Map<string, Plugin>([
        ['@yarnpkg/plugin-npm', npmPlugin],
        ['portcullis', hook],
      ]),
    );
    configuration.useWithSource('<test>', { unsafeHttpWhitelist: ['127.0.0.1'], httpRetry: '0', globalFolder: npath.toPortablePath(globalFolder), ...(registry !== null ? { npmRegistryServer: registry } : {}) }, npath.toPortablePath(process.cwd()), { overwrite: true });
    const registries = yarnRegistryConfig(configuration);
    const packuments = resolutionPackuments(configuration);
    // lockfileNeedsRefresh: Yarn reads no metadata cache of its own, as on a fresh resolution
    const project = { configuration, lockfileNeedsRefresh: true } as unknown as Project;
    const yarnAsks = (name: string) => npmHttpUtils.getPackageMetadata(structUtils.parseIdent(name), { project, cache: null as never });
    const fetch = yarnFetch(configuration, registries, packuments);
    // the gate's client asks for the abbreviated document
    const gateAsks = (url: string) => fetch(url, { headers: ABBREVIATED, signal: AbortSignal.timeout(10_000), redirect: 'manual' });
    return { configuration, registries, packuments, fetch: gateAsks, yarnAsks };
  }
  const requestsFor = (name: string) => seen.filter((url) => url === `/registry/${name.replace('/', '%2f')}`).length;

  it('the gate gets the bytes Yarn received, and the registry is asked once (the gate asking first, or Yarn)', async () => {
    const { registries, configuration, packuments, fetch, yarnAsks } = await setup();
    packuments.begin();
    for (const name of ['first-gate', '@acme/first-yarn']) {
      const url = sharedPackumentUrl(configuration, registries, name);
      expect(url).toBe(`${base}/registry/${name.replace('/', '%2f')}`);
      packuments.expect(url!);
    }
    const gate = fetch(`${base}/registry/first-gate`);
    const pruned = await yarnAsks('first-gate');
    // Yarn still gets what it keeps of the document
    expect(Object.keys(pruned.versions)).toEqual(['1.0.0']);
    expect((pruned.versions['1.0.0'] as Record<string, unknown>).dist).toEqual({ tarball: `${base}/registry/first-gate/-/x.tgz` });
    expect(text(await gate)).toBe(document('first-gate'));
    await yarnAsks('@acme/first-yarn');
    expect(text(await fetch(`${base}/registry/@acme%2ffirst-yarn`))).toBe(document('@acme/first-yarn'));
    packuments.end();
    expect(requestsFor('first-gate')).toBe(1);
    expect(requestsFor('@acme/first-yarn')).toBe(1);
  });

  it('without the expectation, after the resolution, or when Yarn got no document, the gate asks the registry itself', async () => {
    const { packuments, fetch, yarnAsks } = await setup();
    packuments.begin();
    await yarnAsks('not-expected');
    expect((await fetch(`${base}/registry/not-expected`)).status).toBe(200);
    expect(requestsFor('not-expected')).toBe(2);

    packuments.expect(`${base}/registry/missing-pkg`);
    const gate = fetch(`${base}/registry/missing-pkg`);
    await expect(yarnAsks('missing-pkg')).rejects.toThrow();
    expect((await gate).status).toBe(404);
    expect(requestsFor('missing-pkg')).toBe(2);

    packuments.expect(`${base}/registry/after-end`);
    await yarnAsks('after-end');
    packuments.end();
    expect((await fetch(`${base}/registry/after-end`)).status).toBe(200);
    expect(requestsFor('after-end')).toBe(2);
  });

  it('is shared only where Yarn and the gate ask the same registry: Yarn\'s built-in host is judged as the npm registry', async () => {
    const own = await setup();
    expect(sharedPackumentUrl(own.configuration, own.registries, '@scope/pkg')).toBe(`${base}/registry/@scope%2fpkg`);
    const builtIn = await setup(null);
    expect(sharedPackumentUrl(builtIn.configuration, builtIn.registries, 'left-pad')).toBeUndefined();
    expect(sharedPackumentUrl(builtIn.configuration, builtIn.registries, 'Not A Name')).toBeUndefined();
  });
});
