import { createHash } from 'node:crypto';
import { Configuration } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import npmPlugin from '@yarnpkg/plugin-npm';
import { describe, expect, it } from 'vitest';
import { registryTarballUrls, tarballCheck, tarballKey, type SignedTarballs } from './tarballs.js';

const sri = (bytes: Buffer) => `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

async function configuration(values: Record<string, unknown>): Promise<Configuration> {
  const configuration = await Configuration.create(npath.toPortablePath(process.cwd()), null, new Map([['@yarnpkg/plugin-npm', npmPlugin]]));
  configuration.useWithSource('<test>', values, npath.toPortablePath(process.cwd()), { overwrite: true });
  return configuration;
}

describe('registryTarballUrls', () => {
  it('are the URLs Yarn fetches for the locator: its registry for the scope, both spellings of a scope', async () => {
    const config = await configuration({ npmRegistryServer: 'http://127.0.0.1:4873', npmScopes: { acme: { npmRegistryServer: 'https://npm.acme.example/api/' } } });
    expect(registryTarballUrls(config, { name: 'good', version: '1.0.0' })).toEqual(['http://127.0.0.1:4873/good/-/good-1.0.0.tgz']);
    expect(registryTarballUrls(config, { name: '@acme/x', version: '2.1.0' })).toEqual(['https://npm.acme.example/api/@acme%2fx/-/x-2.1.0.tgz', 'https://npm.acme.example/api/@acme/x/-/x-2.1.0.tgz']);
    // the lockfile's own URL (an __archiveUrl the core accepted), credentials dropped
    expect(registryTarballUrls(config, { name: 'good', version: '1.0.0', resolved: 'http://u:p@127.0.0.1:4873/x/../good/-/good-1.0.0.tgz' })).toEqual(['http://127.0.0.1:4873/good/-/good-1.0.0.tgz']);
  });
});

describe('tarballCheck', () => {
  const good = Buffer.from('good bytes');
  const signed: SignedTarballs = new Map([[tarballKey('http://127.0.0.1:4873/good/-/good-1.0.0.tgz'), { integrity: sri(good), package: 'good@1.0.0' }]]);
  const check = tarballCheck((key) => signed.get(key));
  const serve = (body: unknown) => async () => ({ body }) as never;

  it('passes the signed bytes and refuses others, also under another spelling of the same URL', async () => {
    await expect((await check(serve(good), { target: 'http://127.0.0.1:4873/good/-/good-1.0.0.tgz' }))()).resolves.toEqual({ body: good });
    await expect((await check(serve(Buffer.from('evil')), { target: 'http://127.0.0.1:4873/good/-/good-1.0.0.tgz' }))()).rejects.toThrow(/BAD_SIGNATURE: the tarball served for good@1.0.0/);
    await expect((await check(serve(Buffer.from('evil')), { target: new URL('http://tok:en@127.0.0.1:4873/a/../good/-/good-1.0.0.tgz') }))()).rejects.toThrow(/BAD_SIGNATURE/);
    // a body that is not bytes cannot be checked: refused
    await expect((await check(serve('text'), { target: 'http://127.0.0.1:4873/good/-/good-1.0.0.tgz' }))()).rejects.toThrow(/BAD_SIGNATURE/);
  });

  it('leaves requests for other URLs alone (metadata, packages not verified as registry packages)', async () => {
    const executor = serve('x');
    expect(await check(executor, { target: 'http://127.0.0.1:4873/good' })).toBe(executor);
    expect(await check(executor, { target: 'http://127.0.0.1:4873/evil/-/evil-1.0.0.tgz' })).toBe(executor);
  });
});
