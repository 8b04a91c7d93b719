import { createHash } from 'node:crypto';
import { tarballDigests } from '@portcullis/core';
import type { Configuration, FetchOptions, Locator, Package } from '@yarnpkg/core';
import { describe, expect, it } from 'vitest';
import { guardResolutionFetcher, locatorTarballUrls, referenceWithoutCredentials, ResolutionDownloads, unverifiedDownloads } from './resolution-fetches.js';

const sri = (bytes: Buffer) => `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
const locator = (reference: string) => ({ identHash: 'i', scope: null, name: 'git-thing', locatorHash: reference, reference }) as unknown as Locator;

/** A configuration whose makeFetcher returns a fake MultiFetcher logging what it fetched. */
function configuration(log: string[]) {
  class MultiFetcher {
    fetchers = ['the rest of Yarn\'s fetcher'];
    supports() {
      return true;
    }
    async fetch(l: Locator) {
      log.push(`fetched ${l.reference}`);
      return { fetched: l.reference };
    }
  }
  return { makeFetcher: () => new MultiFetcher() } as unknown as Configuration;
}
/** What the fake fetcher offers, as the test sees it. */
type FakeFetcher = { fetchers: string[]; fetch(l: Locator, opts?: FetchOptions): Promise<unknown> };
const fetcherOf = (config: Configuration) => config.makeFetcher() as unknown as FakeFetcher;

describe('guardResolutionFetcher', () => {
  it('judges a fetch that runs code (a git reference) before Yarn\'s fetcher runs it; a refusal stops it; other fetches pass', async () => {
    const log: string[] = [];
    const config = configuration(log);
    const seen: string[] = [];
    const restore = guardResolutionFetcher(
      config,
      async (l) => {
        log.push(`judged ${l.reference}`);
        if (l.reference.includes('evil')) throw new Error('refused');
      },
      (l) => seen.push(l.reference),
    );
    const fetcher = fetcherOf(config);
    expect(fetcher.fetchers).toEqual(["the rest of Yarn's fetcher"]);
    const opts = {} as FetchOptions;
    await fetcher.fetch(locator('git+https://git.example/ok.git#commit=abc'), opts);
    await expect(fetcher.fetch(locator('git+https://git.example/evil.git#commit=abc'), opts)).rejects.toThrow('refused');
    await fetcher.fetch(locator('npm:1.0.0'), opts);
    await fetcher.fetch(locator('https://registry.example/good/-/good-1.0.0.tgz'), opts);
    await expect(fetcher.fetch(locator('exec:./evil.js::locator=dep%40npm%3A1.0.0'), opts)).rejects.toThrow('refused');
    expect(log).toEqual([
      'judged git+https://git.example/ok.git#commit=abc',
      'fetched git+https://git.example/ok.git#commit=abc',
      'judged git+https://git.example/evil.git#commit=abc',
      'fetched npm:1.0.0',
      'fetched https://registry.example/good/-/good-1.0.0.tgz',
      'judged exec:./evil.js::locator=dep%40npm%3A1.0.0',
    ]);
    // Every fetch Yarn asked for is recorded (a refused one never reached Yarn's fetcher).
    expect(seen).toEqual(['git+https://git.example/ok.git#commit=abc', 'npm:1.0.0', 'https://registry.example/good/-/good-1.0.0.tgz']);
    // Restored: Yarn's own makeFetcher again (the prototype's), nothing judged.
    restore();
    expect(Object.hasOwn(config, 'makeFetcher')).toBe(true);
    await fetcherOf(config).fetch(locator('git+https://git.example/evil.git#commit=abc'));
    expect(log.at(-1)).toBe('fetched git+https://git.example/evil.git#commit=abc');
  });

  it('puts back a method of the prototype by deleting its own', () => {
    class Config {
      makeFetcher() {
        return {};
      }
    }
    const config = new Config() as unknown as Configuration;
    const restore = guardResolutionFetcher(config, async () => {});
    expect(Object.hasOwn(config, 'makeFetcher')).toBe(true);
    restore();
    expect(Object.hasOwn(config, 'makeFetcher')).toBe(false);
  });
});

describe('referenceWithoutCredentials', () => {
  it('drops a user and token from a URL reference, leaves the rest', () => {
    expect(referenceWithoutCredentials('git+https://user:tok@git.example/x.git#commit=abc')).toBe('git+https://git.example/x.git#commit=abc');
    expect(referenceWithoutCredentials('git+ssh://git@git.example/x.git')).toBe('git+ssh://git.example/x.git');
    expect(referenceWithoutCredentials('git@github.com:x/y.git')).toBe('git@github.com:x/y.git');
  });
});

describe('ResolutionDownloads', () => {
  it('keeps the digests of tarballs downloaded during a resolution (not packuments, not after it), handed over once', async () => {
    const downloads = new ResolutionDownloads();
    const body = Buffer.from('tarball');
    const serve = (b: unknown) => async () => ({ body: b });
    await downloads.observe('http://r.example/good/-/good-1.0.0.tgz', serve(body))();
    downloads.begin();
    await downloads.observe('http://u:p@r.example/good/-/good-1.0.0.tgz', serve(body))();
    await downloads.observe('http://r.example/good', serve(Buffer.from('{}')))();
    await downloads.observe('http://r.example/text/-/text-1.0.0.tgz', serve('not bytes'))();
    const kept = downloads.end();
    expect([...kept.keys()]).toEqual(['http://r.example/good/-/good-1.0.0.tgz']);
    expect(kept.get('http://r.example/good/-/good-1.0.0.tgz')!.sha512).toBe(sri(body).slice('sha512-'.length));
    expect(downloads.end().size).toBe(0);
  });
});

describe('unverifiedDownloads', () => {
  const signed = Buffer.from('signed bytes');
  const url = 'http://r.example/good/-/good-1.0.0.tgz';
  const expectation = (key: string) => (key === url ? { integrity: sri(signed), package: 'good@1.0.0' } : undefined);
  const pkg = (reference: string, locatorHash = reference) => ({ locatorHash, reference, identHash: 'i', scope: null, name: 'good' }) as unknown as Locator;
  // The registry's URL for good@npm:1.0.0, the locator's own for a URL.
  const urlsOf = (l: Pick<Locator, 'reference'>) => (l.reference === 'npm:1.0.0' ? [url] : /^https?:/.test(l.reference) ? [l.reference] : []);

  it('a verified registry package fetched while resolving must have been downloaded in it with the signed bytes', () => {
    expect(unverifiedDownloads([pkg(url)], new Map([[url, tarballDigests(signed)]]), expectation, urlsOf)).toEqual([]);
    expect(unverifiedDownloads([pkg(url)], new Map([[url, tarballDigests(Buffer.from('altered'))]]), expectation, urlsOf)).toEqual([
      { package: 'good@1.0.0', url, expected: sri(signed), actual: sri(Buffer.from('altered')) },
    ]);
    // taken from Yarn's cache: nothing downloaded, so nothing known
    expect(unverifiedDownloads([pkg(url)], new Map(), expectation, urlsOf)).toEqual([{ package: 'good@1.0.0', url, expected: sri(signed), actual: null }]);
  });

  it('an npm: locator fetched while resolving (the package declaring an exec: dependency) is held to the same rule (R1)', () => {
    expect(unverifiedDownloads([pkg('npm:1.0.0')], new Map([[url, tarballDigests(signed)]]), expectation, urlsOf)).toEqual([]);
    expect(unverifiedDownloads([pkg('npm:1.0.0')], new Map(), expectation, urlsOf)).toEqual([{ package: 'good@1.0.0', url, expected: sri(signed), actual: null }]);
  });

  it('each locator once; leaves alone what is not verified as a registry package (the fetch step checks the rest)', () => {
    expect(unverifiedDownloads([pkg(url), pkg(url)], new Map(), expectation, urlsOf)).toHaveLength(1);
    expect(unverifiedDownloads([pkg('https://elsewhere.example/x.tgz'), pkg('git+https://git.example/x.git')], new Map(), expectation, urlsOf)).toEqual([]);
  });
});

describe('locatorTarballUrls', () => {
  const configuration = { get: (key: string) => (key === 'npmRegistryServer' ? 'https://r.example' : key === 'npmScopes' ? new Map() : key === 'npmPublishRegistry' ? null : undefined) } as unknown as Configuration;
  const at = (name: string, reference: string) => ({ scope: null, name, reference });

  it('a URL is its own; an npm: locator is the registry\'s (and its __archiveUrl); a patch: is its original\'s; anything else none', () => {
    expect(locatorTarballUrls(configuration, at('good', 'http://u:p@r.example/good/-/good-1.0.0.tgz'))).toEqual(['http://r.example/good/-/good-1.0.0.tgz']);
    expect(locatorTarballUrls(configuration, at('good', 'npm:1.0.0'))).toEqual(['https://r.example/good/-/good-1.0.0.tgz']);
    expect(locatorTarballUrls(configuration, at('good', `npm:1.0.0::__archiveUrl=${encodeURIComponent('https://m.example/good-1.0.0.tgz')}`))).toEqual(['https://r.example/good/-/good-1.0.0.tgz', 'https://m.example/good-1.0.0.tgz']);
    expect(locatorTarballUrls(configuration, at('good', 'patch:good@npm%3A1.0.0#./p.patch::version=1.0.0&hash=x'))).toEqual(['https://r.example/good/-/good-1.0.0.tgz']);
    for (const reference of ['git+https://git.example/x.git', 'exec:./gen.js', 'workspace:.', 'file:./x', 'patch:good@%E0#x']) expect(locatorTarballUrls(configuration, at('good', reference)), reference).toEqual([]);
  });
});
