/** Atomic file replacement: readers see the old file or the new one, never half of either. */
import { closeSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let written = 0;

/**
 * Writes `text` (or its parts one after the other: no copy joins them first) to a temporary file beside `file`, then
 * renames it into place. The temporary file is created exclusively (`wx`: never through a link, never one that is there
 * already), so its name only has to differ between writers: this process's pid, the time and a count. No `node:crypto`
 * for it: pnpm 12's hook worker writes its token with this and otherwise needs no crypto on a repeated install (pnpm's
 * state-file.ts).
 */
export function writeFileAtomic(file: string, text: string | Uint8Array | readonly Uint8Array[], mode = 0o644): void {
  const unique = `${process.pid}.${Date.now().toString(36)}.${(written++).toString(36)}.${Math.random().toString(36).slice(2, 10)}`;
  const temp = join(dirname(file), `.${basename(file)}.${unique}.tmp`);
  try {
    if (typeof text === 'string' || !Array.isArray(text)) writeFileSync(temp, text as string | Uint8Array, { mode, flag: 'wx' });
    else writeParts(temp, text as readonly Uint8Array[], mode);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Creates `file` exclusively with `mode` and writes `parts` into it, in order, whole. */
function writeParts(file: string, parts: readonly Uint8Array[], mode: number): void {
  const fd = openSync(file, 'wx', mode);
  try {
    for (const part of parts) for (let at = 0; at < part.byteLength; ) at += writeSync(fd, part, at, part.byteLength - at);
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes the files of `folder` last modified more than `olderThanMs` ago: those `only` accepts (all by default), at most
 * the first `atMost` names listed (a folder stays small without a full scan on every write), never `except`. Best
 * effort: a file removed or renamed meanwhile is skipped; throws only when the folder cannot be listed.
 */
export function removeOlderThan(folder: string, olderThanMs: number, options: { only?: (name: string) => boolean; except?: string; atMost?: number; now?: number } = {}): void {
  const now = options.now ?? Date.now();
  for (const name of readdirSync(folder).slice(0, options.atMost)) {
    if (name === options.except || (options.only !== undefined && !options.only(name))) continue;
    try {
      const path = join(folder, name);
      if (now - statSync(path).mtimeMs > olderThanMs) rmSync(path, { force: true });
    } catch {
      // Removed or renamed meanwhile.
    }
  }
}
