/**
 * pnpm 12 runs `updateConfig` in one Node worker and the other hooks in a second one, started afresh: what only
 * updateConfig is told does not reach them. Its cache folder (`cacheDir`) is such a thing — and without it
 * readPackage cannot read the signatures pnpm 12 kept in its metadata cache, so every new package's packument
 * was fetched a second time on a cold install. updateConfig leaves it here for the workers of the same pnpm
 * install of the same project, in a small file of the Portcullis cache.
 *
 * What is read here is a hint, never a verdict: the folder only tells readPackage where to look for registry
 * documents, which are supplied to the gate and verified there like any other (a wrong or forged folder costs
 * a fetch, never a check). Still hostile input: bounded, parsed defensively, absolute paths only.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { defaultCacheDir, writeFileAtomic } from '@portcullis/core';

/**
 * One small file per project (named by a digest of its folder), never one shared file: concurrent installs would
 * otherwise read, add and write it at once and lose each other's entry. Not keyed by pnpm's pid: when `node` on
 * the PATH is a shim (volta, asdf, a package's `.bin/node`), each worker has another parent and the hint was
 * never found (measured in the e2e run under `pnpm run`).
 */
const FOLDER = 'pnpm-workers-v1';
const MAX_BYTES = 8 * 1024;
/** Files looked at per write to drop old ones (the folder stays small without a full scan each time). */
const PRUNE_PER_WRITE = 64;
/** An entry older than this is another pnpm's that had the same pid: ignored, then dropped. */
const FOR_MS = 24 * 60 * 60 * 1000;
/** An entry naming the same folder and younger than this is left as it is: a repeat install writes nothing. */
const REWRITE_AFTER_MS = 60 * 60 * 1000;

interface Entry {
  projectDir: string;
  cacheDir: string;
  at: number;
}

function isEntry(value: unknown): value is Entry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const e = value as Record<string, unknown>;
  const path = (x: unknown): boolean => typeof x === 'string' && x.length < 4096 && isAbsolute(x) && !x.includes('\0');
  return path(e.projectDir) && path(e.cacheDir) && typeof e.at === 'number' && Number.isFinite(e.at);
}

const fileOf = (projectDir: string): string | undefined => (isAbsolute(projectDir) ? `${createHash('sha256').update(projectDir).digest('hex').slice(0, 40)}.json` : undefined);

function readEntry(file: string, now: number): Entry | undefined {
  try {
    if (statSync(file).size > MAX_BYTES) return undefined;
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isEntry(parsed) || now - parsed.at < 0 || now - parsed.at >= FOR_MS) return undefined;
    return { projectDir: parsed.projectDir, cacheDir: parsed.cacheDir, at: parsed.at };
  } catch {
    // None yet, or unreadable: no hint.
    return undefined;
  }
}

/** updateConfig (pnpm 12): leaves pnpm's cache folder for the other hook worker of an install of this project (best effort). */
export function leaveCacheDir(cacheDir: string, projectDir: string, env: NodeJS.ProcessEnv = process.env, now: number = Date.now()): void {
  const name = fileOf(projectDir);
  if (!isAbsolute(cacheDir) || name === undefined) return;
  try {
    const dir = join(defaultCacheDir(env), FOLDER);
    const left = readEntry(join(dir, name), now);
    if (left?.projectDir === projectDir && left.cacheDir === cacheDir && now - left.at < REWRITE_AFTER_MS) return;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(join(dir, name), `${JSON.stringify({ projectDir, cacheDir, at: now })}\n`, 0o600);
    // Drop a few entries of projects not installed for a day (by their own stamp), or unreadable.
    for (const other of readdirSync(dir).slice(0, PRUNE_PER_WRITE)) {
      if (other === name || !/^[0-9a-f]{40}\.json$/.test(other)) continue;
      if (readEntry(join(dir, other), now) === undefined) rmSync(join(dir, other), { force: true });
    }
  } catch {
    // A cache folder that cannot be written: the next worker fetches what it needs instead.
  }
}

/** The cache folder updateConfig left for an install of this project, if any (a hint: see above). */
export function cacheDirLeft(projectDir: string, env: NodeJS.ProcessEnv = process.env, now: number = Date.now()): string | undefined {
  const name = fileOf(projectDir);
  if (name === undefined) return undefined;
  const entry = readEntry(join(defaultCacheDir(env), FOLDER, name), now);
  return entry?.projectDir === projectDir ? entry.cacheDir : undefined;
}
