/**
 * pnpm 12 runs `updateConfig` in one Node worker and the other hooks in a second one, started afresh: what only
 * updateConfig is told does not reach them. Its cache folder (`cacheDir`) is such a thing — and without it
 * readPackage cannot read the signatures pnpm 12 kept in its metadata cache, so every new package's packument
 * was fetched a second time on a cold install. updateConfig leaves it here for the workers of the same pnpm
 * process (their parent's pid), in one small file of the Portcullis cache.
 *
 * What is read here is a hint, never a verdict: the folder only tells readPackage where to look for registry
 * documents, which are supplied to the gate and verified there like any other (a wrong or forged folder costs
 * a fetch, never a check). Still hostile input: bounded, parsed defensively, absolute paths only.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { defaultCacheDir, writeFileAtomic } from '@portcullis/core';

const FILE = 'pnpm-workers-v1.json';
const MAX_BYTES = 64 * 1024;
const MAX_ENTRIES = 32;
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

function readEntries(file: string, now: number): Map<string, Entry> {
  const out = new Map<string, Entry>();
  try {
    if (statSync(file).size > MAX_BYTES) return out;
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return out;
    for (const [pid, entry] of Object.entries(parsed)) {
      if (/^[1-9]\d{0,9}$/.test(pid) && isEntry(entry) && now - entry.at >= 0 && now - entry.at < FOR_MS) out.set(pid, { cacheDir: entry.cacheDir, at: entry.at });
    }
  } catch {
    // None yet, or unreadable: no hint.
  }
  return out;
}

/** updateConfig (pnpm 12): leaves pnpm's cache folder for the other hook worker of the same pnpm (best effort). */
export function leaveCacheDir(cacheDir: string, env: NodeJS.ProcessEnv = process.env, parent: number = process.ppid, now: number = Date.now()): void {
  if (!isAbsolute(cacheDir)) return;
  try {
    const dir = defaultCacheDir(env);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, FILE);
    const entries = readEntries(file, now);
    entries.delete(String(parent));
    entries.set(String(parent), { cacheDir, at: now });
    const kept = [...entries].slice(-MAX_ENTRIES);
    writeFileAtomic(file, `${JSON.stringify(Object.fromEntries(kept))}\n`, 0o600);
  } catch {
    // A cache folder that cannot be written: the next worker fetches what it needs instead.
  }
}

/** The cache folder updateConfig left for this worker's pnpm, if any (a hint: see above). */
export function cacheDirLeft(env: NodeJS.ProcessEnv = process.env, parent: number = process.ppid, now: number = Date.now()): string | undefined {
  return readEntries(join(defaultCacheDir(env), FILE), now).get(String(parent))?.cacheDir;
}
