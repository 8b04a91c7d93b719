/**
 * pnpm lockfile v9 (pnpm 9 and later), in the three shapes we meet: the on-disk YAML; the same shape as
 * an object (what pnpm 12 hands `afterAllResolved`); and the merged object pnpm 10/11 hand
 * `preResolution` and `afterAllResolved` (no `snapshots`: each `packages` entry, keyed with its peer
 * suffix, carries resolution and dependencies, and importers list `dependencies` + `specifiers`).
 */
import { isAbsolute, posix } from 'node:path';
import type { Lockfile, PackageNode, SourceLocation } from '../model.js';
import { copyIdentity, PackageGraph, packageId, type CopyFacts } from './graph.js';
import {
  assertLockfileSize,
  invalidLockfile,
  isRecord,
  own,
  ownRecord,
  ownString,
  withoutBom,
  type LockRecord,
  type LockfileReadOptions,
} from './input.js';
import { isPlausibleVersion, isRegistryVersion, isValidPackageName, splitNameAndReference } from './names.js';
import { isGitReference, isHttpUrl, isRegistryTarballUrl, localPath, normalizeRegistry, withoutCredentials } from './sources.js';
import { parseYamlLockfile } from './yaml.js';

const SRI = /^(?:sha(?:1|256|384|512)-[A-Za-z0-9+/]+={0,2}\s*)+$/;
const DEPENDENCY_GROUPS = ['dependencies', 'devDependencies', 'optionalDependencies'];
/** pnpm records no version for workspaces and directories; this is Yarn's marker for the same. */
const UNKNOWN_LOCAL_VERSION = '0.0.0-use.local';

/** Reads a pnpm v9 lockfile, given as YAML text or as the object pnpm passes to hooks. */
export function readPnpmLockfile(input: string | object, opts: LockfileReadOptions): Lockfile {
  const file = opts.path;
  let data: LockRecord;
  let locations = new Map<string, SourceLocation>();
  let snapshotLocations = new Map<string, SourceLocation>();
  let importerLocations = new Map<string, SourceLocation>();
  if (typeof input === 'string') {
    assertLockfileSize(Buffer.byteLength(input), file);
    const documents = yamlDocuments(withoutBom(input));
    // pnpm 11+ writes config dependencies (code that runs: pnpmfiles) as a first document before the project's.
    if (documents.length > 1) return mergeDocuments(file, documents.map((d) => shifted(readPnpmLockfile(d.text, opts), d.firstLine - 1)));
    const parsed = parseYamlLockfile(withoutBom(input), file, 'core');
    data = parsed.data;
    locations = parsed.keyLocations('packages');
    snapshotLocations = parsed.keyLocations('snapshots');
    importerLocations = parsed.keyLocations('importers');
  } else if (isRecord(input)) {
    data = input;
  } else {
    throw invalidLockfile(file, 'expected a lockfile object');
  }
  const version = ownString(data, 'lockfileVersion');
  if (version === undefined || !/^9(?:\.|$)/.test(version)) {
    throw invalidLockfile(
      file,
      `lockfileVersion ${JSON.stringify(own(data, 'lockfileVersion') ?? null)} is not supported; Portcullis reads lockfile v9 (pnpm 9 and later)`,
    );
  }
  // A lockfile read from disk is the whole decision (check): a dependency it does not pin is re-resolved by pnpm,
  // so it is refused. A hook's in-memory lockfile is judged again after pnpm re-resolves (afterAllResolved).
  const reader = new PnpmReader(data, opts, (key) => locations.get(key) ?? snapshotLocations.get(key), (path) => importerLocations.get(path), typeof input === 'string');
  return { kind: 'pnpm', path: file, packages: reader.read() };
}

/**
 * Where a line may be a `---` separator: any line yamlDocuments counts as one matches (it may match more: JavaScript
 * also ends lines at CR and U+2028, and `\s` spans lines). Most lockfiles have none: then the text is one document,
 * found without splitting and joining it again (~22,000 lines for 3,000 packages).
 */
