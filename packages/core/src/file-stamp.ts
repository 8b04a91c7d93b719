/**
 * What a stat can vouch for about a file: the installed-files stamp (layouts/installed.ts) and pnpm 12's loader (the
 * token and the replayed answer: pnpm's early.ts and replay.ts) believe a file still holds the bytes read before when
 * its stamp is the same. Node built-ins only: the loader face (loader.ts) exports it.
 */
import { statSync } from 'node:fs';

/**
 * A change to a file sets its ctime to the kernel's clock, in steps as coarse as the file system keeps (up to 2 s):
 * a file changed less than this long before a stamp could change again within the same step and keep its stat.
 */
export const STAMP_SETTLED_MS = 3_000;

/**
 * The stamp of the file or folder at `path`: device, inode, mode, size, mtime and ctime, in nanoseconds. `null` when
 * there is none; undefined when a stat cannot vouch for it: changed less than STAMP_SETTLED_MS before `now`, or on a
 * file system that keeps no ctime. ctime cannot be set from user space (a tarball or `touch` sets mtime, never ctime),
 * so any change made after a stamp was taken — new bytes, a replaced file, a file renamed over it — gives another
 * stamp, and an equal stamp means that what was read after the first one is still there. Take it before reading the
 * file. Throws what stat throws besides "no such file".
 */
export function settledStamp(path: string, now: number): string | null | undefined {
  const stat = statSync(path, { bigint: true, throwIfNoEntry: false });
  if (stat === undefined) return null;
  if (stat.ctimeNs <= 0n || stat.ctimeNs >= BigInt(now - STAMP_SETTLED_MS) * 1_000_000n) return undefined;
  return `${stat.dev}:${stat.ino}:${stat.mode}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
}
