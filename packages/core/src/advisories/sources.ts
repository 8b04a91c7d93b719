/**
 * The record files of the advisory sources a policy names, and the cheap key of their state: a hash over
 * (source, relative path, size, mtime, ctime) of every file, taken from `stat` alone. Equal keys mean the
 * files have not been touched, so the index built from them can be reused without reading one of them.
 */
import { createHash } from 'node:crypto';
import { readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PortcullisError } from '../errors.js';

/** One record file. */
export interface SourceFile {
  path: string;
  /** The path shown in problems: the source as the policy names it, then the path inside it. */
  label: string;
  size: number;
}

/** More record files than this is refused (the public npm set has a few hundred thousand). */
export const MAX_SOURCE_FILES = 2_000_000;

/**
 * Advisory sources (absolute paths, as the policy lists them) and the key of their state a decision used
 * (`listSourceFiles(sources, format).key`: stat alone). Whoever replays that decision checks the key again.
 */
export interface AdvisorySourcesState {
  sources: string[];
  format: string;
  key: string;
}

/**
 * Lists the `*.json` files of `sources` (files, or folders walked recursively in byte order, symbolic links
 * followed but never around a cycle) and their key. A source that does not exist or cannot be read is an
 * error: advisories the policy asks for are never silently absent.
 */
export function listSourceFiles(sources: readonly string[], format: string): { files: SourceFile[]; key: string } {
  const hash = createHash('sha256').update(`${format}\0`);
  const files: SourceFile[] = [];
  const add = (path: string, label: string, stats: Stats) => {
    if (files.length >= MAX_SOURCE_FILES) throw new PortcullisError('INPUT_TOO_LARGE', `The advisory sources hold more than ${MAX_SOURCE_FILES.toLocaleString('en-US')} record files.`);
    files.push({ path, label, size: stats.size });
    hash.update(`${label}\0${stats.size}\0${stats.mtimeMs}\0${stats.ctimeMs}\n`);
  };
  // A symbolic link to a folder is followed unless that folder is being walked already (a cycle). Real paths
  // are tracked as strings, so that plain folders cost no extra system call.
  const open = new Set<string>();
  const walk = (dir: string, real: string, label: string) => {
    if (open.has(real)) return;
    open.add(real);
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const inner = `${label}/${entry.name}`;
      if (entry.isDirectory()) walk(path, join(real, entry.name), inner);
      else if (entry.isSymbolicLink()) {
        const target = statSync(path, { throwIfNoEntry: false });
        if (target?.isDirectory()) walk(path, realpathSync(path), inner);
        else if (target?.isFile() && entry.name.endsWith('.json')) add(path, inner, target);
      } else if (entry.isFile() && entry.name.endsWith('.json')) {
        add(path, inner, statSync(path));
      }
    }
    open.delete(real);
  };
  sources.forEach((source, i) => {
    const path = resolve(source);
    hash.update(`source ${i}\0${path}\n`);
    let stats: Stats | undefined;
    try {
      stats = statSync(path);
      if (stats.isDirectory()) walk(path, realpathSync(path), source);
      else if (stats.isFile()) add(path, source, stats);
      else throw new Error('neither a file nor a folder');
    } catch (error) {
      if (error instanceof PortcullisError) throw error;
      throw new PortcullisError('ADVISORIES_UNAVAILABLE', `The advisory source ${source} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
    }
  });
  return { files, key: hash.digest('hex') };
}

/**
 * A key of what can be checked in a few `stat` calls: each source itself and, when it lies in a git checkout,
 * that checkout's `.git/index` and `.git/HEAD` (rewritten by every pull, checkout and reset). It does not see a
 * file edited in place inside a folder: a recent walk is trusted only for a bounded time (see buildAdvisoryIndex).
 */
export function sourceRootsKey(sources: readonly string[], format: string): string {
  const hash = createHash('sha256').update(`${format}\0roots\0`);
  const line = (label: string, stats: Stats | undefined) => hash.update(stats === undefined ? `${label}\0-\n` : `${label}\0${stats.size}\0${stats.mtimeMs}\0${stats.ctimeMs}\0${stats.ino}\n`);
  sources.forEach((source, i) => {
    const path = resolve(source);
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) throw new PortcullisError('ADVISORIES_UNAVAILABLE', `The advisory source ${source} cannot be read (ENOENT).`);
    line(`source ${i}\0${path}`, stats);
    for (let dir = path, up = 0; up < 64; up++) {
      const git = statSync(join(dir, '.git'), { throwIfNoEntry: false });
      if (git !== undefined) {
        line(`git ${join(dir, '.git')}`, git);
        if (git.isDirectory()) for (const file of ['index', 'HEAD']) line(file, statSync(join(dir, '.git', file), { throwIfNoEntry: false }));
        break;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  });
  return hash.digest('hex');
}