const MAYBE_SEPARATOR = /^---\s*$/m;

/** Splits YAML text at top-level `---` separators, remembering where each document starts (1-based line). */
function yamlDocuments(text: string): Array<{ text: string; firstLine: number }> {
  if (!MAYBE_SEPARATOR.test(text)) return text.trim() === '' ? [] : [{ text, firstLine: 1 }];
  const lines = text.split('\n');
  const documents: Array<{ text: string; firstLine: number }> = [];
  let start = 0;
  const flush = (end: number) => {
    const body = lines.slice(start, end).join('\n');
    if (body.trim() !== '') documents.push({ text: body, firstLine: start + 1 });
  };
  lines.forEach((line, i) => {
    if (line.trimEnd() === '---') {
      flush(i);
      start = i + 1;
    }
  });
  flush(lines.length);
  return documents;
}

function shifted(lockfile: Lockfile, lines: number): Lockfile {
  for (const pkg of lockfile.packages) if (pkg.location) pkg.location = { line: pkg.location.line + lines, column: pkg.location.column };
  return lockfile;
}

/**
 * One package list from several lockfile documents: the same package in two documents is one node, while two
 * documents that name `name@version` with another integrity (or another origin) give two nodes, each judged: pnpm
 * installs each document's own (the first one holds its config dependencies), so neither may stand in for the other.
 * A node that keeps its name under another id is renamed in its own document's dependents too.
 */
function mergeDocuments(file: string, parts: Lockfile[]): Lockfile {
  const byIdentity = new Map<string, PackageNode>();
  const ids = new Set<string>();
  for (const part of parts) {
    // Each copy's node in the merged list (found or new), and the ids of this document that name another node there.
    const targets = part.packages.map((pkg) => {
      // The same facts PackageGraph keeps copies apart by within one document (a node renamed `… [2]` there is matched
      // by its id without the suffix: packageId).
      const identity = copyIdentity(pkg.source === 'workspace' ? pkg.id : packageId(pkg), pkg);
      let node = byIdentity.get(identity);
      if (node === undefined) {
        let id = pkg.id;
        for (let n = 2; ids.has(id); n++) id = `${pkg.id} [${n}]`;
        node = { ...pkg, id, paths: [], dependents: [] };
        ids.add(id);
        byIdentity.set(identity, node);
      }
      return node;
    });
    const renamed = new Map<string, string>();
    part.packages.forEach((pkg, i) => {
      if (targets[i]!.id !== pkg.id) renamed.set(pkg.id, targets[i]!.id);
    });
    part.packages.forEach((pkg, i) => {
      const node = targets[i]!;
      node.paths = [...new Set([...node.paths, ...pkg.paths])];
      node.dependents = [...new Set([...node.dependents, ...pkg.dependents.map((d) => renamed.get(d) ?? d)])];
    });
  }
  return { kind: 'pnpm', path: file, packages: [...byIdentity.values()] };
}

class PnpmReader {
  private readonly graph = new PackageGraph();
  private readonly file: string;
  private readonly importers: Map<string, LockRecord>;
  private readonly packages: LockRecord;
  private readonly snapshots: LockRecord | undefined;
  /** Node id of every packages/snapshots key, with and without its peer suffix. */
  private readonly idOfKey = new Map<string, string>();
  /** The patch files `patchedDependencies` names for each patch hash (pnpm 10 records them; 11 and 12 only the hash). */
  private readonly patchFiles: Map<string, string[]>;
  /** The patches `patchedDependencies` names, by package name: pnpm applies them by name and version, whatever a key says. */
  private readonly patchesByName: Map<string, NamedPatch[]>;

