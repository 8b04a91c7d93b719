/**
 * pnpm 12 runs `updateConfig` in one Node worker and the other hooks in a second one, started afresh: what only
 * updateConfig is told does not reach them. Its cache folder (`cacheDir`) is such a thing — and without it
 * readPackage cannot read the signatures pnpm 12 kept in its metadata cache, so every new package's packument
 * was fetched a second time on a cold install. updateConfig leaves it here for the workers of the same pnpm
 * process (their parent's pid), in a small file of the Portcullis cache.
 *
 * What is read here is a hint, never a verdict: the folder only tells readPackage where to look for registry
 * documents, which are supplied to the gate and verified there like any other (a wrong or forged folder costs
 * a fetch, never a check). Still hostile input: bounded, parsed defensively, absolute paths only.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { defaultCacheDir, writeFileAtomic } from '@portcullis/core';

/**
 * One small file per pnpm process (named by its pid), never one shared file: concurrent pnpm installs would
 * otherwise read, add and write it at once and lose each other's entry (measured in the parallel e2e run).
 */
const FOLDER = 'pnpm-workers-v1';
const MAX_BYTES = 8 * 1024;
/** Files looked at per write to drop old ones (the folder stays small without a full scan each time). */
const PRUNE_PER_WRITE = 64;
/** An entry older than this is another pnpm's that had the same pid: ignored, then dropped. */
const FOR_MS = 24 * 60 * 60 * 1000;

interface Entry {
  cacheDir: string;
  at: number;
}

function isEntry(value: unknown): value is Entry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const e = value as Record<string, unknown>;
  return typeof e.cacheDir === 'string' && e.cacheDir.length < 4096 && isAbsolute(e.cacheDir) && !e.cacheDir.includes('\0') && typeof e.at === 'number' && Number.isFinite(e.at);
}

const pidName = (pid: number): string | undefined => (Number.isSafeInteger(pid) && pid > 0 && pid < 1e10 ? `${pid}.json` : undefined);

function readEntry(file: string, now: number): Entry | undefined {
  try {
    if (statSync(file).size > MAX_BYTES) return undefined;
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isEntry(parsed) || now - parsed.at < 0 || now - parsed.at >= FOR_MS) return undefined;
    return { cacheDir: parsed.cacheDir, at: parsed.at };
  } catch {
    // None yet, or unreadable: no hint.
    return undefined;
  }
}

/** updateConfig (pnpm 12): leaves pnpm's cache folder for the other hook worker of the same pnpm (best effort). */
export function leaveCacheDir(cacheDir: string, env: NodeJS.ProcessEnv = process.env, parent: number = process.ppid, now: number = Date.now()): void {
  const name = pidName(parent);
  if (!isAbsolute(cacheDir) || name === undefined) return;
  try {
    const dir = join(defaultCacheDir(env), FOLDER);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(join(dir, name), `${JSON.stringify({ cacheDir, at: now })}\n`, 0o600);
    // Drop a few entries of pnpm processes long gone (older than a day by their own stamp, or unreadable).
    for (const other of readdirSync(dir).slice(0, PRUNE_PER_WRITE)) {
      if (other === name || !/^[1-9]\d{0,9}\.json$/.test(other)) continue;
      if (readEntry(join(dir, other), now) === undefined) rmSync(join(dir, other), { force: true });
    }
  } catch {
    // A cache folder that cannot be written: the next worker fetches what it needs instead.
  }
}

/** The cache folder updateConfig left for this worker's pnpm, if any (a hint: see above). */
export function cacheDirLeft(env: NodeJS.ProcessEnv = process.env, parent: number = process.ppid, now: number = Date.now()): string | undefined {
  const name = pidName(parent);
  return name === undefined ? undefined : readEntry(join(defaultCacheDir(env), FOLDER, name), now)?.cacheDir;
}
