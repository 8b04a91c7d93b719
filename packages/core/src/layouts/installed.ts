/**
 * Reading what is actually on disk: an installed package's own package.json and binding.gyp beat any
 * metadata claim (manifest confusion: the registry may say "no scripts" while the tarball has them).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { settledStamp } from '../file-stamp.js';
import { readBounded } from '../read-bounded.js';
import { isRecord } from '../lockfile/input.js';
import { parseYamlLockfile } from '../lockfile/yaml.js';
import type { Lockfile, PackageNode } from '../model.js';

/** The install-relevant parts of an installed package.json. */
export interface InstalledManifest {
  scripts: Record<string, string>;
  bindingGyp: boolean;
  /** `gypfile: false` turns the implicit node-gyp build off. */
  gypfile: boolean | undefined;
  /** `sha256:<hex>` of the binding.gyp, when there is one (and it is not too large to read). */
  bindingGypHash?: string;
  /** The package.json declares `workspaces` (npm 10 and 11 then install a git dependency's clone, scripts or not). */
  workspaces?: true;
}

/**
 * What is at one install path of a copy: its own manifest (the package.json names the lockfile's name and version),
 * nothing (not installed there), or something else — `differs` says what (another version, no package.json, …).
 */
export type InstalledCopy = { manifest: InstalledManifest } | { absent: true } | { differs: string };

/**
 * Finds and reads an installed copy of a package; null when it is not installed (yet) or what is installed is
 * another package. `at` reads one install path: only a copy that is the package checked may ever be built.
 */
export type InstalledManifestReader = ((pkg: PackageNode) => InstalledManifest | null) & { at?: (pkg: PackageNode, path: string) => InstalledCopy };

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * `sha256:<hex>` of a regular file up to the manifest size limit; undefined otherwise (then only its presence counts).
 * Read through one descriptor, bounded by the opened file's size (core's readBounded): a file swapped for a larger one
 * after a check is never read whole.
 */