  constructor(
    data: LockRecord,
    private readonly opts: LockfileReadOptions,
    private readonly locate: (key: string) => SourceLocation | undefined,
    private readonly locateImporter: (path: string) => SourceLocation | undefined,
    /** Refuse a dependency that has no entry under `packages`/`snapshots` (pnpm calls it a broken lockfile). */
    private readonly everyDependencyPinned: boolean,
  ) {
    this.file = opts.path;
    this.packages = ownRecord(data, 'packages') ?? {};
    this.snapshots = ownRecord(data, 'snapshots');
    this.importers = new Map();
    this.patchFiles = patchFilesByHash(ownRecord(data, 'patchedDependencies'));
    this.patchesByName = patchesByName(ownRecord(data, 'patchedDependencies'));
    // pnpm then leaves the project's `link:` dependencies out of the lockfile (measured on 10.34.8, 11.28.10, 12.24.0:
    // one to a folder outside the project was linked with nothing to judge it by): what a lockfile does not name
    // cannot be judged.
    if (own(ownRecord(data, 'settings') ?? {}, 'excludeLinksFromLockfile') === true) {
      throw invalidLockfile(this.file, 'its settings leave the project\'s link: dependencies out (excludeLinksFromLockfile: true), so what they link cannot be judged; remove excludeLinksFromLockfile from pnpm\'s settings and install again');
    }
    for (const [path, importer] of Object.entries(ownRecord(data, 'importers') ?? {})) {
      if (!isRecord(importer)) throw invalidLockfile(this.file, `importer ${JSON.stringify(path)} is not a mapping`);
      this.importers.set(normalizeImporter(path), importer);
    }
  }

  read() {
    this.addWorkspaces();
    const keys = this.packageKeys();
    for (const key of keys) this.addPackage(key);
    for (const [path, importer] of this.importers) {
      for (const group of DEPENDENCY_GROUPS) {
        for (const [alias, reference] of importerDependencies(ownRecord(importer, group))) {
          this.addEdge(path, path, alias, reference);
        }
      }
    }
    for (const key of keys) {
      const from = this.idOfKey.get(key);
      if (from === undefined) continue;
      const entry = this.snapshotOf(key);
      for (const group of ['dependencies', 'optionalDependencies']) {
        for (const [alias, reference] of importerDependencies(ownRecord(entry, group))) this.addEdge(from, '.', alias, reference);
      }
    }
    return this.graph.nodes();
  }

  /** Every installed package key: the snapshots (peer variants), plus packages entries no snapshot uses. */
  private packageKeys(): string[] {
    if (this.snapshots === undefined) return Object.keys(this.packages);
    const keys = Object.keys(this.snapshots);
    const covered = new Set(keys.map(withoutPeerSuffix));
    for (const key of Object.keys(this.packages)) if (!covered.has(key)) keys.push(key);
    return keys;
  }

  /** The entry holding a key's dependencies: its snapshot, or in the merged shape its packages entry. */
  private snapshotOf(key: string): LockRecord | undefined {
    if (this.snapshots !== undefined) return ownRecord(this.snapshots, key);
    return ownRecord(this.packages, key);
  }

  private addWorkspaces(): void {
    const names = this.workspaceNames();
    for (const path of this.importers.keys()) {
      if (path === '.') continue;
      const name = names.get(path) ?? posix.basename(path);
      if (!isValidPackageName(name)) continue; // a folder name that is no package name: nothing to record
      const { insideProject } = localPath(this.opts.projectDir, '.', path);
      const facts: CopyFacts = { id: path, name, version: UNKNOWN_LOCAL_VERSION, source: 'workspace', insideProject };
      const location = this.locateImporter(path);
      if (location !== undefined) facts.location = location;
      this.graph.addCopy(facts, path);
    }
  }

  /** Workspace names, learnt from the `link:` dependencies that point at each importer. */
  private workspaceNames(): Map<string, string> {
    const names = new Map<string, string>();
    for (const [path, importer] of this.importers) {
      for (const group of DEPENDENCY_GROUPS) {
        for (const [alias, reference] of importerDependencies(ownRecord(importer, group))) {
          if (!reference.startsWith('link:')) continue;
          const target = this.linkTarget(path, reference.slice('link:'.length));
          if (this.importers.has(target) && !names.has(target)) names.set(target, alias);
        }
      }
    }
    return names;
  }

