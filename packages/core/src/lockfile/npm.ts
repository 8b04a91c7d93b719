/**
 * npm's `package-lock.json` / `npm-shrinkwrap.json`, lockfile versions 2 and 3 (npm 7+). Only the
 * `packages` section is read: it is keyed by install path, which is what npm actually lays out on disk.
 */
import { posix } from 'node:path';
import type { Lockfile, SourceLocation } from '../model.js';
import { PackageGraph, type CopyFacts } from './graph.js';
import {
  LinePositions,
  assertLockfileSize,
  invalidLockfile,
  isRecord,
  own,
  ownRecord,
  ownString,
  stringEntries,
  withoutBom,
  type LockRecord,
  type LockfileReadOptions,
} from './input.js';
import { isPlausibleVersion, isRegistryVersion, isValidPackageName, nameFromInstallPath } from './names.js';
import {
  isHttpUrl,
  isRegistryTarballUrl,
  localPath,
  nonRegistryKind,
  normalizeRegistry,
  withoutCredentials,
} from './sources.js';
import { NPM_REGISTRY_URL } from '../registry-url.js';

const ROOT = '.';
const SRI = /^(?:sha(?:1|256|384|512)-[A-Za-z0-9+/]+={0,2}\s*)+$/;

/** Reads an npm lockfile (v2/v3) into the normalized package model. */
export function readNpmLockfile(text: string, opts: LockfileReadOptions): Lockfile {
  const file = opts.path;
  assertLockfileSize(Buffer.byteLength(text), file);
  const source = withoutBom(text);
  const lines = new LinePositions(source);
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    const message = (error as Error).message;
    const offset = /position (\d+)/.exec(message);
    throw invalidLockfile(file, `not valid JSON (${message})`, offset ? lines.at(Number(offset[1])) : undefined);
  }
  if (!isRecord(parsed)) throw invalidLockfile(file, 'expected a JSON object at the top level');
  const version = own(parsed, 'lockfileVersion');
  if (version !== 2 && version !== 3) {
    throw invalidLockfile(
      file,
      `lockfileVersion ${JSON.stringify(version)} is not supported; Portcullis reads versions 2 and 3 (npm 7 and later) — run \`npm install --package-lock-only\` with a current npm to upgrade it`,
    );
  }
  const packagesRecord = ownRecord(parsed, 'packages');
  if (packagesRecord === undefined) throw invalidLockfile(file, 'has no "packages" section');

  const entries = new Map<string, LockRecord>();
  for (const [key, value] of Object.entries(packagesRecord)) {
    if (!isRecord(value)) throw invalidLockfile(file, `entry ${JSON.stringify(key)} is not an object`, locateEntries(source, lines).get(key));
    entries.set(key, value);
  }
  return { kind: 'npm', path: file, packages: new NpmReader(locateEntries(source, lines), entries, opts).read() };
}

class NpmReader {
  private readonly graph = new PackageGraph();
  /** Node id of each install path and link target. */
  private readonly idAt = new Map<string, string>();
  private readonly workspaceGlobs: Array<(path: string) => boolean>;
  private readonly file: string;
  /** Install paths of the links pointing at each link target. */
  private readonly linksTo = new Map<string, string[]>();

  constructor(
    private readonly locations: Map<string, SourceLocation>,
    private readonly entries: Map<string, LockRecord>,
    private readonly opts: LockfileReadOptions,
  ) {
    this.file = opts.path;
    this.workspaceGlobs = workspacePatterns(entries.get('')).map(globMatcher);
    for (const [key, entry] of entries) {
      const target = ownString(entry, 'resolved');
      if (!isInstallPath(key) || own(entry, 'link') !== true || target === undefined) continue;
      const list = this.linksTo.get(target);
      if (list === undefined) this.linksTo.set(target, [key]);
      else list.push(key);
    }
  }

  read() {
    // Link targets first, so that links and dependents can point at them.
    for (const [key, entry] of this.entries) {
      if (key === '' || isInstallPath(key)) continue;
      this.addLinkTarget(key, entry);
    }
    for (const [key, entry] of this.entries) {
      if (isInstallPath(key)) this.addInstalled(key, entry);
    }
    for (const [key, entry] of this.entries) {
      const from = key === '' ? ROOT : this.idAt.get(key);
      if (from === undefined) continue;
      // A link's dependencies are its target's; the target entry carries them.
      if (own(entry, 'link') === true) continue;
      this.addEdges(key, from, entry, key === '' || this.isWorkspace(key));
    }
    return this.graph.nodes();
  }

