/**
 * Where a package comes from, decided from what a lockfile records. Shared by the three readers so that
 * the same origin gets the same source kind whichever package manager wrote the lockfile.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import type { SourceKind } from '../model.js';
import { normalizeRegistryUrl } from '../registry/url.js';

const GIT_PREFIXES = ['git+', 'git://', 'github:', 'gitlab:', 'bitbucket:', 'gist:'];

/** Whether a resolved string names a git repository (npm's `git+ssh://…#sha`, `github:` shorthands). */
export function isGitReference(resolved: string): boolean {
  return GIT_PREFIXES.some((prefix) => resolved.startsWith(prefix));
}

/** Whether a string is an http(s) URL. */
export function isHttpUrl(value: string): boolean {
  return value.startsWith('https://') || value.startsWith('http://');
}

/** Whether a `file:` path names a packed tarball rather than a directory. */
export function isTarballPath(path: string): boolean {
  return /\.(?:tgz|tar\.gz|tar)$/i.test(path);
}

/** Removes user:password from an http(s) URL so that tokens never reach a report. */
export function withoutCredentials(url: string): string {
  if (!isHttpUrl(url)) return url;
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  } catch {
    return url;
  }
}

/**
 * The registry base URL (with a trailing slash) when `url` has the shape of a registry tarball for this
 * package (`<registry>/<name>/-/<bare-name>-<version>.tgz`); undefined for any other URL.
 */
export function registryOfTarball(url: string, name: string, version?: string): string | undefined {
  if (!isHttpUrl(url)) return undefined;
  let href: string;
  try {
    const parsed = new URL(url);
    parsed.search = '';
    parsed.hash = '';
    parsed.username = '';
    parsed.password = '';
    href = parsed.href;
  } catch {
    return undefined;
  }
  const bare = name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
  // Scoped names appear both plain and with the slash escaped, depending on the registry.
  const spellings = name.startsWith('@') ? [name, name.replace('/', '%2f'), name.replace('/', '%2F')] : [name];
  for (const spelling of spellings) {
    const marker = `/${spelling}/-/`;
    const at = href.lastIndexOf(marker);
    if (at === -1) continue;
    const file = href.slice(at + marker.length);
    const expected = version === undefined ? undefined : `${bare}-${version}.tgz`;
    if (expected !== undefined ? file === expected : file.startsWith(`${bare}-`) && file.endsWith('.tgz')) {
      return href.slice(0, at + 1);
    }
  }
  return undefined;
}

/** A registry base URL with exactly one trailing slash. */
export function normalizeRegistry(url: string): string {
  try {
    return normalizeRegistryUrl(url);
  } catch {
    return url.endsWith('/') ? url : `${url}/`;
  }
}

/** A local path relative to the project, in forward-slash form, and whether it lies inside the project. */
export function localPath(projectDir: string, baseDir: string, path: string): { path: string; insideProject: boolean } {
  const absolute = resolve(projectDir, baseDir, path);
  const rel = relative(projectDir, absolute);
  const insideProject = rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  return { path: (rel === '' ? '.' : rel).split('\\').join('/'), insideProject };
}

/** The source kind of an origin that is not a registry: git, remote or local tarball, or directory. */
export function nonRegistryKind(resolved: string): Exclude<SourceKind, 'registry' | 'workspace'> {
  if (isGitReference(resolved)) return 'git';
  if (resolved.startsWith('file:')) return isTarballPath(resolved) ? 'tarball' : 'directory';
  // Remote tarballs and anything we do not recognise: never exempt, never assumed signed.
  return 'tarball';
}
