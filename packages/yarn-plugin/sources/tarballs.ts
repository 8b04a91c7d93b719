/**
 * Closes the gap between what the registry signed and what Yarn installs. Yarn's lockfile checksum is a
 * hash of its own cache zip, so nothing in Yarn compares a downloaded tarball with the signed
 * `dist.integrity`: every tarball download of a verified registry package is checked here, before Yarn
 * unpacks it into its cache.
 *
 * The expected integrity is keyed by the exact URL Yarn fetches for each verified locator, computed the
 * way Yarn's npm fetcher computes it (its registry for the scope + `NpmSemverFetcher.getLocatorUrl`, and the
 * `%2f` → `/` retry), never by a name read back from a URL. Why no other tarball of a registry package can
 * be fetched unchecked: Yarn fetches a registry locator either from that conventional URL (in the map) or,
 * with `__archiveUrl`, from the URL the locator names, which the core accepts as that registry's package only
 * when it is exactly the conventional URL for that name and version (in the map too); any other URL is a
 * remote tarball, refused at resolution (UNSIGNED_SOURCE) unless `signatures.allowUnsigned` lets it in.
 */
import { checkTarballIntegrity, type PackageNode } from '@portcullis/core';
import { ReportError, structUtils, type Configuration, type httpUtils } from '@yarnpkg/core';
import { NpmSemverFetcher, npmConfigUtils } from '@yarnpkg/plugin-npm';
import { YarnCode } from './refuse.js';

/** One URL in the form the map is keyed by: credentials dropped, `..` and `%2e%2e` resolved (as Yarn's HTTP client does). */
export function tarballKey(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  } catch {
    return url;
  }
}

/** The URLs Yarn fetches a registry package's tarball from: its npm fetcher's URL (and retry), and the lockfile's own URL when the core accepted it. */
export function registryTarballUrls(configuration: Configuration, pkg: Pick<PackageNode, 'name' | 'version' | 'resolved'>): string[] {
  const locator = structUtils.makeLocator(structUtils.parseIdent(pkg.name), `npm:${pkg.version}`);
  const url = `${npmConfigUtils.getScopeRegistry(locator.scope, { configuration })}${NpmSemverFetcher.getLocatorUrl(locator)}`;
  // Yarn retries a failed scoped download with the slash unescaped.
  const urls = [url, url.replace(/%2f/g, '/')];
  if (pkg.resolved !== undefined) urls.push(pkg.resolved);
  return [...new Set(urls.map(tarballKey))];
}

/** Integrity the registry signed, by the exact tarball URL Yarn fetches (see `registryTarballUrls`). */
export type SignedTarballs = Map<string, { integrity: string; package: string }>;

/** The signed integrity of the tarball at a URL (in `tarballKey` form), if it is one of a verified package. */
export type SignedTarball = (key: string) => { integrity: string; package: string } | undefined;

/** wrapNetworkRequest: a tarball whose bytes do not carry the signed integrity aborts the fetch step. */
export function tarballCheck(signed: SignedTarball) {
  return async (executor: () => Promise<httpUtils.Response>, extra: { target: string | URL }): Promise<() => Promise<httpUtils.Response>> => {
    const expected = signed(tarballKey(String(extra.target)));
    if (expected === undefined) return executor;
    return async () => {
      const response = await executor();
      const body = (response as { body?: unknown }).body;
      const verdict = Buffer.isBuffer(body) ? checkTarballIntegrity(body, expected.integrity) : { matches: false, actual: undefined };
      if (!verdict.matches) {
        throw new ReportError(
          YarnCode.tarball,
          `portcullis BAD_SIGNATURE: the tarball served for ${expected.package} is not the one the registry signed (it has ${verdict.actual ?? 'an unknown integrity'}, the signature covers ${expected.integrity}); nothing of it was installed. Fix: do not install it; clear Yarn's cache entry and report the registry or mirror that served it`,
        );
      }
      return response;
    };
  };
}