  /** A workspace or a `file:` directory, recorded at its own path (not under node_modules). */
  private addLinkTarget(key: string, entry: LockRecord): void {
    const location = this.locations.get(key);
    const { path, insideProject } = localPath(this.opts.projectDir, '.', key);
    const recorded = ownString(entry, 'name');
    // The target of a `file:` link is named after the links that point at it when it does not say.
    const links = this.linksTo.get(key) ?? [];
    const firstLink = links[0];
    const name = recorded ?? (firstLink !== undefined ? nameFromInstallPath(firstLink) : undefined) ?? posix.basename(key);
    this.checkName(name, key, location);
    const version = ownString(entry, 'version') ?? '0.0.0';
    this.checkVersion(version, key, location);
    const workspace = this.isWorkspace(key);
    const facts: CopyFacts = workspace
      ? { id: path, name, version, source: 'workspace', insideProject, location }
      : { name, version, source: 'directory', resolved: `file:${path}`, insideProject, location };
    facts.hasInstallScript = own(entry, 'hasInstallScript') === true;
    if (links.length === 0) {
      this.idAt.set(key, this.graph.addCopy(facts, key));
      return;
    }
    for (const linkPath of links) {
      const id = this.graph.addCopy(facts, linkPath, nameFromInstallPath(linkPath));
      this.idAt.set(key, id);
      this.idAt.set(linkPath, id);
    }
  }

  private isWorkspace(key: string): boolean {
    return this.workspaceGlobs.some((matches) => matches(key));
  }

  /** A copy under node_modules: from a registry, git, a tarball, a directory, or bundled in its parent. */
  private addInstalled(key: string, entry: LockRecord): void {
    const location = this.locations.get(key);
    const installedAs = nameFromInstallPath(key);
    if (installedAs === undefined || !isValidPackageName(installedAs)) {
      throw invalidLockfile(this.file, `install path ${JSON.stringify(key)} does not end in a valid package name`, location);
    }
    // npm writes forward slashes on every platform: a backslash or NUL can only be an escape attempt.
    for (const segment of key.split(/[/\\]/)) {
      if (segment === '..' || segment === '.' || segment === '' || segment.includes('\u0000')) {
        throw invalidLockfile(this.file, `install path ${JSON.stringify(key)} contains an empty, "." or ".." segment, a backslash or NUL`, location);
      }
    }
    if (own(entry, 'link') === true) {
      const target = ownString(entry, 'resolved');
      if (target === undefined || !this.entries.has(target)) {
        throw invalidLockfile(this.file, `link ${JSON.stringify(key)} points at ${JSON.stringify(target)}, which has no entry`, location);
      }
      return; // recorded with its target
    }
    // An alias (`npm:real@1`) is installed under its alias and records the real name.
    const name = ownString(entry, 'name') ?? installedAs;
    this.checkName(name, key, location);
    const version = ownString(entry, 'version');
    if (version === undefined) throw invalidLockfile(this.file, `entry ${JSON.stringify(key)} has no version`, location);
    this.checkVersion(version, key, location);
    const integrity = ownString(entry, 'integrity');
    if (integrity !== undefined && !SRI.test(integrity)) {
      throw invalidLockfile(this.file, `entry ${JSON.stringify(key)} has a malformed integrity ${JSON.stringify(integrity)}`, location);
    }
    const facts: CopyFacts = { name, version, source: 'registry', location, hasInstallScript: own(entry, 'hasInstallScript') === true };
    if (integrity !== undefined) facts.integrity = integrity;

    const resolved = ownString(entry, 'resolved');
    // `inBundle` under the project root or a workspace bundles nothing: npm fetches such a copy itself
    // (it reads it as the root's own bundleDependencies), so it is judged as what it is, not as shipped inside a parent.
    // Nor is an entry with a `resolved` or an `integrity` of its own: npm writes neither for a copy its parent's tarball
    // ships, and fetches one the tarball lacks from them — a copy judged as shipped would then be installed from wherever
    // its entry points, unjudged (attack round of issue 17). Such an entry is judged as the package it names.
    const parent = shippedInParent(entry) ? this.bundlingParent(key) : undefined;
    if (parent !== undefined) {
      // Shipped inside the parent's tarball: it comes from wherever the parent comes from.
      // Its id names the bundling parent: the same name@version bundled by two parents is two copies of code.
      facts.inBundle = true;
      facts.source = parent.source;
      facts.id = `${name}@${version} (bundled in ${parent.id})`;
      facts.bundledBy = { name: parent.name, version: parent.version };
      if (parent.registry !== undefined) facts.registry = parent.registry;
      if (facts.source === 'registry' && facts.registry === undefined) facts.registry = normalizeRegistry(this.opts.registryFor(name));
    } else if (resolved === undefined) {
      // npm leaves `resolved` out for registry packages under omit-lockfile-registry-resolved.
      facts.registry = normalizeRegistry(this.opts.registryFor(name));
    } else {
      const registry = this.registryOfResolved(resolved, name, version);
      if (registry !== undefined) {
        facts.registry = registry;
        facts.resolved = withoutCredentials(resolved);
      } else if (resolved.startsWith('file:')) {
        const local = localPath(this.opts.projectDir, '.', resolved.slice('file:'.length));
        facts.source = nonRegistryKind(resolved);
        facts.resolved = `file:${local.path}`;
        facts.insideProject = local.insideProject;
        // A folder at an install path, not a link: npm installs a copy it packs (install-links), running its `prepare`.
        if (facts.source === 'directory') facts.packedOnInstall = true;
      } else {
        facts.source = nonRegistryKind(resolved);
        facts.resolved = isHttpUrl(resolved) ? withoutCredentials(resolved) : resolved;
      }
    }
    if (facts.source === 'registry' && !isRegistryVersion(version)) {
      throw invalidLockfile(this.file, `entry ${JSON.stringify(key)} is a registry package with a version that is not semver: ${JSON.stringify(version)}`, location);
    }
    this.idAt.set(key, this.graph.addCopy(facts, key, installedAs));
  }

