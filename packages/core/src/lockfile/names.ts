/**
 * Package names and `name@reference` keys as lockfiles write them. Names are validated because they
 * end up in paths, URLs and policy matches: a hostile lockfile must not smuggle `../` through them.
 */
import semver from 'semver';

export { isValidPackageName } from '../package-name.js';

/** Whether a version string is safe to carry around: non-empty, printable, bounded. */
export function isPlausibleVersion(version: string): boolean {
  // Versions of git and local packages are not semver, but they never contain control characters or spaces.
  return version.length > 0 && version.length <= 256 && !/[\s\u0000-\u001f\u007f]/.test(version);
}

/** Splits `name@reference` (also `@scope/name@reference`); undefined when there is no name part. */
export function splitNameAndReference(key: string): { name: string; reference: string } | undefined {
  const at = key.indexOf('@', key.startsWith('@') ? 1 : 0);
  if (at <= 0) return undefined;
  return { name: key.slice(0, at), reference: key.slice(at + 1) };
}

/** The package name at the end of an npm install path (`node_modules/a/node_modules/@s/b` → `@s/b`). */
export function nameFromInstallPath(path: string): string | undefined {
  const marker = 'node_modules/';
  const at = path.lastIndexOf(marker);
  if (at === -1 || (at > 0 && path[at - 1] !== '/')) return undefined;
  return path.slice(at + marker.length);
}

/** Whether a registry package's version is exact semver, as registries require (`semver.valid`; plain versions without loading semver). */
export function isRegistryVersion(version: string): boolean {
  return plainVersion(version) !== undefined || semver.valid(version) !== null;
}

/**
 * A plain version's three numbers (`major.minor.patch`: no prerelease, build, prefix, spaces or leading zeros; each a
 * safe integer), else undefined. Most versions in a lockfile or a release line are plain: they are read here without
 * semver (and without loading it, on most installs). Every plain version is valid semver with the same numbers
 * (names.test.ts).
 */
const PLAIN_VERSION = /^(0|[1-9]\d{0,15})\.(0|[1-9]\d{0,15})\.(0|[1-9]\d{0,15})$/;
export function plainVersion(version: string): [number, number, number] | undefined {
  const m = PLAIN_VERSION.exec(version);
  if (m === null) return undefined;
  const parts: [number, number, number] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return parts.every(Number.isSafeInteger) ? parts : undefined;
}
