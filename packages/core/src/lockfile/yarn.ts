/**
 * Yarn Berry's `yarn.lock` (Yarn 2 and later). Entries are keyed by the descriptors that resolved to them
 * (`"ms@npm:2.1.3, ms@npm:^2.1.0"`) and name their locator in `resolution`. Yarn records no npm
 * integrity and no install-script flag: `checksum` is a hash of Yarn's cache zip, kept apart as
 * `yarnChecksum`.
 */
import type { Lockfile, PackageNode, SourceLocation } from '../model.js';
import { PackageGraph, type CopyFacts } from './graph.js';
import {
  assertLockfileSize,
  invalidLockfile,
  isRecord,
  ownRecord,
  ownString,
  stringEntries,
  withoutBom,
  type LockRecord,
  type LockfileReadOptions,
} from './input.js';
import { isPlausibleVersion, isRegistryVersion, isValidPackageName, splitNameAndReference } from './names.js';
import {
  isGitReference,
  isHttpUrl,
  isYarnGitReference,
  isRegistryTarballUrl,
  isTarballPath,
  localPath,
  normalizeRegistry,
  withoutCredentials,
} from './sources.js';
import { parseYamlLockfile } from './yaml.js';

const ROOT = '.';

/** Reads a Yarn Berry lockfile into the normalized package model. */
export function readYarnLockfile(text: string, opts: LockfileReadOptions): Lockfile {
  const file = opts.path;
  assertLockfileSize(Buffer.byteLength(text), file);
  const source = withoutBom(text);
  if (/^# yarn lockfile v1\s*$/m.test(source.slice(0, 1024))) {
    throw invalidLockfile(file, 'is a Yarn Classic (v1) lockfile; Portcullis reads Yarn Berry (2 and later) lockfiles');
  }
  // Yarn's syml is YAML whose scalars are all strings; the failsafe schema reads it the same way.
  const parsed = parseYamlLockfile(source, file, 'failsafe');
  return readYarnLockfileData(parsed.data, opts, parsed.keyLocations());
}

/**
 * A Yarn Berry lockfile already parsed into plain data (all scalars strings), as Yarn's own `parseSyml`
 * returns it: the Yarn plugin reads Yarn's in-memory resolution this way without a YAML round trip.
 * The same reader and checks as `readYarnLockfile`; entries carry no line positions.
 */
export function readYarnLockfileData(data: unknown, opts: LockfileReadOptions, locations: Map<string, SourceLocation> = new Map()): Lockfile {
  const file = opts.path;
  if (!isRecord(data)) throw invalidLockfile(file, 'expected a mapping at the top level');
  const metadata = ownRecord(data, '__metadata');
  if (metadata === undefined || ownString(metadata, 'version') === undefined) {
    throw invalidLockfile(file, 'has no __metadata.version; it is not a Yarn Berry lockfile');
  }
  const reader = new YarnReader(data, locations, opts);
  return { kind: 'yarn', path: file, packages: reader.read() };
}

/**
 * What one Yarn locator (`name@reference`, as Yarn prints it) says of a package's origin, read exactly as the lockfile
 * reader reads a `resolution:` (the Yarn plugin's judgement of a fetch before the verdict). Undefined for the root
 * workspace; a locator the reader would refuse throws.
 */
export function readYarnLocator(locator: string, opts: LockfileReadOptions): Pick<PackageNode, 'name' | 'source' | 'resolved' | 'insideProject'> | undefined {
  // Its version is not known before the fetch: a placeholder the reader accepts (an npm: locator is never asked).
  const pkg = readYarnLockfileData({ __metadata: { version: '8' }, [locator]: { resolution: locator, version: '0.0.0-unknown' } }, opts).packages[0];
  if (pkg === undefined) return undefined;
  const origin: Pick<PackageNode, 'name' | 'source' | 'resolved' | 'insideProject'> = { name: pkg.name, source: pkg.source };
  if (pkg.resolved !== undefined) origin.resolved = pkg.resolved;
  if (pkg.insideProject !== undefined) origin.insideProject = pkg.insideProject;
  return origin;
}

interface Entry {
  key: string;
  record: LockRecord;
  resolution: string;
  /** The node id, or `.` for the root workspace. */
  id: string;
}

class YarnReader {
  private readonly graph = new PackageGraph();
  private readonly file: string;
  private readonly entries: Entry[] = [];
  /** Node id of each descriptor, exactly as written in the keys. */
  private readonly byDescriptor = new Map<string, string>();
  /** Node ids by descriptor without its `::` binding, for dependencies written without one. */
  private readonly byUnboundDescriptor = new Map<string, Set<string>>();