  /**
   * The registry a `resolved` URL is a package of: only exactly the configured registry's own tarball for this
   * name and version. npm fetches `resolved` as written, except that by default (`replace-registry-host=npmjs`)
   * it fetches the npm registry's URLs from the configured registry. Any other URL is a remote tarball.
   */
  private registryOfResolved(resolved: string, name: string, version: string): string | undefined {
    const registry = normalizeRegistry(this.opts.registryFor(name));
    if (isRegistryTarballUrl(resolved, name, version, registry) || isRegistryTarballUrl(resolved, name, version, NPM_REGISTRY_URL)) return registry;
    return undefined;
  }

  /** The facts of the nearest enclosing copy that is not itself bundled. */
  private bundlingParent(key: string): { id: string; name: string; version: string; source: CopyFacts['source']; registry?: string } | undefined {
    for (let dir = parentInstallPath(key); dir !== undefined && dir !== ''; dir = parentInstallPath(dir)) {
      // The project root, a workspace or a `file:` folder is the project's own code: no package tarball to ship it in.
      if (!isInstallPath(dir)) return undefined;
      const entry = this.entries.get(dir);
      if (entry === undefined || shippedInParent(entry)) continue;
      if (own(entry, 'link') === true) return undefined;
      const resolved = ownString(entry, 'resolved');
      const name = ownString(entry, 'name') ?? nameFromInstallPath(dir) ?? '';
      const version = ownString(entry, 'version') ?? '?';
      const id = `${name}@${version}`;
      if (resolved === undefined) return { id, name, version, source: 'registry', registry: normalizeRegistry(this.opts.registryFor(name)) };
      const registry = this.registryOfResolved(resolved, name, version);
      if (registry !== undefined) return { id, name, version, source: 'registry', registry };
      return { id, name, version, source: nonRegistryKind(resolved) };
    }
    return undefined;
  }

  /** Dependency edges from the entry at `key`, resolved the way Node finds modules: walking up. */
  private addEdges(key: string, from: string, entry: LockRecord, withDev: boolean): void {
    const groups = ['dependencies', 'optionalDependencies', 'peerDependencies'];
    if (withDev) groups.push('devDependencies');
    for (const group of groups) {
      for (const [depName] of stringEntries(ownRecord(entry, group))) {
        const found = this.resolveFrom(key, depName);
        if (found === undefined) continue; // optional or peer not installed, or a broken tree
        const id = this.idAt.get(found);
        if (id !== undefined) this.graph.addDependent(id, from);
      }
    }
  }

  /** The install path `name` resolves to from the package at `key` (npm's node_modules lookup). */
  private resolveFrom(key: string, name: string): string | undefined {
    const outside = key.startsWith('../');
    let dir = key === '' ? '' : key;
    for (;;) {
      const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (this.entries.has(candidate)) return candidate;
      if (dir === '') return undefined;
      const up = posix.dirname(dir);
      if (up === dir) return undefined; // an absolute path reached `/`
      // Outside the project, lookup never climbs back into the project's node_modules.
      if (outside && !up.startsWith('..')) return undefined;
      dir = up === '.' ? '' : up;
    }
  }

