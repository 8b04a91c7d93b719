/**
 * The pnpmfile's V8 code cache. pnpm 12 starts a fresh Node worker for the hooks (two on a warm install), and
 * compiling the engine is most of what loading it costs: the pnpmfile's loader compiles it with the code V8
 * produced last time. A code cache is executable: it is only ever used when its tag — an HMAC with this user's
 * memo secret (kept outside the cache directory) over the engine's hash, the Node version and the bytes —
 * verifies, so a cache directory restored from elsewhere, or edited, is compiled from source instead. V8 itself
 * also rejects data that does not match the source. Never throws: any problem just means compiling from source.
 */
import { isAscii } from 'node:buffer';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { removeOlderThan, writeFileAtomic } from '../atomic-write.js';
import type { Env } from '../env.js';
import { defaultCacheDir, defaultStateDir, memoSecret } from './dirs.js';

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
    // pnpm 12 ends a hook worker soon after its answer, and the pnpmfile's loader writes the code cache after the
    // answer: a worker ended between writing and renaming leaves writeFileAtomic's `.<name>.<pid>.<random>.tmp`.
    // Each write removes those an earlier one left (a minute old: no write in progress takes that long).
    removeOlderThan(dirname(at.file), STALE_TEMPORARY_MS, { only: (name) => name.startsWith('.') && name.endsWith('.tmp') });
  } catch {
    // Only time is lost.
  }
}

/** A temporary file this old is no write in progress: its writer was ended before renaming it into place. */
const STALE_TEMPORARY_MS = 60_000;

const SOURCE_FOLDER = 'engine-v1';

function sourceFile(engineHash: string, env: Env): string | undefined {
  return /^[0-9a-f]{32,64}$/.test(engineHash) ? join(defaultCacheDir(env), SOURCE_FOLDER, `${engineHash}.js`) : undefined;
}

/**
 * The engine's source as a loader last took it out of its pnpmfile, kept so the next worker need not do it again
 * (reading the ~1 MB pnpmfile as text, taking the engine out of its comment lines and hashing that string cost
 * ~20 ms of every engine load; reading this file back and hashing its bytes ~3 ms). Content-addressed: used only when
 * its bytes still have `engineHash` (the sha256 prefix the loader carries), so nothing else can be run from here.
 */
export function readEngineSource(engineHash: string, env: Env = process.env): string | undefined {
  try {
    const file = sourceFile(engineHash, env);
    if (file === undefined || statSync(file).size > MAX_BYTES) return undefined;
    const bytes = readFileSync(file);
    if (createHash('sha256').update(bytes).digest('hex').slice(0, engineHash.length) !== engineHash) return undefined;
    // The engine is ASCII (the pnpmfile's build checks it): decoded without UTF-8 decoding then.
    return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  } catch {
    return undefined;
  }
}

/** Keeps the engine's source (already checked against `engineHash` by the caller) for the next worker; atomically, best effort. */
export function writeEngineSource(engineHash: string, source: string, env: Env = process.env): void {
  try {
    const file = sourceFile(engineHash, env);
    if (file === undefined) return;
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    writeFileAtomic(file, source, 0o600);
  } catch {
    // Only time is lost.
  }
}
