/**
 * Small files the pnpmfile's loader believes without the engine (early.ts's token, replay.ts's records): a JSON body
 * and its HMAC with this user's memo secret (kept outside the cache folder), under a folder name that is part of
 * the tag, so a file of one kind is never taken for another. Node built-ins only: the loader uses it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { removeOlderThan, writeFileAtomic } from '@portcullis/core/loader';

/** Old files looked at per write, to drop them (a folder stays small without a full scan each time). */
const PRUNE_PER_WRITE = 64;

const tagOf = (secret: Buffer, kind: string, body: string): string => createHmac('sha256', secret).update(`portcullis-${kind}\0`).update(body).digest('hex');

/**
 * Writes `body` tagged for `kind` to `file` (atomically, `0600` in a `0700` folder), then drops a few files of the
 * same folder older than `keepMs` (by their modification time). Throws when it cannot write.
 */
export function writeTagged(file: string, kind: string, secret: Buffer, body: string, keepMs: number, now: number = Date.now()): void {
  const folder = dirname(file);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${JSON.stringify({ tag: tagOf(secret, kind, body), body })}\n`, 0o600);
  removeOlderThan(folder, keepMs, { except: basename(file), atMost: PRUNE_PER_WRITE, now });
}

/** The body of `file` if it is at most `maxBytes` and its tag for `kind` verifies with `secret`; undefined otherwise. */
export function readTagged(file: string, kind: string, secret: Buffer, maxBytes: number): string | undefined {
  try {
    if (statSync(file).size > maxBytes) return undefined;
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { tag?: unknown; body?: unknown };
    if (typeof stored.tag !== 'string' || typeof stored.body !== 'string' || !/^[0-9a-f]{64}$/.test(stored.tag)) return undefined;
    return timingSafeEqual(Buffer.from(stored.tag, 'hex'), Buffer.from(tagOf(secret, kind, stored.body), 'hex')) ? stored.body : undefined;
  } catch {
    // None, unreadable or not JSON.
    return undefined;
  }
}