  private addPackage(key: string): void {
    const location = this.locate(key);
    const split = splitNameAndReference(key);
    if (split === undefined || !isValidPackageName(split.name)) {
      throw invalidLockfile(this.file, `package key ${JSON.stringify(key)} does not start with a valid package name`, location);
    }
    const { name } = split;
    const reference = withoutPeerSuffix(split.reference);
    const baseKey = `${name}@${reference}`;
    // pnpm reads a snapshot's package under its key without the peer suffix (`packages` keys carry none): a `packages`
    // entry under the suffixed key is never what it installs. Only the merged shape pnpm 10 and 11 hand their hooks
    // (no snapshots) keys its packages with their suffix.
    const meta = this.snapshots !== undefined ? ownRecord(this.packages, baseKey) : (ownRecord(this.packages, key) ?? ownRecord(this.packages, baseKey));
    if (meta === undefined) throw invalidLockfile(this.file, `snapshot ${JSON.stringify(key)} has no entry under "packages"`, location);
    const resolution = ownRecord(meta, 'resolution');
    if (resolution === undefined) throw invalidLockfile(this.file, `package ${JSON.stringify(key)} has no resolution`, location);

    // Registry keys carry the version; git and tarball entries record it; directories do not record one.
    const version = ownString(meta, 'version') ?? (ownString(resolution, 'type') === 'directory' ? UNKNOWN_LOCAL_VERSION : reference);
    // A registry key's name and version are what pnpm names the package by (its folder, its build allowlist), while
    // pnpm 10 and 11 fetch the tarball that `name:`/`version:` name (measured): an entry must say one thing.
    if (isRegistryVersion(reference)) {
      const recordedName = ownString(meta, 'name');
      if (version !== reference || (recordedName !== undefined && recordedName !== name)) {
        throw invalidLockfile(this.file, `package ${JSON.stringify(key)} records ${recordedName ?? name}@${version}, not the package its key names`, location);
      }
    }
    if (!isPlausibleVersion(version)) {
      throw invalidLockfile(this.file, `package ${JSON.stringify(key)} has an invalid version ${JSON.stringify(version)}`, location);
    }
    const facts: CopyFacts = { name, version, source: 'registry' };
    if (location !== undefined) facts.location = location;
    const requiresBuild = own(meta, 'requiresBuild');
    if (typeof requiresBuild === 'boolean') facts.hasInstallScript = requiresBuild;
    // Most keys carry no patch: no slice, no scan for them (this runs once per package of every lockfile read).
    if (split.reference.length > reference.length && split.reference.includes('(patch_hash=', reference.length)) {
      facts.patches = patchHashesOf(split.reference.slice(reference.length)).map((hash) => ({ hash, files: this.patchFiles.get(hash) ?? [] }));
    }
    // A package `patchedDependencies` names is patched whatever its key says: pnpm 10 finds a patch by name and version
    // from its settings even where a key carries no `(patch_hash=…)` (measured on 10.34.8; r43b).
    const named = this.patchesByName.size === 0 ? undefined : this.patchesByName.get(name);
    for (const entry of named ?? []) {
      if (!patchSelectorCovers(entry.selector, version)) continue;
      const patches = (facts.patches ??= []);
      if (!patches.some((p) => p.hash === entry.hash)) patches.push({ hash: entry.hash, files: [...entry.files] });
    }
    const integrity = ownString(resolution, 'integrity');
    if (integrity !== undefined) {
      if (!SRI.test(integrity)) throw invalidLockfile(this.file, `package ${JSON.stringify(key)} has a malformed integrity ${JSON.stringify(integrity)}`, location);
      facts.integrity = integrity;
    }

    const type = ownString(resolution, 'type');
    const tarball = ownString(resolution, 'tarball');
    if (type === 'git') {
      const repo = ownString(resolution, 'repo');
      const commit = ownString(resolution, 'commit');
      if (repo === undefined || commit === undefined) throw invalidLockfile(this.file, `git package ${JSON.stringify(key)} lacks repo or commit`, location);
      facts.source = 'git';
      // The key's reference is the spelling npm uses too (`git+ssh://…#sha`); the repo field drops `git+`.
      facts.resolved = isGitReference(reference) ? withoutCredentials(reference) : `${withoutCredentials(repo)}#${commit}`;
    } else if (type === 'directory') {
      const directory = ownString(resolution, 'directory');
      if (directory === undefined) throw invalidLockfile(this.file, `directory package ${JSON.stringify(key)} lacks its directory`, location);
      const local = localPath(this.opts.projectDir, '.', directory);
      facts.source = 'directory';
      facts.resolved = `file:${local.path}`;
      facts.insideProject = local.insideProject;
    } else if (type !== undefined) {
      // Resolution types we do not know (runtimes, custom resolvers): unverifiable remote code.
      facts.source = 'tarball';
      facts.resolved = tarball !== undefined ? withoutCredentials(tarball) : reference;
    } else if (tarball !== undefined) {
      // pnpm fetches `tarball` as it is: only exactly the configured registry's own tarball for this name and
      // version is that registry's package; any other URL is a remote tarball.
      const registry = normalizeRegistry(this.opts.registryFor(name));
      if (isRegistryTarballUrl(tarball, name, version, registry)) {
        facts.registry = registry;
        facts.resolved = withoutCredentials(tarball);
      } else if (tarball.startsWith('file:')) {
        const local = localPath(this.opts.projectDir, '.', tarball.slice('file:'.length));
        facts.source = 'tarball';
        facts.resolved = `file:${local.path}`;
        facts.insideProject = local.insideProject;
      } else {
        facts.source = 'tarball';
        facts.resolved = isHttpUrl(tarball) ? withoutCredentials(tarball) : tarball;
      }
    } else if (integrity !== undefined) {
      facts.registry = normalizeRegistry(this.opts.registryFor(name));
    } else {
      throw invalidLockfile(this.file, `package ${JSON.stringify(key)} has a resolution with neither integrity, tarball nor type`, location);
    }
    if (facts.source === 'registry' && !isRegistryVersion(version)) {
      throw invalidLockfile(this.file, `registry package ${JSON.stringify(key)} has a version that is not semver`, location);
    }
    const id = this.graph.addCopy(facts, key);
    this.idOfKey.set(key, id);
    if (!this.idOfKey.has(baseKey)) this.idOfKey.set(baseKey, id);
  }

