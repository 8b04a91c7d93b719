/**
 * The pnpmfile's V8 code cache. pnpm 12 starts a fresh Node worker for the hooks (two on a warm install), and
 * compiling the engine is most of what loading it costs: the pnpmfile's loader compiles it with the code V8
 * produced last time. A code cache is executable: it is only ever used when its tag — an HMAC with this user's
 * memo secret (kept outside the cache directory) over the engine's hash, the Node version and the bytes —
 * verifies, so a cache directory restored from elsewhere, or edited, is compiled from source instead. V8 itself
 * also rejects data that does not match the source. Never throws: any problem just means compiling from source.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import type { Env } from '../env.js';
import { defaultCacheDir, defaultStateDir, memoSecret } from './dirs.js';

// The loader's one window into core (pnpm's loader.ts, with early.ts): what it needs to find and authenticate files
// of this user's cache without loading the engine.
export { defaultCacheDir, defaultStateDir, memoSecret } from './dirs.js';
export { writeFileAtomic } from '../atomic-write.js';

const FOLDER = 'code-v1';
const MAX_BYTES = 64 * 1024 * 1024;
const TAG_BYTES = 32;

function location(engineHash: string, env: Env): { file: string; secret: Buffer } | undefined {
  if (!/^[0-9a-f]{16,128}$/.test(engineHash)) return undefined;
  const secret = memoSecret(defaultStateDir(env));
  if (secret === null) return undefined;
  return { file: join(defaultCacheDir(env), FOLDER, `${engineHash}-${process.version}-${process.arch}.bin`), secret };
}

function tagOf(secret: Buffer, engineHash: string, data: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`portcullis-${FOLDER}\0${engineHash}\0${process.version}\0${process.arch}\0`).update(data).digest();
}

/** The code cache produced for this engine, this Node and this user, if its tag verifies. */
export function readCodeCache(engineHash: string, env: Env = process.env): Buffer | undefined {
  try {
    const at = location(engineHash, env);
    if (at === undefined || statSync(at.file).size > MAX_BYTES) return undefined;
    const bytes = readFileSync(at.file);
    if (bytes.length <= TAG_BYTES) return undefined;
    const data = bytes.subarray(TAG_BYTES);
    return timingSafeEqual(bytes.subarray(0, TAG_BYTES), tagOf(at.secret, engineHash, data)) ? data : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps V8's code cache for the next worker (atomically; a failure only costs the next load its compile). */
export function writeCodeCache(engineHash: string, data: Uint8Array, env: Env = process.env): void {
  try {
    const at = location(engineHash, env);
    if (at === undefined || data.length === 0 || data.length > MAX_BYTES) return;
    mkdirSync(join(at.file, '..'), { recursive: true, mode: 0o700 });
    writeFileAtomic(at.file, Buffer.concat([tagOf(at.secret, engineHash, data), data]), 0o600);
  } catch {
    // Only time is lost.
  }
}
