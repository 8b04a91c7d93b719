/**
 * The lockfile readers: find the lockfile of a project, read it within limits, and hand back the
 * normalized package model whichever package manager wrote it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PortcullisError } from '../errors.js';
import type { Lockfile, LockfileKind, RegistryFor } from '../model.js';
import { MAX_LOCKFILE_BYTES } from '../limits.js';
import { assertLockfileSize, type LockfileReadOptions } from './input.js';
import { readNpmLockfile } from './npm.js';
import { readPnpmLockfile } from './pnpm.js';
import { readYarnLockfile } from './yarn.js';

export { readNpmLockfile } from './npm.js';
export { pnpmLockfilePackageKeys, readPnpmLockfile } from './pnpm.js';
export { readYarnLockfile, readYarnLockfileData } from './yarn.js';
export { MAX_LOCKFILE_BYTES } from '../limits.js';
export { type LockfileReadOptions } from './input.js';

/** Lockfile names by package manager, in the order the package manager itself prefers them. */
export const LOCKFILE_NAMES: Readonly<Record<LockfileKind, readonly string[]>> = {
  // npm 10 and 11 use npm-shrinkwrap.json and ignore package-lock.json when both exist; npm 12 reads package-lock.json
  // only. With both there, findLockfile cannot tell which one is installed and asks.
  npm: ['npm-shrinkwrap.json', 'package-lock.json'],
  pnpm: ['pnpm-lock.yaml'],
  yarn: ['yarn.lock'],
};

/** Which package manager's lockfile a file name is, if any. */
export function lockfileKindOf(path: string): LockfileKind | undefined {
  const name = basename(path);
  for (const kind of ['npm', 'pnpm', 'yarn'] as const) if (LOCKFILE_NAMES[kind].includes(name)) return kind;
  return undefined;
}

/**
 * pnpm's git-branch lockfiles in `dir` (`pnpm-lock.<branch>.yaml`, `/` in the branch written `!`). With `gitBranchLockfile`
 * pnpm installs the current branch's one when it is there, and with `mergeGitBranchLockfiles` every one merged into
 * pnpm-lock.yaml (measured on 10.34.8, 11.28.10, 12.24.0: a branch lockfile's package installed, pnpm-lock.yaml beside it
 * clean). Which is installed depends on the branch and on settings the environment or command line may give.
 */
export function pnpmBranchLockfiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => /^pnpm-lock\..+\.yaml$/.test(name)).sort();
}

/** Finds the lockfile in `dir`; with several package managers' lockfiles present, `kind` must choose. */
export function findLockfile(dir: string, kind?: LockfileKind): { path: string; kind: LockfileKind } {
  const found: { path: string; kind: LockfileKind }[] = [];
  for (const candidate of ['npm', 'pnpm', 'yarn'] as const) {
    if (kind !== undefined && candidate !== kind) continue;
    const names = LOCKFILE_NAMES[candidate].filter((file) => existsSync(join(dir, file)));
    if (candidate === 'npm' && names.length > 1) {
      throw new PortcullisError(
        'USAGE',
        `${resolve(dir)} has npm-shrinkwrap.json and package-lock.json: npm 10 and 11 install from npm-shrinkwrap.json, npm 12 from package-lock.json only, so which one is installed depends on the npm. Delete the one your npm does not use. (portcullis-npm judges the one the npm it runs installs.)`,
      );
    }
    if (candidate === 'pnpm' && names.length > 0) {
      const branches = pnpmBranchLockfiles(dir);
      if (branches.length > 0) {
        throw new PortcullisError(
          'USAGE',
          `${resolve(dir)} has pnpm git-branch lockfiles beside pnpm-lock.yaml (${branches.join(', ')}): with gitBranchLockfile pnpm installs the current branch's one instead, with mergeGitBranchLockfiles all of them merged, so which packages are installed depends on the branch and settings at install time. Merge them into pnpm-lock.yaml (pnpm install --merge-git-branch-lockfiles) or delete them, then check again. (The pnpmfile judges the lockfile pnpm reads.)`,
        );
      }
    }
    if (names[0] !== undefined) found.push({ path: resolve(dir, names[0]), kind: candidate });
  }
  const [only, ...others] = found;
  if (only === undefined) {
    const names = kind !== undefined ? LOCKFILE_NAMES[kind] : Object.values(LOCKFILE_NAMES).flat();
    throw new PortcullisError('LOCKFILE_NOT_FOUND', `No lockfile in ${resolve(dir)}: looked for ${names.join(', ')}. Run your package manager's install first.`);
  }
  if (others.length > 0) {
    const names = found.map((entry) => basename(entry.path)).join(' and ');
    throw new PortcullisError(
      'USAGE',
      `${resolve(dir)} has lockfiles of several package managers (${names}); say which one to check (npm, pnpm or yarn), or delete the stale one.`,
    );
  }
  return only;
}