  /**
   * Where a `link:` declared at importer `basePath` points, as an importer path (project-relative, forward slashes), or
   * relative to the project with `..` when it leaves it. An absolute target stays absolute (pnpm links that very folder):
   * joined to `basePath` as if relative, `/tmp/x` would become the project's own `tmp/x` (attack round of issue 17).
   */
  private linkTarget(basePath: string, spec: string): string {
    if (isAbsolute(spec)) return normalizeImporter(localPath(this.opts.projectDir, '.', spec).path);
    return posix.normalize(posix.join(basePath, spec));
  }

  /** One dependency edge from `from` (declared at `basePath`) on `alias` resolved to `reference`. */
  private addEdge(from: string, basePath: string, alias: string, reference: string): void {
    if (reference.startsWith('link:')) {
      const target = this.linkTarget(basePath, reference.slice('link:'.length));
      if (this.importers.has(target)) {
        this.graph.addDependent(target, from);
        return;
      }
      // A `link:` to a folder that is no workspace: the user's directory, recorded where it is linked.
      if (!isValidPackageName(alias)) return;
      const local = localPath(this.opts.projectDir, '.', target);
      const id = this.graph.addCopy(
        { name: alias, version: UNKNOWN_LOCAL_VERSION, source: 'directory', resolved: `file:${local.path}`, insideProject: local.insideProject },
        `${basePath}/node_modules/${alias}`.replace(/^\.\//, ''),
      );
      this.graph.addDependent(id, from);
      return;
    }
    const aliased = aliasTarget(reference);
    const key = aliased ?? `${alias}@${reference}`;
    const id = this.idOfKey.get(key) ?? this.idOfKey.get(withoutPeerSuffix(key));
    if (id === undefined) {
      // (A name no registry can serve, such as `__proto__`, cannot be resolved anew either.)
      if (this.everyDependencyPinned && isValidPackageName(aliased !== undefined ? (splitNameAndReference(aliased)?.name ?? alias) : alias)) {
        const who = this.importers.has(from) ? `importer ${JSON.stringify(from)}` : JSON.stringify(from);
        throw invalidLockfile(
          this.file,
          `${who} depends on ${alias} (${JSON.stringify(reference)}), which has no entry under "packages": pnpm would resolve it anew, so nothing pins what it installs. Run pnpm install to repair the lockfile, then check again`,
          this.importers.has(from) ? this.locateImporter(from) : this.locate(from),
        );
      }
      return;
    }
    this.graph.addDependent(id, from, alias);
  }
}

/** `{name: version}` (merged shape, snapshots) or `{name: {specifier, version}}` (on-disk importers). */
function importerDependencies(record: LockRecord | undefined): [string, string][] {
  if (record === undefined) return [];
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(record)) {
    const version = typeof value === 'string' ? value : isRecord(value) ? ownString(value, 'version') : undefined;
    if (version !== undefined) out.push([name, version]);
  }
  return out;
}