  constructor(
    private readonly data: LockRecord,
    private readonly locations: Map<string, SourceLocation>,
    private readonly opts: LockfileReadOptions,
  ) {
    this.file = opts.path;
  }

  read() {
    for (const [key, record] of Object.entries(this.data)) {
      if (key === '__metadata') continue;
      if (!isRecord(record)) throw invalidLockfile(this.file, `entry ${JSON.stringify(key)} is not a mapping`, this.locations.get(key));
      this.addEntry(key, record);
    }
    for (const entry of this.entries) {
      for (const [depName, range] of stringEntries(ownRecord(entry.record, 'dependencies'))) {
        const id = this.resolveDescriptor(`${depName}@${range}`, entry.resolution);
        if (id !== undefined && id !== ROOT) this.graph.addDependent(id, entry.id, depName);
      }
    }
    return this.graph.nodes();
  }

  private addEntry(key: string, record: LockRecord): void {
    const location = this.locations.get(key);
    const resolution = ownString(record, 'resolution');
    const version = ownString(record, 'version');
    if (resolution === undefined || version === undefined) {
      throw invalidLockfile(this.file, `entry ${JSON.stringify(key)} lacks resolution or version`, location);
    }
    const locator = splitNameAndReference(resolution);
    if (locator === undefined || !isValidPackageName(locator.name)) {
      throw invalidLockfile(this.file, `entry ${JSON.stringify(key)} has an invalid resolution ${JSON.stringify(resolution)}`, location);
    }
    if (!isPlausibleVersion(version)) {
      throw invalidLockfile(this.file, `entry ${JSON.stringify(key)} has an invalid version ${JSON.stringify(version)}`, location);
    }
    const descriptors = key.split(',').map((descriptor) => descriptor.trim()).filter((descriptor) => descriptor !== '');
    const facts = this.classify(locator.name, locator.reference, version, key, location);
    let id: string;
    if (facts === 'root') {
      id = ROOT;
    } else {
      if (location !== undefined) facts.location = location;
      const checksum = ownString(record, 'checksum');
      if (checksum !== undefined) facts.yarnChecksum = checksum;
      // yarn.lock never records an npm integrity: the plugin checks each download against the signed one instead.
      if (facts.source === 'registry') facts.integrityCheckedOnDownload = true;
      id = this.graph.addCopy(facts, resolution);
      // Descriptors under another name are aliases (`old-ms@npm:ms@1.0.0`).
      for (const descriptor of descriptors) {
        const name = splitNameAndReference(descriptor)?.name;
        if (name !== undefined && isValidPackageName(name)) this.graph.addAlias(id, name);
      }
    }
    for (const descriptor of descriptors) {
      this.byDescriptor.set(descriptor, id);
      const unbound = unbind(descriptor);
      const ids = this.byUnboundDescriptor.get(unbound) ?? new Set<string>();
      ids.add(id);
      this.byUnboundDescriptor.set(unbound, ids);
    }
    this.entries.push({ key, record, resolution, id });
  }

