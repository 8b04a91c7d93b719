/**
 * Small files the pnpmfile's loader believes without the engine (early.ts's token, replay.ts's records), kept in this
 * user's state folder (`PORTCULLIS_STATE_DIR`, beside the memo secret), never in the cache folder.
 *
 * They are believed because of where they are, as the memo secret itself is: whoever can write that folder can read or
 * replace the secret too, so a tag made with the secret would add nothing there, while the cache folder — which a CI
 * may restore from another workflow — holds none of them. A file is also believed only when it belongs to this user
 * and nobody else may write it. So the hook worker that replays an answer or reads a token loads no `node:crypto`
 * (~1.75 ms in each of pnpm 12's two workers, measured) and hashes no file: the files an answer was decided from are
 * kept whole and compared byte for byte.
 *
 * Layout: the line `portcullis <kind>`, one line of JSON `{"header": …, "sizes": […]}`, then the blobs, `sizes[i]`
 * bytes each, and nothing after them. Node built-ins only: the loader uses it.
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { defaultStateDir, fnv1a, ownFile, readBounded, removeOlderThan, writeFileAtomic } from '@portcullis/core/loader';
import type { PnpmProcess } from './ancestor.js';

/** Old files looked at per write, to drop them (a folder stays small without a full scan each time). */
const PRUNE_PER_WRITE = 64;
const NEWLINE = 0x0a;

/**
 * Writes `header` and `blobs` for `kind` to `file` (atomically, `0600` in a `0700` folder), then, once the caller's
 * current work is done (pnpm 12's hook worker writes the token while pnpm waits for updateConfig's answer), drops a few
 * files of the same folder older than `keepMs` (by their modification time). Throws when it cannot write.
 */
export function writeStateFile(file: string, kind: string, header: unknown, blobs: readonly Uint8Array[], keepMs: number, now: number = Date.now()): void {
  const folder = dirname(file);
  const parts = [Buffer.from(`portcullis ${kind}\n${JSON.stringify({ header, sizes: blobs.map((b) => b.byteLength) })}\n`, 'utf8'), ...blobs];
  try {
    writeFileAtomic(file, parts, 0o600);
  } catch (error) {
    // The folder is made on the first write only (each write made sure of it before: ~0.1 ms of every repeated install).
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeFileAtomic(file, parts, 0o600);
  }
  setImmediate(() => {
    try {
      removeOlderThan(folder, keepMs, { except: basename(file), atMost: PRUNE_PER_WRITE, now });
    } catch {
      // The next write drops them.
    }
  });
}

/**
 * The header and blobs of `file` written for `kind`, if it is a plain file (not a link: opened without following one,
 * and checked on what was opened), at most `maxBytes`, this user's own, and whole; undefined otherwise (none, another
 * kind, cut short, malformed). `oftenMissing`: looked for first (read-bounded.ts), for a file usually not there.
 */
export function readStateFile(file: string, kind: string, maxBytes: number, oftenMissing = false): { header: unknown; blobs: Buffer[] } | undefined {
  const bytes = readBounded(file, maxBytes, { noFollow: true, accept: ownFile, oftenMissing });
  if (bytes === undefined) return undefined;
  try {
    const magic = `portcullis ${kind}\n`;
    if (bytes.length < magic.length || bytes.toString('latin1', 0, magic.length) !== magic) return undefined;
    const end = bytes.indexOf(NEWLINE, magic.length);
    if (end < 0) return undefined;
    const parsed = JSON.parse(bytes.toString('utf8', magic.length, end)) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const { header, sizes } = parsed as { header?: unknown; sizes?: unknown };
    if (!Array.isArray(sizes) || !sizes.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) return undefined;
    const blobs: Buffer[] = [];
    let at = end + 1;
    for (const size of sizes as number[]) {
      if (at + size > bytes.length) return undefined;
      blobs.push(bytes.subarray(at, at + size));
      at += size;
    }
    return at === bytes.length ? { header, blobs } : undefined;
  } catch {
    // Not JSON.
    return undefined;
  }
}

/**
 * A short name for a state file from `text` (two 32-bit FNV-1a hashes from different bases, hex): the file then says
 * what it is for, and a reader compares that in full, so two texts with one name only ever make a file not found.
 */
export function stateFileName(text: string): string {
  return [fnv1a(text), fnv1a(text, 0x050c5d1f)].map((h) => h.toString(16).padStart(8, '0')).join('');
}

/**
 * The state file of `folder` for one pnpm process and pnpmfile: `<pid>-<start time>-<name of the pnpmfile's path>` (no
 * other pnpm process, nor a later one that reuses the pid, finds it); undefined without pnpm's start time.
 */
export function perProcessFile(folder: string, pnpmfile: string, pnpm: PnpmProcess, env: NodeJS.ProcessEnv): string | undefined {
  if (pnpm.startTime === undefined || !/^\d+$/.test(pnpm.startTime) || !Number.isSafeInteger(pnpm.pid) || !isAbsolute(pnpmfile)) return undefined;
  return join(defaultStateDir(env), folder, `${pnpm.pid}-${pnpm.startTime}-${stateFileName(pnpmfile)}`);
}