/** The real `name@version` key when a dependency's version is an alias (`real@1.0.0`), else undefined. */
function aliasTarget(reference: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(reference)) return undefined; // a URL or protocol, not an alias
  const beforePeers = reference.split('(')[0] ?? '';
  const split = splitNameAndReference(beforePeers);
  if (split === undefined || !isValidPackageName(split.name) || split.reference === '') return undefined;
  return reference;
}

/** The `(patch_hash=…)` groups of a key's suffix (pnpm marks a patched package's snapshot so; peers may follow or precede it). */
function patchHashesOf(suffix: string): string[] {
  return [...suffix.matchAll(/\(patch_hash=([^()]*)\)/g)].map((m) => m[1]!);
}

/**
 * `patchedDependencies` of a lockfile: each hash's patch files. pnpm 10 writes `key: {hash, path}`; pnpm 11 and 12
 * `key: hash` (no path). Anything else names no file: the patch is then located from the project's settings, or judged
 * unreadable (it may add install scripts).
 */
function patchFilesByHash(section: LockRecord | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const value of Object.values(section ?? {})) {
    const hash = typeof value === 'string' ? value : isRecord(value) ? ownString(value, 'hash') : undefined;
    if (hash === undefined) continue;
    const files = out.get(hash) ?? [];
    const path = isRecord(value) ? ownString(value, 'path') : undefined;
    if (path !== undefined && !files.includes(path)) files.push(path);
    out.set(hash, files);
  }
  return out;
}

/** One `patchedDependencies` entry: which versions of its package it names (undefined: every one), its hash and files. */
interface NamedPatch {
  selector: string | undefined;
  hash: string;
  files: string[];
}

/**
 * A `patchedDependencies` key: `name`, `name@version` or `name@range` (`@scope/name@…` alike). Undefined when it names
 * no valid package (pnpm matches no package by it).
 */
export function patchedDependencyKey(key: string): { name: string; selector: string | undefined } | undefined {
  const at = key.indexOf('@', key.startsWith('@') ? 1 : 0);
  const name = at <= 0 ? key : key.slice(0, at);
  if (!isValidPackageName(name)) return undefined;
  return { name, selector: at <= 0 ? undefined : key.slice(at + 1) };
}

