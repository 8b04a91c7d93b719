/**
 * Where Portcullis keeps what it learns for a user: the cache directory (metadata, remembered facts; may be
 * shared or restored from elsewhere) and the state directory (this user's memo secret, never in the cache).
 * Kept apart from the caches themselves so that the small pnpmfile loader can find its code cache without
 * loading the engine.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Env } from '../env.js';
import { readBounded } from '../read-bounded.js';

/**
 * This user's home folder, as `os.homedir()` gives it: on POSIX that is `$HOME` of this process when set (libuv reads
 * it first), so the loaders, which build this in with `node:os` loaded on first use (lazy-modules.ts), load `node:os`
 * only without it (~0.16 ms of each of pnpm 12's hook workers, measured).
 */
function userHome(): string {
  const home = process.platform === 'win32' ? undefined : process.env.HOME;
  return home !== undefined && home !== '' ? home : homedir();
}

/** The conventional per-user cache directory (`$XDG_CACHE_HOME/portcullis`, `%LOCALAPPDATA%\portcullis`, `~/Library/Caches/portcullis`). */
export function defaultCacheDir(env: Env = process.env, home: string = userHome(), platform: NodeJS.Platform = process.platform): string {
  if (env.PORTCULLIS_CACHE_DIR) return env.PORTCULLIS_CACHE_DIR;
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'portcullis', 'Cache');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'portcullis');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'portcullis');
}

/** The state directory: `PORTCULLIS_STATE_DIR`, else the platform's per-user state folder (never the cache). */
export function defaultStateDir(env: Env = process.env, home: string = userHome(), platform: NodeJS.Platform = process.platform): string {
  if (env.PORTCULLIS_STATE_DIR) return env.PORTCULLIS_STATE_DIR;
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'portcullis', 'State');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'portcullis');
  return join(env.XDG_STATE_HOME || join(home, '.local', 'state'), 'portcullis');
}

/**
 * Whether `stats` are of a file this user owns and nobody else may write: what the state folder's files (the memo
 * secret, pnpm's tokens and records) must be to be believed. No such check where there are no uids (Windows).
 */
export function ownFile(stats: { uid: number; mode: number }): boolean {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  return uid === undefined || (stats.uid === uid && (stats.mode & 0o022) === 0);
}

const secrets = new Map<string, Buffer | null>();

/**
 * This user's memo secret (32 random bytes, hex, mode 0600), created on first use; null when it cannot be
 * read or created, and then nothing is remembered. A file written otherwise is read too: 64 hex digits, of either
 * case, with at most one line ending after them (`echo` adds one). That is how CI runners share a key kept as a CI
 * secret, each writing it into its new state directory (docs/ci.md). Anything else is not a key, and neither is a
 * file another user owns or may write (ownFile), or a link.
 */
export function memoSecret(stateDir: string): Buffer | null {
  const known = secrets.get(stateDir);
  if (known !== undefined) return known;
  const file = join(stateDir, 'memo-key');
  const read = (): Buffer | null => {
    const bytes = readBounded(file, 66, { noFollow: true, accept: ownFile });
    const key = bytes === undefined ? undefined : /^([0-9a-fA-F]{64})(?:\r?\n)?$/.exec(bytes.toString('latin1'))?.[1];
    return key === undefined ? null : Buffer.from(key, 'hex');
  };
  let secret = read();
  if (secret === null) {
    try {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      // Exclusive create: two processes starting at once agree on one secret.
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, randomBytes(32).toString('hex'));
      } finally {
        closeSync(fd);
      }
    } catch {
      // Exists already (another process won, or it is malformed and left alone), or not writable.
    }
    secret = read();
  }
  secrets.set(stateDir, secret);
  return secret;
}

/**
 * The memo key file of `stateDir` when there is one that memoSecret does not take (a CI step's key written wrong, a
 * file another user owns or may write, a link): then nothing is remembered, which a decision says in a notice.
 */
export function refusedMemoKey(stateDir: string): string | undefined {
  if (memoSecret(stateDir) !== null) return undefined;
  const file = join(stateDir, 'memo-key');
  try {
    lstatSync(file);
    return file;
  } catch {
    return undefined;
  }
}
