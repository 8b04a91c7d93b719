/** Where a package's code comes from; decides which rules apply to it. */
export type SourceKind = 'registry' | 'git' | 'tarball' | 'directory' | 'workspace';

/** One installed package as every lockfile reader and adapter describes it. */
export interface PackageNode {
  /** Stable identity within one lockfile: `name@version`, plus the source for non-registry packages. */
  id: string;
  /** The real package name; an `npm:` alias never renames a package. */
  name: string;
  version: string;
  /** The SRI integrity that is actually installed (from the lockfile), when known. */
  integrity?: string;
  source: SourceKind;
  /** Registry base URL with a trailing slash, for `source: 'registry'`. */
  registry?: string;
  /** What the lockfile records as the origin: tarball URL, git URL or directory path. */
  resolved?: string;
  /** Names it is installed under other than `name` (npm: aliases). */
  aliases: string[];
  /** Where it is installed, in the lockfile's own notation (e.g. `node_modules/a/node_modules/b`). */
  paths: string[];
  /** Ids of the packages that depend on it; `.` is the root project (or a workspace importer path). */
  dependents: string[];
  /** The lockfile's own claim that the package has install scripts, when it records one. */
  hasInstallScript?: boolean;
  /** For `directory` sources: whether the directory lies inside the project (the user's own code). */
  insideProject?: boolean;
  /**
   * For `directory` sources: the package manager installs a copy it packs from the folder (npm with `install-links`:
   * an install path whose `resolved` is the `file:` folder, not a link), and packing runs the folder's `prepare`.
   */
  packedOnInstall?: boolean;
  /** Where the package's entry starts in the lockfile, for reports (1-based). */
  location?: SourceLocation;
  /**
   * npm only: the package ships inside its parent's tarball (`bundleDependencies`). It is never fetched on
   * its own, so it has no integrity of its own; its install scripts still run.
   */
  inBundle?: boolean;
  /** For a bundled copy: the package whose tarball ships it (whose publisher chose its bytes). */
  bundledBy?: { name: string; version: string };
  /** Yarn only: Yarn's checksum of its cache zip (`10c0/…`). Not an SRI integrity; never compare it to one. */
  yarnChecksum?: string;
  /**
   * Yarn only: its lockfile records no npm integrity by design, so the signature is checked over the registry's
   * signed integrity and the adapter compares every downloaded tarball with it. For any other registry package a
   * missing `integrity` means the lockfile does not pin the bytes (INTEGRITY_MISSING).
   */
  integrityCheckedOnDownload?: boolean;
  /**
   * pnpm only: patches the lockfile says pnpm applies to the package's files before it builds it (`patchedDependencies`,
   * the `(patch_hash=…)` of its snapshot). A patch can give it install-time code its own files do not have.
   */
  patches?: PackagePatch[];
}

/** One patch pnpm applies to a package (`patchedDependencies`), as the lockfile records it. */
export interface PackagePatch {
  /** pnpm's hash of the patch file: sha256, hex, of its text with CRLF read as LF. */
  hash: string;
  /** The patch files the lockfile names for that hash (pnpm 10 records them; 11 and 12 only the hash), as written. */
  files: string[];
}

/** A 1-based position in a file. */
export interface SourceLocation {
  line: number;
  column: number;
}

export type LockfileKind = 'npm' | 'pnpm' | 'yarn';

/** What a lockfile reader returns. */
export interface Lockfile {
  kind: LockfileKind;
  /** Absolute path of the lockfile read. */
  path: string;
  packages: PackageNode[];
}

/** Maps a package name to the registry it is fetched from (scoped registries first). */
export type RegistryFor = (name: string) => string;

/** `name@version` for messages and ids. */
export function packageKey(name: string, version: string): string {
  return `${name}@${version}`;
}

/** A registry signing key in the `/-/npm/v1/keys` format. */
export interface RegistryKey {
  keyid: string;
  keytype: string;
  scheme: string;
  /** base64 SPKI DER */
  key: string;
  /** ISO date after which the key no longer signs new versions, or null. */
  expires: string | null;
}

/** Whether a package is the user's own code (a workspace, a directory inside the project), exempt from every rule. */
export function isOwnCode(pkg: Pick<PackageNode, 'source' | 'insideProject'>): boolean {
  return (pkg.source === 'workspace' && pkg.insideProject !== false) || (pkg.source === 'directory' && pkg.insideProject === true);
}

/**
 * Whether installing the package packs it from its source first, which runs its `prepare` (install-time code there): a
 * git dependency, or a folder the package manager copies rather than links (`packedOnInstall`).
 */
export function preparedWhenInstalled(pkg: Pick<PackageNode, 'source' | 'packedOnInstall'>): boolean {
  return pkg.source === 'git' || (pkg.source === 'directory' && pkg.packedOnInstall === true);
}

/** Lifecycle scripts that run at install time. */
export const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'] as const;
export type InstallScript = (typeof INSTALL_SCRIPTS)[number];

/**
 * Scripts whose presence makes a package manager run a git dependency's code while it packs the clone: `prepare`
 * (and Yarn's `yarn pack` runs `prepack`), and npm 10 and 11 install the clone with a nested npm under the clone's own
 * .npmrc (whose `node-options` runs its code) whenever `prepare`, `prepack`, `build` or an install script is there,
 * whatever --ignore-scripts says (tenth wave G1). A folder that is copied only runs its `prepare`.
 */
const GIT_PREPARE_SCRIPTS = ['prepare', 'prepack', 'build'] as const;

/** The scripts whose presence counts as install-time code for `pkg`: install scripts, and what packing it runs. */
export function installTimeScripts(pkg: Pick<PackageNode, 'source' | 'packedOnInstall'>): readonly string[] {
  if (pkg.source === 'git') return [...INSTALL_SCRIPTS, ...GIT_PREPARE_SCRIPTS];
  return preparedWhenInstalled(pkg) ? [...INSTALL_SCRIPTS, 'prepare'] : INSTALL_SCRIPTS;
}