  private checkName(name: string, key: string, location: SourceLocation | undefined): void {
    if (!isValidPackageName(name)) {
      throw invalidLockfile(this.file, `entry ${JSON.stringify(key)} has an invalid package name ${JSON.stringify(name)}`, location);
    }
  }

  private checkVersion(version: string, key: string, location: SourceLocation | undefined): void {
    if (!isPlausibleVersion(version)) {
      throw invalidLockfile(this.file, `entry ${JSON.stringify(key)} has an invalid version ${JSON.stringify(version)}`, location);
    }
  }
}

/** Whether a packages key is an install path (as opposed to the root or a link target). */
function isInstallPath(key: string): boolean {
  return key.startsWith('node_modules/') || key.includes('/node_modules/');
}

/**
 * Whether a lockfile entry says its copy comes inside its parent's tarball: `inBundle`, and neither a `resolved` nor an
 * `integrity` of its own (npm writes neither for a copy a tarball ships; an entry with them is one npm fetches when the
 * parent's tarball lacks it).
 */
function shippedInParent(entry: LockRecord): boolean {
  return own(entry, 'inBundle') === true && own(entry, 'resolved') === undefined && own(entry, 'integrity') === undefined;
}

/** The install path that contains `key` (`a/node_modules/b` → `a`), or undefined at the top. */
function parentInstallPath(key: string): string | undefined {
  const at = key.lastIndexOf('/node_modules/');
  return at === -1 ? undefined : key.slice(0, at);
}

/** The root's `workspaces` patterns (array form or `{packages: […]}`). */
function workspacePatterns(root: LockRecord | undefined): string[] {
  const value = own(root, 'workspaces');
  const list = Array.isArray(value) ? value : isRecord(value) ? own(value, 'packages') : undefined;
  if (!Array.isArray(list)) return [];
  return list.filter((item): item is string => typeof item === 'string');
}

/** Longest glob or path matched; real ones are far shorter, and anything longer is simply not a workspace. */
const MAX_GLOB_INPUT = 4096;

/**
 * A workspace glob as npm matches it against a relative path: `*` within a segment, `**` across.
 * Matched in one pass per glob token (no regex backtracking: a hostile glob costs O(glob × path)).
 */
function globMatcher(glob: string): (path: string) => boolean {
  const cleaned = glob.replace(/^\.\//, '').replace(/\/+$/, '');
  const tokens: string[] = [];
  for (let i = 0; i < cleaned.length; i++) {
    if (cleaned[i] === '*' && cleaned[i + 1] === '*') {
      tokens.push('**');
      i++;
    } else tokens.push(cleaned[i] as string);
  }
  return (path) => {
    if (path.length > MAX_GLOB_INPUT || tokens.length > MAX_GLOB_INPUT) return false;
    // reach[j]: the tokens so far can match exactly path[0, j).
    let reach = new Uint8Array(path.length + 1);
    reach[0] = 1;
    for (const token of tokens) {
      const next = new Uint8Array(path.length + 1);
      if (token === '*' || token === '**') {
        let open = false;
        for (let j = 0; j <= path.length; j++) {
          if (j > 0 && open && (token === '*' ? path[j - 1] === '/' : path[j - 1] === '\n')) open = false;
          if (reach[j] === 1) open = true;
          if (open) next[j] = 1;
        }
      } else {
        for (let j = 0; j < path.length; j++) {
          if (reach[j] === 1 && (token === '?' ? path[j] !== '/' : path[j] === token)) next[j + 1] = 1;
        }
      }
      reach = next;
    }
    return reach[path.length] === 1;
  };
}

/**
 * Where each `"key": {` of the packages section starts, found in one scan of the text: npm pretty-prints
 * with two spaces, so entries sit at four. Other layouts simply get no locations.
 */
function locateEntries(source: string, lines: LinePositions): Map<string, SourceLocation> {
  const found = new Map<string, SourceLocation>();
  const section = source.indexOf('"packages": {');
  if (section === -1) return found;
  const entry = /^ {4}("(?:[^"\\\n]|\\.)*"): \{/gm;
  entry.lastIndex = section;
  for (let match = entry.exec(source); match !== null; match = entry.exec(source)) {
    try {
      const key: unknown = JSON.parse(match[1] as string);
      if (typeof key === 'string' && !found.has(key)) found.set(key, lines.at(match.index + 4));
    } catch {
      // not a key after all; skip it
    }
  }
  return found;
}