  /** What a locator reference says about the package's origin; `root` for the project's own workspace. */
  private classify(name: string, reference: string, version: string, key: string, location: SourceLocation | undefined): CopyFacts | 'root' {
    const [body = '', paramText = ''] = splitParams(reference);
    const params = new URLSearchParams(paramText);
    if (body.startsWith('patch:')) {
      // A patched package is the inner package plus a patch file: its identity is the inner package.
      const hash = body.indexOf('#');
      let inner: string;
      try {
        inner = decodeURIComponent(body.slice('patch:'.length, hash === -1 ? undefined : hash));
      } catch {
        throw invalidLockfile(this.file, `entry ${JSON.stringify(key)} has a malformed patch: locator ${JSON.stringify(body)}`, location);
      }
      const split = splitNameAndReference(inner);
      if (split === undefined || split.name !== name || split.reference.startsWith('patch:')) {
        throw invalidLockfile(this.file, `entry ${JSON.stringify(key)} patches ${JSON.stringify(inner)}, which is not a package of the same name`, location);
      }
      const facts = this.classify(name, split.reference, version, key, location);
      if (facts === 'root') throw invalidLockfile(this.file, `entry ${JSON.stringify(key)} patches the project itself`, location);
      return facts;
    }
    if (body.startsWith('npm:')) {
      const exact = body.slice('npm:'.length);
      if (!isRegistryVersion(exact) || exact !== version) {
        throw invalidLockfile(this.file, `entry ${JSON.stringify(key)} resolves to ${JSON.stringify(body)} but records version ${JSON.stringify(version)}`, location);
      }
      const registry = normalizeRegistry(this.opts.registryFor(name));
      const archive = params.get('__archiveUrl');
      if (archive === null) return { name, version, source: 'registry', registry };
      // Yarn fetches an `__archiveUrl` as it is, and records one only when it is not the registry's own tarball
      // for this name and version: anything but exactly that tarball is a remote tarball, never the registry.
      if (isRegistryTarballUrl(archive, name, version, registry)) return { name, version, source: 'registry', registry, resolved: withoutCredentials(archive) };
      return { name, version, source: 'tarball', resolved: withoutCredentials(archive) };
    }
    if (body.startsWith('workspace:')) {
      const path = localPath(this.opts.projectDir, '.', body.slice('workspace:'.length));
      if (path.path === ROOT) return 'root';
      return { id: path.path, name, version, source: 'workspace', insideProject: path.insideProject };
    }
    if (body.startsWith('exec:')) {
      // A generator script Yarn runs when it fetches the package, at a path relative to the package that declares it
      // (`locator=`): in the project's own workspace, the project's own code; anywhere else, code we cannot verify.
      const raw = body.slice('exec:'.length).split('#')[0] ?? '';
      const base = this.workspaceOfLocator(params.get('locator'));
      const local = base === undefined || params.get('locator') === null ? undefined : localPath(this.opts.projectDir, base, raw);
      if (local?.insideProject === true) return { name, version, source: 'directory', resolved: `exec:${local.path}`, insideProject: true };
      return { name, version, source: 'tarball', resolved: body };
    }
    // Yarn's git resolver takes every reference its isGitUrl matches (`…repo.git#commit:<sha>`, `ssh://`, `git@host:…`),
    // and `#workspace=w&commit=<sha>` as it writes a workspace of a repository.
    if (isGitReference(body) || isYarnGitReference(body) || params.has('commit') || /[#&]commit[=:]/.test(body)) {
      return { name, version, source: 'git', resolved: withoutCredentials(body) };
    }
    if (isHttpUrl(body)) {
      const registry = normalizeRegistry(this.opts.registryFor(name));
      if (isRegistryTarballUrl(body, name, version, registry)) return { name, version, source: 'registry', registry, resolved: withoutCredentials(body) };
      return { name, version, source: 'tarball', resolved: withoutCredentials(body) };
    }
    for (const protocol of ['file:', 'portal:', 'link:']) {
      if (!body.startsWith(protocol)) continue;
      // `file:./x#./x` repeats the path after `#`; the path is relative to the workspace that declared it.
      const raw = body.slice(protocol.length).split('#')[0] ?? '';
      const base = this.workspaceOfLocator(params.get('locator'));
      const local = localPath(this.opts.projectDir, base ?? '.', raw);
      const insideProject = base !== undefined && local.insideProject;
      const tarball = protocol === 'file:' && isTarballPath(raw);
      return { name, version, source: tarball ? 'tarball' : 'directory', resolved: `file:${local.path}`, insideProject };
    }
    // Protocols of plugins we do not know: code we cannot verify.
    return { name, version, source: 'tarball', resolved: body };
  }

  /** The folder of the workspace a `locator=` parameter names; undefined when it is not a workspace. */
  private workspaceOfLocator(locator: string | null): string | undefined {
    if (locator === null) return ROOT;
    const split = splitNameAndReference(locator);
    if (split === undefined || !split.reference.startsWith('workspace:')) return undefined;
    return split.reference.slice('workspace:'.length);
  }

  /** The node a dependency descriptor resolved to, as Yarn binds it (`::locator=<parent>` for local paths). */
  private resolveDescriptor(descriptor: string, parent: string): string | undefined {
    const exact = this.byDescriptor.get(descriptor) ?? this.byDescriptor.get(`${descriptor}::locator=${encodeURIComponent(parent)}`);
    if (exact !== undefined) return exact;
    const candidates = this.byUnboundDescriptor.get(unbind(descriptor));
    if (candidates?.size === 1) return [...candidates][0];
    return undefined;
  }
}

/** Splits a reference at its `::` parameters. */
function splitParams(reference: string): [string, string] {
  const at = reference.indexOf('::');
  return at === -1 ? [reference, ''] : [reference.slice(0, at), reference.slice(at + 2)];
}

/** A descriptor without Yarn's `::` binding parameters. */
function unbind(descriptor: string): string {
  return splitParams(descriptor)[0];
}
