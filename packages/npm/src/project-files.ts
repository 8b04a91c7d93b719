/**
 * The files an aborted install must leave exactly as they were: the root's package.json and lockfiles,
 * npm's hidden lockfile (node_modules/.package-lock.json, which a lock-only resolution rewrites too) and
 * every workspace member's package.json (`install <pkg>` in a member writes it).
 */
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readsShrinkwrap } from './quirks.js';
import { PortcullisError } from '@portcullis/core';

const HIDDEN_LOCKFILE = join('node_modules', '.package-lock.json');
const GUARDED = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', HIDDEN_LOCKFILE] as const;

/** More folders than this under the workspace globs: the wrapper will not promise to restore them all. */
const MAX_WORKSPACE_FOLDERS = 20_000;

/** A byte-exact copy of the guarded files (null: the file did not exist). */
export class ProjectSnapshot {
  private constructor(
    readonly dir: string,
    private readonly files: Map<string, Buffer | null>,
  ) {}

  /** The root's guarded files and every workspace member's package.json (absolute paths are kept as given). */
  static take(dir: string): ProjectSnapshot {
    const files = new Map<string, Buffer | null>();
    for (const file of [...GUARDED.map((name) => join(dir, name)), ...workspaceManifests(dir)]) {
      files.set(file, existsSync(file) ? readFileSync(file) : null);
    }
    return new ProjectSnapshot(dir, files);
  }

  /** Puts every guarded file back byte for byte, and removes those that did not exist. */
  restore(): void {
    for (const file of this.files.keys()) this.restoreFile(file);
  }

  /**
   * Puts npm's hidden lockfile back: it says what node_modules holds, and a lock-only resolution rewrites it to the
   * new lockfile without installing anything, so the install after it would find the tree "up to date".
   */
  restoreHiddenLockfile(): void {
    this.restoreFile(join(this.dir, HIDDEN_LOCKFILE));
  }

  private restoreFile(file: string): void {
    const bytes = this.files.get(file);
    if (bytes === undefined) return;
    if (bytes === null) {
      rmSync(file, { force: true });
    } else if (!existsSync(file) || !readFileSync(file).equals(bytes)) {
      writeFileSync(file, bytes);
    }
  }
}

/**
 * The lockfile this npm (`npmVersion`) installs from in `dir`: npm-shrinkwrap.json over package-lock.json on npm 10 and
 * 11, package-lock.json only on npm 12 (quirks.ts `readsShrinkwrap`): a decoy npm-shrinkwrap.json must not be what the
 * gate judges while npm 12 installs package-lock.json. With an npm-shrinkwrap.json and an npm of unknown version,
 * PROJECT_AMBIGUOUS.
 */
export function lockfileIn(dir: string, npmVersion: string | undefined): string | undefined {
  const shrinkwrap = join(dir, 'npm-shrinkwrap.json');
  const packageLock = join(dir, 'package-lock.json');
  const found = (file: string) => (existsSync(file) ? file : undefined);
  if (!existsSync(shrinkwrap)) return found(packageLock);
  const reads = readsShrinkwrap(npmVersion);
  if (reads === true) return shrinkwrap;
  if (reads === false) return found(packageLock);
  throw new PortcullisError(
    'PROJECT_AMBIGUOUS',
    `${shrinkwrap} is there, and portcullis-npm cannot read this npm's version (npm 10 and 11 install from npm-shrinkwrap.json, npm 12 from package-lock.json only). Nothing was run: set PORTCULLIS_NPM to npm's npm-cli.js, or remove the lockfile your npm does not use.`,
  );
}

function refuse(root: string, why: string): PortcullisError {
  return new PortcullisError('PROJECT_AMBIGUOUS', `${join(root, 'package.json')}: ${why}; portcullis-npm cannot tell which workspace package.json files npm may write. Nothing was run.`);
}

/** The `workspaces` globs of the package.json in `root` (none when it declares no workspaces). */
function workspacePatterns(root: string): string[] {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8').replace(/^\uFEFF/, ''));
  } catch {
    return [];
  }
  if (manifest === null || typeof manifest !== 'object') return [];
  const workspaces = (manifest as Record<string, unknown>).workspaces;
  if (workspaces === undefined || workspaces === null || workspaces === false) return [];
  const list = Array.isArray((workspaces as Record<string, unknown>).packages) ? (workspaces as Record<string, unknown>).packages : workspaces;
  // npm itself refuses anything else (EWORKSPACESCONFIG)
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) throw refuse(root, '`workspaces` is not a list of globs');
  return list as string[];
}

const MAGIC = /[*?[\]{}()!+@]/;

/**
 * Every package.json a member matched by the root's `workspaces` globs could have: a superset of what
 * npm's glob matches (negations ignored), found by walking from each glob's literal leading folders, no
 * deeper than the glob's number of segments (unbounded for `**`), never into node_modules or .git.
 */
export function workspaceManifests(root: string): string[] {
  const found = new Set<string>();
  const visited = new Set<string>();
  for (const raw of workspacePatterns(root)) {
    // as npm does: `!` prefixes, a leading ./ or /, backslashes
    const pattern = raw.replace(/^!+/, '').replace(/\\/g, '/').replace(/^\.?\/+/, '');
    const segments = pattern.split('/').filter((s) => s !== '' && s !== '.');
    const literal: string[] = [];
    while (literal.length < segments.length && !MAGIC.test(segments[literal.length]!)) literal.push(segments[literal.length]!);
    const limit = segments.some((s) => s.includes('**')) ? Number.POSITIVE_INFINITY : segments.length - literal.length;
    walk(resolve(root, ...literal), limit);
  }
  return [...found];

  function walk(dir: string, depthLeft: number): void {
    let real: string;
    try {
      real = realpathSync(dir);
      if (!statSync(real).isDirectory()) return;
    } catch {
      return;
    }
    const key = `${real}\0${depthLeft}`;
    if (visited.has(key) || visited.has(`${real}\0${Number.POSITIVE_INFINITY}`)) return;
    visited.add(key);
    if (visited.size > MAX_WORKSPACE_FOLDERS) throw refuse(root, `its \`workspaces\` globs cover more than ${MAX_WORKSPACE_FOLDERS} folders`);
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) found.add(manifest);
    if (depthLeft <= 0) return;
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      if (name === 'node_modules' || name === '.git') continue;
      walk(join(dir, name), depthLeft - 1);
    }
  }
}
