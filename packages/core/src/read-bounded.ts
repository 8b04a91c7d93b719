/**
 * One whole file read through one descriptor, bounded: what every reader of a file that may be hostile or torn uses
 * (Portcullis' metadata cache, the package managers' kept metadata, the memo key, pnpm's state files). The size is
 * the opened file's (fstat), so a file swapped for a larger one after a check is never read whole. Node built-ins
 * only: the loaders use it.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';

export interface ReadBoundedOptions {
  /** Not through a link: opened without following one. */
  noFollow?: boolean;
  /** What the opened file's stats must satisfy besides being a plain file of at most `maxBytes` (its owner, its mode). */
  accept?: (stats: Stats) => boolean;
  /**
   * Most paths asked for are not there (another layout, a file not written yet): found out with an existence check
   * first, without the exception a failed open makes, which costs more than the lookup (20–90 µs, measured).
   */
  oftenMissing?: boolean;
}

/** The bytes of `file`, or undefined: none, not a plain file, larger than `maxBytes`, not accepted, cut short, unreadable. */
export function readBounded(file: string, maxBytes: number, options: ReadBoundedOptions = {}): Buffer | undefined {
  let fd: number | undefined;
  try {
    if (options.oftenMissing === true && !existsSync(file)) return undefined;
    fd = openSync(file, options.noFollow === true ? constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) : constants.O_RDONLY);
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > maxBytes || (options.accept !== undefined && !options.accept(stats))) return undefined;
    const bytes = Buffer.allocUnsafe(stats.size);
    for (let at = 0; at < bytes.length; ) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) return undefined;
      at += n;
    }
    return bytes;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
