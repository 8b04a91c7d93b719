/**
 * What Yarn fetches while it resolves, before the verdict exists (quirks.ts):
 * - a git dependency is packed, running its code: the fetcher of the resolution is wrapped so that such a fetch is
 *   judged first (`guardResolutionFetcher`), from what is known then (core's `judgeBeforeFetch`);
 * - a dependency written as a tarball URL is downloaded and stored in Yarn's cache, and the fetch step later takes it
 *   from there: no signed integrity is known at the download, so its digests are kept (`ResolutionDownloads`), and
 *   after the verdict every verified registry package Yarn fetched while resolving (the guarded fetcher records each
 *   fetch: a lockfile Yarn refreshes is fetched again, and so is the registry package declaring an `exec:` dependency)
 *   must have been downloaded now with the bytes the registry signed (`unverifiedDownloads`). Bytes Yarn took from its
 *   cache instead cannot be told apart: refused too.
 */
import { checkTarballDigests, tarballDigests, type TarballDigests } from '@portcullis/core';
import { structUtils, type Configuration, type FetchOptions, type Locator, type Package } from '@yarnpkg/core';
import { fetchRunsCode } from './quirks.js';
import type { UnverifiedDownload } from './refuse.js';
import { registryTarballUrls, tarballKey, type SignedTarball } from './tarballs.js';

/**
 * Wraps the fetcher Yarn makes for one resolution (`configuration.makeFetcher()`, called once by `resolveEverything`):
 * before a fetch that runs the package's code (its nested fetches too: a `patch:` of a git dependency fetches the git
 * one through the same fetcher), `judge` is awaited, and throws to refuse; every fetch is told to `fetched`. Returns
 * what puts Yarn's own method back.
 */
export function guardResolutionFetcher(configuration: Configuration, judge: (locator: Locator, opts: FetchOptions) => Promise<void>, fetched: (locator: Locator) => void = () => {}): () => void {
  const own = Object.hasOwn(configuration, 'makeFetcher');
  const makeFetcher = configuration.makeFetcher;
  configuration.makeFetcher = function (this: Configuration) {
    const fetcher = makeFetcher.call(this);
    // Yarn's own MultiFetcher underneath (every other method and property), with its fetch guarded.
    const guarded = Object.create(fetcher) as typeof fetcher;
    guarded.fetch = async (locator: Locator, opts: FetchOptions) => {
      if (fetchRunsCode(locator)) await judge(locator, opts);
      // Recorded whether Yarn downloads it now or takes it from its cache: either way the fetch step will not download it.
      fetched(locator);
      return fetcher.fetch(locator, opts);
    };
    return guarded;
  };
  return () => {
    if (own) configuration.makeFetcher = makeFetcher;
    else delete (configuration as Partial<Configuration>).makeFetcher;
  };
}

