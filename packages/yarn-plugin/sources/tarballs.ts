/**
 * Closes the gap between what the registry signed and what Yarn installs. Yarn's lockfile checksum is a
 * hash of its own cache zip, so nothing in Yarn compares a downloaded tarball with the signed
 * `dist.integrity`: every tarball download is checked here, before Yarn unpacks it into its cache.
 */
import { checkTarballIntegrity } from '@portcullis/core';
import { ReportError, type httpUtils } from '@yarnpkg/core';
import { YarnCode } from './messages.js';
import { signedTarballs } from './gate.js';

/** `name@version` of a conventional registry tarball URL (`…/@scope/name/-/name-1.2.3.tgz`), else undefined. */
export function tarballOf(url: string): string | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const at = path.lastIndexOf('/-/');
  if (at === -1 || !path.endsWith('.tgz')) return undefined;
  const segments = path.slice(0, at).split('/').map((s) => decodeURIComponent(s));
  const last = segments.at(-1) ?? '';
  const before = segments.at(-2) ?? '';
  const name = last.startsWith('@') && last.includes('/') ? last : before.startsWith('@') ? `${before}/${last}` : last;
  const basename = name.slice(name.lastIndexOf('/') + 1);
  const file = decodeURIComponent(path.slice(at + 3));
  if (!file.startsWith(`${basename}-`)) return undefined;
  return `${name}@${file.slice(basename.length + 1, -'.tgz'.length)}`;
}

/** wrapNetworkRequest: a tarball whose bytes do not carry the signed integrity aborts the fetch step. */
export async function verifyTarballDownload(
  executor: () => Promise<httpUtils.Response>,
  extra: { target: string | URL },
): Promise<() => Promise<httpUtils.Response>> {
  const key = tarballOf(String(extra.target));
  const expected = key === undefined ? undefined : signedTarballs.get(key);
  if (expected === undefined) return executor;
  return async () => {
    const response = await executor();
    const body = (response as { body?: unknown }).body;
    if (!Buffer.isBuffer(body)) return response;
    const verdict = checkTarballIntegrity(body, expected);
    if (!verdict.matches) {
      throw new ReportError(
        YarnCode.tarball,
        `portcullis BAD_SIGNATURE: the tarball served for ${key} is not the one the registry signed (it has ${verdict.actual ?? 'an unknown integrity'}, the signature covers ${expected}); nothing of it was installed. Fix: do not install it; clear Yarn's cache entry and report the registry or mirror that served it`,
      );
    }
    return response;
  };
}
