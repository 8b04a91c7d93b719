/**
 * Where a package comes from, decided from what a lockfile records. Shared by the three readers so that
 * the same origin gets the same source kind whichever package manager wrote the lockfile.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { SourceKind } from '../model.js';
import { normalizeRegistryUrl, NPM_REGISTRY_URL } from '../registry-url.js';
import { isValidPackageName } from '../package-name.js';
import { isRegistryVersion } from './names.js';

const GIT_PREFIXES = ['git+', 'git://', 'github:', 'gitlab:', 'bitbucket:', 'gist:'];

/**
 * Whether a resolved string names a git repository (npm's `git+ssh://…#sha`, `github:` shorthands). The prefix in any
 * case: npm reads a URL's scheme through the URL parser, which lowers it (`GIT+file:///…` in a lockfile is cloned and
 * prepared like `git+file:`; npm-package-arg 10.9.9 to 12.2.3), and its shorthand prefixes case-insensitively.
 */
export function isGitReference(resolved: string): boolean {
  const head = resolved.slice(0, 10).toLowerCase();
  return GIT_PREFIXES.some((prefix) => head.startsWith(prefix));
}

/**
 * Yarn's own test for a git reference (`gitUtils.isGitUrl` of @yarnpkg/plugin-git, 4.0 to 4.18): a reference matching
 * any of these is fetched by cloning (or, for a GitHub URL, downloading) the repository and packing it. A copy, since
 * core never imports Yarn; `yarn.test.ts` pins it against the real function on a list of spellings.
 */
export const YARN_GIT_PATTERNS: readonly RegExp[] = [
  /^ssh:/,
  /^git(?:\+[^:]+)?:/,
  // `git+` is optional, `.git` is required
  /^(?:git\+)?https?:[^#]+\/[^#]+(?:\.git)(?:#.*)?$/,
  /^git@[^#]+\/[^#]+\.git(?:#.*)?$/,
  /^(?:github:|https:\/\/github\.com\/)?(?!\.{1,2}\/)([a-zA-Z._0-9-]+)\/(?!\.{1,2}(?:#|$))([a-zA-Z._0-9-]+?)(?:\.git)?(?:#.*)?$/,
  // GitHub `/tarball/` URLs
  /^https:\/\/github\.com\/(?!\.{1,2}\/)([a-zA-Z0-9._-]+)\/(?!\.{1,2}(?:#|$))([a-zA-Z0-9._-]+?)\/tarball\/(.+)?$/,
];

/** Whether Yarn reads a locator reference as a git repository (`YARN_GIT_PATTERNS`). */
export function isYarnGitReference(reference: string): boolean {
  return reference !== '' && YARN_GIT_PATTERNS.some((pattern) => pattern.test(reference));
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

/** Hosts that serve the npm registry's own packages and tarballs under the same paths (Yarn's default is the second). */
const NPM_REGISTRY_SPELLINGS = [NPM_REGISTRY_URL, 'https://registry.yarnpkg.com/'];

/**
 * Whether `url` is exactly the tarball `registry` serves for `name@version` by the registry convention,
 * `<registry><name>/-/<bare-name>-<version>.tgz` (a scope's slash plain or as `%2f`, a `+` in the version plain
 * or as `%2B`), the URL Yarn and npm fetch for a registry package. Credentials are ignored; any other host,
 * port, scheme, path prefix, file name, query or fragment is not that tarball. `..` and `%2e%2e` segments are
 * resolved first, as every client's URL parser does.
 */
export function isRegistryTarballUrl(url: string, name: string, version: string, registry: string): boolean {
  if (!isHttpUrl(url) || !isValidPackageName(name) || !isRegistryVersion(version)) return false;
  let href: string;
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    href = parsed.href;
  } catch {
    return false;
  }
  const base = normalizeRegistry(registry);
  const bases = NPM_REGISTRY_SPELLINGS.includes(base) ? NPM_REGISTRY_SPELLINGS : [base];
  const bare = name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
  const paths = name.startsWith('@') ? [name, name.replace('/', '%2f'), name.replace('/', '%2F')] : [name];
  const versions = version.includes('+') ? [version, version.replace('+', '%2B'), version.replace('+', '%2b')] : [version];
  for (const prefix of bases) {
    for (const path of paths) {
      for (const v of versions) {
        let candidate: string;
        try {
          candidate = new URL(`${prefix}${path}/-/${bare}-${v}.tgz`).href;
        } catch {
          continue;
        }
        if (candidate === href) return true;
      }
    }
  }
  return false;
}

/** A registry base URL with exactly one trailing slash. */
export function normalizeRegistry(url: string): string {
  try {
    return normalizeRegistryUrl(url);
  } catch {
    return url.endsWith('/') ? url : `${url}/`;
  }
}

/**
 * A local path relative to the project, in forward-slash form, and whether it lies inside the project: its text stays in
 * the project, no folder on the way is a `node_modules` (installed packages are nobody's own code), and on disk no
 * symlink on the way leads elsewhere (a committed `vendored/x -> ../node_modules/evil` or `-> ../../outside` is judged
 * where it leads; one that leads nowhere yet is not inside: fail closed).
 */
export function localPath(projectDir: string, baseDir: string, path: string): { path: string; insideProject: boolean } {
  const absolute = resolve(projectDir, baseDir, path);
  const rel = relative(projectDir, absolute);
  const lexicallyInside = rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  const insideProject = lexicallyInside && !hasNodeModules(rel) && staysInside(projectDir, rel);
  return { path: (rel === '' ? '.' : rel).split('\\').join('/'), insideProject };
}

function hasNodeModules(rel: string): boolean {
  return rel.split(/[\\/]/).includes('node_modules');
}

/** Whether every symlink on the way from `projectDir` along `rel` leads to a folder inside the project, outside any `node_modules`. */
function staysInside(projectDir: string, rel: string): boolean {
  if (rel === '') return true;
  let at = projectDir;
  for (const part of rel.split(/[\\/]/)) {
    at = join(at, part);
    let link: boolean;
    try {
      link = lstatSync(at).isSymbolicLink();
    } catch {
      // Not there (yet): nothing further on the way exists either, so no link can lead elsewhere.
      return true;
    }
    if (!link) continue;
    try {
      const root = realpathSync(projectDir);
      const real = realpathSync(join(projectDir, rel));
      const inside = relative(root, real);
      return real === root || (!inside.startsWith('..') && !isAbsolute(inside) && !hasNodeModules(inside) && real.startsWith(root.endsWith(sep) ? root : root + sep));
    } catch {
      // A link that leads nowhere yet (its target is installed later): not the project's own.
      return false;
    }
  }
  return true;
}

/**
 * The source kind of an origin that is not a registry: git, remote or local tarball, or directory. Only the spellings
 * whose reading is known are tarballs or directories: a lowercase `file:` path, an `http://`/`https://` URL. npm-package-arg
 * (npm 10.9.9 to 12.2.3) reads a `resolved` of `user/repo#ref` or `user/x.tgz` as a GitHub repository, which npm clones and
 * prepares (twelfth wave H1), and `FILE:x` or ` https://…` as a literal path; so anything else counts as git, the kind
 * whose packing runs the most install-time code (`installTimeScripts`): never exempt, never signed.
 */
export function nonRegistryKind(resolved: string): Exclude<SourceKind, 'registry' | 'workspace'> {
  if (isGitReference(resolved)) return 'git';
  if (resolved.startsWith('file:')) return isTarballPath(resolved) ? 'tarball' : 'directory';
  if (isHttpUrl(resolved)) return 'tarball';
  return 'git';
}