/** A reference as a report may show it: no user or token. */
export function referenceWithoutCredentials(reference: string): string {
  return reference.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/** The tarballs Yarn downloaded during one project's resolutions with no signed integrity known: their digests, by `tarballKey`. */
export class ResolutionDownloads {
  #resolving = 0;
  #digests = new Map<string, TarballDigests>();

  /** A resolution starts. */
  begin(): void {
    this.#resolving++;
  }

  /** It ended: what was downloaded in it, handed over once; nothing more is kept. */
  end(): ReadonlyMap<string, TarballDigests> {
    this.#resolving = Math.max(0, this.#resolving - 1);
    const digests = this.#digests;
    if (this.#resolving === 0) this.#digests = new Map();
    return digests;
  }

  /** A request Yarn is about to make: during a resolution, the digests of a tarball's body are kept. */
  observe<T>(url: string, executor: () => Promise<T>): () => Promise<T> {
    const key = tarballKey(url);
    // A registry's tarball URL always ends in `.tgz` (core's isRegistryTarballUrl): packuments are not hashed.
    if (this.#resolving === 0 || !key.endsWith('.tgz')) return executor;
    return async () => {
      const response = await executor();
      const body = (response as { body?: unknown }).body;
      if (this.#resolving > 0 && Buffer.isBuffer(body)) this.#digests.set(key, tarballDigests(body));
      return response;
    };
  }
}

const byConfiguration = ((globalThis as Record<symbol, unknown>)[Symbol.for('portcullis.yarn-plugin.downloads.v1')] ??= new WeakMap()) as WeakMap<Configuration, ResolutionDownloads>;

/** The resolution downloads of the project with this configuration (one object per configuration, shared by every copy of the plugin). */
export function resolutionDownloads(configuration: Configuration): ResolutionDownloads {
  let downloads = byConfiguration.get(configuration);
  if (downloads === undefined) byConfiguration.set(configuration, (downloads = new ResolutionDownloads()));
  return downloads;
}

/**
 * The tarball URLs Yarn fetches a locator's bytes from, when it is a registry package: its own URL (a tarball-URL
 * dependency), or the registry's for an `npm:` locator (`registryTarballUrls`, with its `__archiveUrl`); a `patch:`
 * locator's are its original's. Nothing for anything else (git, exec:, file:, workspaces), never verified as a registry package.
 */
export function locatorTarballUrls(configuration: Configuration, locator: Pick<Locator, 'scope' | 'name' | 'reference'>): string[] {
  let reference = locator.reference;
  if (reference.startsWith('patch:')) {
    const hash = reference.indexOf('#');
    try {
      const inner = decodeURIComponent(reference.slice('patch:'.length, hash === -1 ? undefined : hash));
      const at = inner.indexOf('@', 1);
      if (at === -1) return [];
      reference = inner.slice(at + 1);
    } catch {
      return [];
    }
  }
  if (/^https?:\/\//i.test(reference)) return [tarballKey(reference)];
  if (!reference.startsWith('npm:')) return [];
  const at = reference.indexOf('::');
  const version = reference.slice('npm:'.length, at === -1 ? undefined : at);
  const archive = at === -1 ? null : new URLSearchParams(reference.slice(at + 2)).get('__archiveUrl');
  try {
    return registryTarballUrls(configuration, { name: structUtils.stringifyIdent(structUtils.makeIdent(locator.scope, locator.name)), version, ...(archive !== null ? { resolved: archive } : {}) });
  } catch {
    return [];
  }
}

/**
 * After the verdict: every locator Yarn fetched during this resolution (`fetched`: whatever the lockfile held, since a
 * lockfile Yarn refreshes is resolved again) that the verdict verified as a registry package (`urlsOf` names a URL
 * `signed` knows) must have been downloaded in it with the signed integrity; one Yarn took from its cache instead
 * cannot be told apart from altered bytes, and is refused too. Whatever was not fetched while resolving is fetched in
 * the fetch step, where every download is checked.
 */
export function unverifiedDownloads(fetched: Iterable<Pick<Locator, 'locatorHash' | 'scope' | 'name' | 'reference'>>, downloads: ReadonlyMap<string, TarballDigests>, signed: SignedTarball, urlsOf: (locator: Pick<Locator, 'scope' | 'name' | 'reference'>) => string[]): UnverifiedDownload[] {
  const out: UnverifiedDownload[] = [];
  const seen = new Set<string>();
  for (const locator of fetched) {
    if (seen.has(locator.locatorHash)) continue;
    seen.add(locator.locatorHash);
    const urls = urlsOf(locator);
    let expected: ReturnType<SignedTarball> = undefined;
    let url = urls[0] ?? '';
    for (const candidate of urls) {
      expected = signed(candidate);
      if (expected !== undefined) {
        url = candidate;
        break;
      }
    }
    if (expected === undefined) continue;
    const downloaded = urls.find((candidate) => downloads.has(candidate));
    const digests = downloaded === undefined ? undefined : downloads.get(downloaded);
    const verdict = digests === undefined ? { matches: false, actual: null } : checkTarballDigests(digests, expected.integrity);
    if (!verdict.matches) out.push({ package: expected.package || structUtils.stringifyLocator(locator as Locator), url: downloaded ?? url, expected: expected.integrity, actual: digests === undefined ? null : verdict.actual });
  }
  return out;
}
