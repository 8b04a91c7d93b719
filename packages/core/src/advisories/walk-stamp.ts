/**
 * A record of a recent walk of the advisory sources: for sources whose roots key (sourceRootsKey) is unchanged,
 * the full stat key the walk found and when. Authenticated with the cache secret, like the index it points to.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';

const FORMAT = 'portcullis-advisories-walk-v1';
const MAX_BYTES = 4096;

function tagOf(secret: Buffer, roots: string, key: string, walkedAt: number): string {
  return createHmac('sha256', secret).update(`${FORMAT}\0${roots}\0${key}\0${walkedAt}`).digest('hex');
}

/** The key of the last walk of these roots, if it is authentic and at most `trustMs` old; undefined otherwise. */
export function recentWalk(folder: string, roots: string, secret: Buffer, now: number, trustMs: number): string | undefined {
  try {
    const file = join(folder, `${roots}.walk`);
    if ((statSync(file, { throwIfNoEntry: false })?.size ?? Infinity) > MAX_BYTES) return undefined;
    const stamp = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const { format, key, walkedAt, tag } = stamp ?? {};
    if (format !== FORMAT || typeof key !== 'string' || !/^[0-9a-f]{64}$/.test(key) || typeof walkedAt !== 'number' || !Number.isSafeInteger(walkedAt) || typeof tag !== 'string') return undefined;
    const expected = Buffer.from(tagOf(secret, roots, key, walkedAt), 'hex');
    const given = Buffer.from(tag, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    // A walk from the future (a clock set back, a forged time) is not recent.
    return now >= walkedAt && now - walkedAt < trustMs ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Records that the roots `roots` walked to `key` at `now` (best effort). */
export function recordWalk(folder: string, roots: string, key: string, now: number, secret: Buffer): void {
  try {
    const walkedAt = Math.floor(now);
    writeFileAtomic(join(folder, `${roots}.walk`), JSON.stringify({ format: FORMAT, key, walkedAt, tag: tagOf(secret, roots, key, walkedAt) }), 0o600);
  } catch {
    // Only costs a walk next time.
  }
}