function hashOf(file: string): string | undefined {
  const bytes = readBounded(file, MAX_MANIFEST_BYTES);
  return bytes === undefined ? undefined : `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * A package.json's bytes up to `max` (open, fstat, read: no separate exists or stat call); `too-large` beyond. Throws when
 * unreadable: the caller tells an absent copy from an unreadable one (core's readBounded answers undefined for both).
 */
function readManifestBytes(file: string, max: number): Buffer | 'too-large' {
  const fd = openSync(file, 'r');
  try {
    const { size } = fstatSync(fd);
    if (size > max) return 'too-large';
    const buffer = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buffer, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    // A file that grew while being read is read no further than its size then (as readFileSync would stop at EOF).
    return read === size ? buffer : buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/**
 * What one install path holds, as a judgement of installed copies reads it, whichever package is expected there: the
 * package.json's bytes with the binding.gyp beside it, or why there is no readable package.json.
 */
type CopyFiles =
  | { kind: 'leaves' }
  | { kind: 'absent' }
  | { kind: 'unreadable' }
  | { kind: 'too-large' }
  | { kind: 'manifest'; bytes: Buffer; bindingGyp: boolean; bindingGypHash: string | undefined };

/**
 * The folder of an install path, or undefined when it leaves the project (lockfile paths are hostile input: nothing
 * outside the project is ever read). A plain relative path (no empty, `.` or `..` segment, no backslash, no colon: a
 * Windows drive) is joined as it is, already normal: a judgement asks for thousands, each a few path operations fewer.
 * Anything else is resolved and checked. The stamp of the installed files (installedStamp) finds each file the same way
 * as the judgement reads it.
 */
function folderInProject(projectDir: string, path: string): string | undefined {
  if (path !== '' && !path.includes('\\') && !path.includes(':') && !isAbsolute(path) && path.split('/').every((s) => s !== '' && s !== '.' && s !== '..')) return `${projectDir}${sep}${path}`;
  const absolute = resolve(projectDir, path);
  const rel = relative(projectDir, absolute);
  return rel.startsWith('..') || isAbsolute(rel) ? undefined : absolute;
}

function readFilesAt(projectDir: string, dir: string): CopyFiles {
  const absolute = folderInProject(projectDir, dir);
  if (absolute === undefined) return { kind: 'leaves' };
  // The package.json is read first; only when it cannot be read does it matter whether the folder is there at all.
  let bytes: Buffer | 'too-large';
  try {
    bytes = readManifestBytes(`${absolute}${sep}package.json`, MAX_MANIFEST_BYTES);
  } catch {
    return existsSync(absolute) ? { kind: 'unreadable' } : { kind: 'absent' };
  }
  if (bytes === 'too-large') return { kind: 'too-large' };
  const gyp = `${absolute}${sep}binding.gyp`;
  const bindingGyp = existsSync(gyp);
  return { kind: 'manifest', bytes, bindingGyp, bindingGypHash: bindingGyp ? hashOf(gyp) : undefined };
}

/** The copy of `pkg` that `files` hold. */
function copyOf(files: CopyFiles, pkg: PackageNode): InstalledCopy {
  switch (files.kind) {
    case 'leaves':
      return { differs: 'its path leaves the project' };
    case 'absent':
      return { absent: true };
    case 'unreadable':
      return { differs: 'it has no readable package.json' };
    case 'too-large':
      return { differs: 'its package.json is too large to read' };
  }
  try {
    const manifest = JSON.parse(files.bytes.toString('utf8')) as Record<string, unknown>;
    if (manifest === null || typeof manifest !== 'object') return { differs: 'its package.json is not an object' };
    if (manifest.name !== pkg.name || manifest.version !== pkg.version) return { differs: `its package.json names ${String(manifest.name)}@${String(manifest.version)}` };
    const scripts: Record<string, string> = Object.create(null);
    const raw = manifest.scripts;
    if (typeof raw === 'object' && raw !== null) {
      for (const [key, value] of Object.entries(raw)) if (typeof value === 'string') scripts[key] = value;
    }
    return {
      manifest: {
        scripts,
        bindingGyp: files.bindingGyp,
        gypfile: typeof manifest.gypfile === 'boolean' ? manifest.gypfile : undefined,
        ...(files.bindingGypHash !== undefined ? { bindingGypHash: files.bindingGypHash } : {}),
        ...(manifest.workspaces !== undefined ? { workspaces: true as const } : {}),
      },
    };
  } catch {
    return { differs: 'it has no readable package.json' };
  }
}

/**
 * The files a judgement of installed copies reads at `paths` (each package.json, the binding.gyp beside it, and
 * whether a folder without a readable package.json is there), read once, and `digest`: a SHA-256 over exactly what
 * was read. A reader given these files (`installedManifestReader`'s `files`) reads nothing else at these paths, so a
 * verdict remembered under the digest was decided on the very bytes the digest covers.
 */
export interface InstalledFiles {
  readonly digest: string;
  readonly at: ReadonlyMap<string, CopyFiles>;
}

/** The most bytes of package.json files readInstalledFiles holds at once (each one may be up to 4 MiB). */
export const MAX_INSTALLED_FILES_BYTES = 64 * 1024 * 1024;

/**
 * Reads the files at every install path once (see InstalledFiles); undefined when their package.json files come to
 * more than `maxBytes` together: they are not all held at once, and the caller reads them one by one as before.
 */
export function readInstalledFiles(projectDir: string, paths: readonly string[], maxBytes = MAX_INSTALLED_FILES_BYTES): InstalledFiles | undefined {
  const at = new Map<string, CopyFiles>();
  const hash = createHash('sha256');
  let held = 0;
  for (const path of paths) {
    if (at.has(path)) continue;
    const files = readFilesAt(projectDir, path);
    if (files.kind === 'manifest' && (held += files.bytes.length) > maxBytes) return undefined;
    at.set(path, files);
    // Every field framed (the path as JSON, the bytes by their length): no two readings hash alike.
    hash.update(`${JSON.stringify(path)}\n${files.kind}\n`);
    if (files.kind === 'manifest') {
      hash.update(`${files.bytes.length}\n`);
      hash.update(files.bytes);
      hash.update(`\n${files.bindingGyp}\n${files.bindingGypHash ?? '-'}\n`);
    }
  }
  return { digest: hash.digest('base64'), at };
}

/** The most folders of pnpm's virtual store that are listed (a larger listing is not read: the folders are guessed as before). */
const MAX_STORE_FOLDERS = 1_000_000;
/**
 * The shortest front pnpm keeps of a folder name it shortens with a hash (`virtualStoreDirMaxLength` less the hash:
 * 93 characters by default, 33 on Windows): a shorter front before the last `_` is not a shortened name.
 */
const MIN_SHORTENED_FRONT = 30;

/**
 * pnpm's virtual store of a project (`node_modules/.pnpm`), listed once: the folders that hold each package. pnpm names
 * a folder after the package's lockfile key, its `/` written `+`: `name@version`, then `_`-separated peers and patches
 * (`qq@1.0.0_aaa@1.0.0`), one folder per variant, and a name that is too long or not lower case is cut and ends in a
 * hash. Every variant is a copy of the package, so each is read (the ones that hold another version are told apart by
 * their package.json, as any copy is).
 */
class PnpmVirtualStore {
  /** Folder names by the escaped package name they start with. */
  readonly #byName = new Map<string, string[]>();
  /** Folder names cut before their `@`: a package name too long to keep whole. */
  readonly #cut: string[] = [];

  private constructor(names: readonly string[]) {
    for (const folder of names) {
      if (folder.startsWith('.') || folder === 'node_modules') continue;
      const at = folder.indexOf('@', 1);
      if (at < 0) {
        if (folder.length > MIN_SHORTENED_FRONT) this.#cut.push(folder);
        continue;
      }
      const name = folder.slice(0, at);
      const list = this.#byName.get(name);
      if (list === undefined) this.#byName.set(name, [folder]);
      else list.push(folder);
    }
  }

  /** The store of `projectDir`, or undefined when there is none to list (another linker, a store elsewhere, too large). */
  static of(projectDir: string): PnpmVirtualStore | undefined {
    let names: string[];
    try {
      names = readdirSync(join(projectDir, 'node_modules', '.pnpm'));
    } catch {
      return undefined;
    }
    return names.length > MAX_STORE_FOLDERS ? undefined : new PnpmVirtualStore(names);
  }

  /**
   * The install paths of every folder that may hold `name@version` (project-relative, joined by hand: a folder name
   * from the listing holds no separator, and a package name at most one `/`; a warm `check` asks for thousands).
   */
  copiesOf(name: string, version: string): string[] {
    const escaped = name.replace('/', '+');
    const base = `${escaped}@${version}`;
    const out: string[] = [];
    const folders = this.#byName.get(escaped);
    if (folders !== undefined) for (const folder of folders) if (holds(folder, base)) out.push(`node_modules/.pnpm/${folder}/node_modules/${name}`);
    for (const folder of this.#cut) if (holds(folder, base)) out.push(`node_modules/.pnpm/${folder}/node_modules/${name}`);
    return out;
  }
}

/** Whether a virtual-store folder may hold the package whose folder would be `base` (`name@version`, `/` as `+`). */
function holds(folder: string, base: string): boolean {
  // `name@version` itself, or a variant of it (peers, patches after a `_`).
  if (folder.startsWith(base) && (folder.length === base.length || folder.charCodeAt(base.length) === 0x5f)) return true;
  // A shortened name: its front, before the hash, is the start of `name@version`.
  const cut = folder.lastIndexOf('_');
  return cut >= MIN_SHORTENED_FRONT && base.startsWith(folder.slice(0, cut));
}

/** The largest `.yarn-state.yml` read (a larger one is not: the copies are looked for by name, as before). */
const MAX_YARN_STATE_BYTES = 64 * 1024 * 1024;

/**
 * Where Yarn's node-modules linker put each package (`node_modules/.yarn-state.yml`: every location of each locator,
 * nested copies included), or undefined when there is none to read. Hostile input like the tree it describes: only
 * strings are taken, and each location is read only where it stays inside the project (folderInProject).
 */
function yarnLocations(projectDir: string): Map<string, string[]> | undefined {
  const file = join(projectDir, 'node_modules', '.yarn-state.yml');
  const bytes = readBounded(file, MAX_YARN_STATE_BYTES);
  if (bytes === undefined) return undefined;
  let data: Record<string, unknown>;
  try {
    data = parseYamlLockfile(bytes.toString('utf8'), file, 'failsafe').data;
  } catch {
    return undefined;
  }
  const out = new Map<string, string[]>();
  for (const [locator, entry] of Object.entries(data)) {
    const locations = isRecord(entry) && Object.hasOwn(entry, 'locations') ? entry.locations : undefined;
    if (!Array.isArray(locations)) continue;
    out.set(locator, locations.filter((l): l is string => typeof l === 'string' && l !== ''));
  }
  return out;
}

/**
 * Where each package manager puts a package: npm's paths come from the lockfile, pnpm's from its virtual store (every
 * folder listed for it there; where the store cannot be listed, the folder of a package without peers and the
 * project's own `node_modules`), Yarn's from its own record of every location of the package's locators (nested
 * copies too), and its name and aliases.
 */
function candidateDirs(kind: Lockfile['kind'], pkg: PackageNode, store: () => PnpmVirtualStore | undefined, yarn: () => Map<string, string[]> | undefined): string[] {
  switch (kind) {
    case 'npm':
      return pkg.paths;
    case 'pnpm': {
      const listed = store()?.copiesOf(pkg.name, pkg.version);
      if (listed !== undefined && listed.length > 0) return listed;
      return [join('node_modules', '.pnpm', `${pkg.name.replace('/', '+')}@${pkg.version}`, 'node_modules', pkg.name), join('node_modules', pkg.name)];
    }
    case 'yarn': {
      const state = yarn();
      const recorded = state === undefined ? [] : pkg.paths.flatMap((locator) => state.get(locator) ?? []);
      return [...recorded, join('node_modules', pkg.name), ...pkg.aliases.map((alias) => join('node_modules', alias))];
    }
  }
}

/**
 * Several copies of one package seen as one: any of them may be the one that runs, so every install script any of
 * them names counts, and so does a binding.gyp any of them has. Copies of one version are the same files; where they
 * are not (a copy edited after it was installed), what the copies disagree about is not known: a command line two
 * copies spell differently is left empty (unknown to script drift, which then cannot confirm it), and so is the hash of
 * a binding.gyp they hold different bytes of; `gypfile: false` counts only when every copy says so.
 */
export function mergedCopies(copies: readonly InstalledManifest[]): InstalledManifest {
  if (copies.length === 1) return copies[0]!;
  const scripts: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const copy of copies) {
    for (const [name, line] of Object.entries(copy.scripts)) {
      if (!Object.hasOwn(scripts, name)) scripts[name] = line;
      else if (scripts[name] !== line) scripts[name] = '';
    }
  }
  const withGyp = copies.filter((copy) => copy.bindingGyp);
  const hashes = new Set(withGyp.map((copy) => copy.bindingGypHash));
  const hash = hashes.size === 1 ? [...hashes][0] : undefined;
  return {
    scripts,
    bindingGyp: withGyp.length > 0,
    gypfile: copies.every((copy) => copy.gypfile === false) ? false : copies.every((copy) => copy.gypfile === true) ? true : undefined,
    ...(hash !== undefined ? { bindingGypHash: hash } : {}),
    ...(copies.some((copy) => copy.workspaces === true) ? { workspaces: true as const } : {}),
  };
}

/**
 * A reader for installed manifests of one lockfile's project, for one judgement (each copy is read once). `files`:
 * what is at some paths, already read (readInstalledFiles); those paths are not read again. A package installed at
 * several paths (npm's nested copies, pnpm's variants for peers, Yarn's nested copies) is every copy read and seen as one (mergedCopies):
 * a copy edited at the second path is read like one at the first.
 */
export function installedManifestReader(lockfile: Lockfile, projectDir: string, files?: InstalledFiles): InstalledManifestReader {
  // Each copy is read once per reader (one judgement): the evidence, the mismatch check and the build plan all see
  // the same bytes, and no file is read twice.
  const read = new Map<string, InstalledCopy>();
  const copyAt = (pkg: PackageNode, dir: string): InstalledCopy => {
    const key = `${dir}\0${pkg.name}\0${pkg.version}`;
    let copy = read.get(key);
    if (copy === undefined) read.set(key, (copy = copyOf(files?.at.get(dir) ?? readFilesAt(projectDir, dir), pkg)));
    return copy;
  };
  let store: PnpmVirtualStore | undefined | null = null;
  const storeOf = () => (store === null ? (store = PnpmVirtualStore.of(projectDir)) : store);
  let yarnState: Map<string, string[]> | undefined | null = null;
  const yarnStateOf = () => (yarnState === null ? (yarnState = yarnLocations(projectDir)) : yarnState);
  const reader: InstalledManifestReader = (pkg) => {
    const dirs = candidateDirs(lockfile.kind, pkg, storeOf, yarnStateOf);
    if (dirs.length === 1) {
      const copy = copyAt(pkg, dirs[0]!);
      return 'manifest' in copy ? copy.manifest : null;
    }
    const found: InstalledManifest[] = [];
    const seen = new Set<string>();
    for (const dir of dirs) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      const copy = copyAt(pkg, dir);
      if ('manifest' in copy) found.push(copy.manifest);
    }
    return found.length === 0 ? null : mergedCopies(found);
  };
  reader.at = (pkg, path) => copyAt(pkg, path);
  return reader;
}

/**
 * A fingerprint of every file a judgement of installed copies reads at `paths` (each package.json and binding.gyp, and
 * the folder where there is no package.json: each one's settledStamp; two stats per copy, where there were three with
 * every folder's), or undefined when it cannot vouch for them (one changed less than STAMP_SETTLED_MS before `now`, or
 * a file system that keeps no ctime). Any change made after the stamp was taken — new bytes, a replaced file, a
 * binding.gyp added — gives another stamp; equal stamps mean the bytes read after the first one are still there. Take
 * it before reading the copies.
 */
export function installedStamp(projectDir: string, paths: readonly string[], now: number = Date.now()): string | undefined {
  const lines: string[] = [];
  const add = (file: string): boolean => {
    const stamp = settledStamp(file, now);
    if (stamp === undefined) return false;
    lines.push(stamp ?? '-');
    return true;
  };
  try {
    for (const path of paths) {
      lines.push(path);
      // Found as the judgement finds it (folderInProject); one leaving the project is never read (the judgement refuses
      // it): only its text counts.
      const absolute = folderInProject(projectDir, path);
      if (absolute === undefined) continue;
      // What a judgement reads there (readFilesAt): the package.json, the binding.gyp beside it, and only when there is
      // no package.json, whether the folder is. A folder replaced or moved gives its package.json another stat too.
      // `absolute` is normalised (plain segments joined, or resolved): joined by hand, 2,000 times a warm install.
      const before = lines.length;
      if (!add(`${absolute}${sep}package.json`)) return undefined;
      if (lines[before] === '-' && !add(absolute)) return undefined;
      if (!add(`${absolute}${sep}binding.gyp`)) return undefined;
    }
  } catch {
    // ENOTDIR, EACCES, a loop: nothing to vouch for.
    return undefined;
  }
  return createHash('sha256').update(lines.join('\n')).digest('base64');
}