/** An exact version as pnpm writes one in a key (`1.0.0`, `1.0.0-rc.1`). */
const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Whether a `patchedDependencies` key's version part covers `version`: none (the bare name) or the same version does;
 * another exact version does not; anything else — a range, a spelling this reading does not know — is taken to cover
 * every version (fail closed: a patch judged on a version it does not apply to can only block more).
 */
export function patchSelectorCovers(selector: string | undefined, version: string): boolean {
  if (selector === undefined || selector === '' || selector === version) return true;
  return !EXACT_VERSION.test(selector);
}

/** `patchedDependencies` of a lockfile by package name (pnpm 10: `key: {hash, path}`; 11 and 12: `key: hash`). */
function patchesByName(section: LockRecord | undefined): Map<string, NamedPatch[]> {
  const out = new Map<string, NamedPatch[]>();
  for (const [key, value] of Object.entries(section ?? {})) {
    const parsed = patchedDependencyKey(key);
    // A hash this reading cannot find is kept as none: no file has it, so the patch is judged unknown (it may add scripts).
    const hash = (typeof value === 'string' ? value : isRecord(value) ? ownString(value, 'hash') : undefined) ?? '';
    if (parsed === undefined) continue;
    const path = isRecord(value) ? ownString(value, 'path') : undefined;
    const list = out.get(parsed.name) ?? [];
    list.push({ selector: parsed.selector, hash, files: path !== undefined ? [path] : [] });
    out.set(parsed.name, list);
  }
  return out;
}

/** Removes pnpm's trailing `(peer@1.0.0)(…)` groups, nested ones included, from a key or version. */
export function withoutPeerSuffix(key: string): string {
  let end = key.length;
  while (end > 0 && key[end - 1] === ')') {
    let depth = 0;
    let i = end - 1;
    for (; i >= 0; i--) {
      if (key[i] === ')') depth++;
      else if (key[i] === '(' && --depth === 0) break;
    }
    if (i <= 0) break; // unbalanced: leave the key as it is
    end = i;
  }
  return key.slice(0, end);
}

/** An importer path in forward-slash form, so that `link:` targets compare equal to it. */
function normalizeImporter(path: string): string {
  const normalized = posix.normalize(path.split('\\').join('/'));
  return normalized === '' ? '.' : normalized.replace(/\/$/, '');
}

/**
 * The package names and versions that pnpm-lock.yaml text lists under `packages:`, from the keys alone (no
 * YAML parse, no validation beyond the name): fast enough to run on every pnpm command. For narrowing uses
 * only — a hostile key can add a name, never remove one the full reader would find.
 */
export function pnpmLockfilePackageKeys(text: string): Array<{ name: string; version: string }> {
  const out: Array<{ name: string; version: string }> = [];
  // Line by line (lines end at `\n`), without a string per line: only a top-level line (a section's key) is cut out, and
  // a key is matched where it stands in the text. A `\r` before the `\n` changes nothing: both tests treat it as the
  // space it is, and the key pattern stops at it, as at the line's end. updateConfig runs this on every install it
  // decides.
  const key = /(['"]?)(@?[^@\s'"]+)@([^\s'"(:]+)/y;
  let inPackages = false;
  for (let at = 0; at < text.length; ) {
    const newline = text.indexOf('\n', at);
    const next = newline === -1 ? text.length : newline + 1;
    const end = newline === -1 ? text.length : newline;
    if (at < end && /\S/.test(text[at]!)) {
      inPackages = /^packages:\s*$/.test(text.slice(at, end));
    } else if (inPackages && end - at > 2 && text.charCodeAt(at) === 32 && text.charCodeAt(at + 1) === 32) {
      key.lastIndex = at + 2;
      const match = key.exec(text);
      if (match !== null && isValidPackageName(match[2]!)) out.push({ name: match[2]!, version: match[3]! });
    }
    at = next;
  }
  return out;
}
