/**
 * What pnpm 12's loader keeps of a file it will be asked about again (the token, early.ts; the replayed answer,
 * replay.ts): its settled stamp (core's settledStamp: a stat, where the stat can vouch for the bytes), else its bytes
 * (a file changed in the last few seconds, or a file system that keeps no ctime), or `null` when there was none.
 * Checking a stamp again is one stat; checking bytes reads the file and compares them (measured in pnpm 12's workers,
 * 1,000 packages: the token's bytes cost ~1.3 ms to write and ~1.45 ms to check, the replay's ~3.2 ms in all).
 */
import { readFileSync, statSync } from 'node:fs';
import { settledStamp } from '@portcullis/core/loader';

/** A file's state: its settled stamp, its bytes, or null (none there). */
export type FileState = string | Buffer | null;

/** Files larger than this are not kept or compared on every install: no state then. */
const MAX_KEPT_BYTES = 16 * 1024 * 1024;

/** A failed stat or read: null when nothing is there, undefined when that cannot be told. */
const noneOrUnknown = (error: unknown): null | undefined => (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '') ? null : undefined);

/** The bytes at `path` (null: none there; undefined: cannot be told, or too large). */
function bytesAt(path: string): Buffer | null | undefined {
  try {
    if (statSync(path).size > MAX_KEPT_BYTES) return undefined;
    return readFileSync(path);
  } catch (error) {
    return noneOrUnknown(error);
  }
}

/** What is at `path` now (the stamp taken before any read), or undefined when that cannot be told. */
export function fileState(path: string, now: number = Date.now()): FileState | undefined {
  let stamp: string | null | undefined;
  try {
    stamp = settledStamp(path, now);
  } catch (error) {
    return noneOrUnknown(error);
  }
  return stamp !== undefined ? stamp : bytesAt(path);
}

/** Whether two states say the same: one stamp, the same bytes, or both none. */
export function sameState(a: FileState, b: FileState): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.equals(b);
}

/**
 * Whether `path` still holds what `state` says, and what to keep of it from now on: `state` itself, or, for bytes a stat
 * can now vouch for (the file unchanged for a few seconds since), the file's settled stamp, taken before its bytes were
 * read and found the same. Undefined when it does not hold (other bytes, another stamp, a file where there was none or
 * none where there was one, or that cannot be told).
 */
export function stillHeld(path: string, state: FileState, now: number = Date.now()): FileState | undefined {
  let stamp: string | null | undefined;
  try {
    stamp = settledStamp(path, now);
  } catch (error) {
    stamp = noneOrUnknown(error);
    if (stamp === undefined) return undefined;
  }
  if (typeof state === 'string') return stamp === state ? state : undefined;
  if (state === null) return stamp === null ? null : undefined;
  if (stamp === null) return undefined;
  const current = bytesAt(path);
  if (current === undefined || current === null || !state.equals(current)) return undefined;
  return stamp ?? state;
}