/** Whether `dir` declares workspaces (a `workspaces` field in package.json, or a pnpm-workspace.yaml). */
function declaresWorkspaces(dir: string): boolean {
  if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return true;
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8').replace(/^\uFEFF/, '')) as unknown;
    return typeof manifest === 'object' && manifest !== null && Boolean((manifest as Record<string, unknown>).workspaces);
  } catch {
    return false;
  }
}

/**
 * The lockfile that governs `start`: in `start` itself, else in the nearest folder above it. Above the nearest
 * package.json only a folder that declares workspaces counts (the package managers install a member from its
 * workspace root); a stray lockfile further up belongs to another project, so that is LOCKFILE_NOT_FOUND.
 */
export function findProjectLockfile(start: string, kind?: LockfileKind): { path: string; kind: LockfileKind } {
  const first = resolve(start);
  let passedManifest = false;
  for (let dir = first; ; dir = dirname(dir)) {
    const here = (kind === undefined ? (['npm', 'pnpm', 'yarn'] as const) : [kind]).some((k) => LOCKFILE_NAMES[k].some((file) => existsSync(join(dir, file))));
    if (here) return findLockfile(dir === first || !passedManifest || declaresWorkspaces(dir) ? dir : first, kind);
    if (existsSync(join(dir, 'package.json'))) passedManifest = true;
    if (dirname(dir) === dir) return findLockfile(first, kind);
  }
}

/** Options of `readLockfile`; `projectDir` defaults to the lockfile's folder. */
export interface ReadLockfileOptions {
  registryFor: RegistryFor;
  projectDir?: string;
  /** Refuse files larger than this many bytes (default 64 MiB). */
  maxBytes?: number;
  /** Told the exact text that was read and parsed (a remembered check is keyed by it). */
  onText?: (text: string) => void;
}

/** Reads the lockfile at `path`, choosing the reader by its file name. */
export function readLockfile(path: string, opts: ReadLockfileOptions): Lockfile {
  const absolute = resolve(path);
  const kind = lockfileKindOf(absolute);
  if (kind === undefined) {
    throw new PortcullisError('USAGE', `${absolute} is not a lockfile Portcullis reads (package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml or yarn.lock).`);
  }
  let size: number;
  try {
    size = statSync(absolute).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PortcullisError('LOCKFILE_NOT_FOUND', `${absolute} does not exist.`, { file: absolute });
    }
    throw new PortcullisError('LOCKFILE_INVALID', `${absolute} could not be read: ${(error as Error).message}`, { file: absolute });
  }
  // Checked before reading, so a huge file is never loaded into memory.
  assertLockfileSize(size, absolute, opts.maxBytes ?? MAX_LOCKFILE_BYTES);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    throw new PortcullisError('LOCKFILE_INVALID', `${absolute} could not be read: ${(error as Error).message}`, { file: absolute });
  }
  opts.onText?.(text);
  const readOptions: LockfileReadOptions = { path: absolute, projectDir: resolve(opts.projectDir ?? dirname(absolute)), registryFor: opts.registryFor };
  switch (kind) {
    case 'npm':
      return readNpmLockfile(text, readOptions);
    case 'pnpm':
      return readPnpmLockfile(text, readOptions);
    case 'yarn':
      return readYarnLockfile(text, readOptions);
  }
}
