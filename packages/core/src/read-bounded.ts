/**
 * One whole file read through one descriptor, bounded: what every reader of a file that may be hostile or torn uses
 * (Portcullis' metadata cache, the package managers' kept metadata, the memo key, pnpm's state files). The size is
 * the opened file's (fstat), so a file swapped for a larger one after a check is never read whole. Or a file's front,
 * and later the ranges of it its front says are wanted, each only from the same file unchanged. Node built-ins only:
 * the loaders use it.
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
    return readFully(fd, bytes, 0) ? bytes : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What an open file's fstat says of it: another file, or this one changed, gives another identity. */
function identityOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/** The front of a file (readFront), and what it was when read. */
export interface FileFront {
  /** Its first bytes: all of them when the file is no larger than what was read. */
  bytes: Buffer;
  /** The file's size. */
  size: number;
  /** Device, inode, size, mtime and ctime when read: readRange reads nothing from a file that is not the same any more. */
  identity: string;
}

/**
 * The front of `file`, bounded like readBounded, through one descriptor: its first `firstBytes` bytes (the whole file
 * when it is no larger), then as many from its start as `through` asks for after seeing them (undefined: not a file
 * to read, no more is read). For files whose index says which of their later bytes a question needs (pnpm 12's
 * metadata cache): those are read with readRange.
 */
export function readFront(
  file: string,
  maxBytes: number,
  firstBytes: number,
  through: (first: Buffer, size: number) => number | undefined,
  options: Pick<ReadBoundedOptions, 'oftenMissing'> = {},
): FileFront | undefined {
  let fd: number | undefined;
  try {
    if (options.oftenMissing === true && !existsSync(file)) return undefined;
    fd = openSync(file, constants.O_RDONLY);
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > maxBytes) return undefined;
    const first = Buffer.allocUnsafe(Math.min(stats.size, firstBytes));
    if (!readFully(fd, first, 0)) return undefined;
    const wanted = through(first, stats.size);
    if (wanted === undefined || wanted > stats.size) return undefined;
    if (wanted <= first.length) return { bytes: first, size: stats.size, identity: identityOf(stats) };
    const bytes = Buffer.allocUnsafe(wanted);
    first.copy(bytes);
    return readFully(fd, bytes.subarray(first.length), first.length) ? { bytes, size: stats.size, identity: identityOf(stats) } : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Bytes `start` to `end` of `file`, when it is still the file readFront read (`identity`); undefined otherwise. */
export function readRange(file: string, identity: string, start: number, end: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY);
    const stats = fstatSync(fd);
    if (!stats.isFile() || identityOf(stats) !== identity || start < 0 || end > stats.size || end <= start) return undefined;
    const bytes = Buffer.allocUnsafe(end - start);
    return readFully(fd, bytes, start) ? bytes : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Fills `bytes` from the file's byte `position` on; false when it ends first. */
function readFully(fd: number, bytes: Buffer, position: number): boolean {
  for (let at = 0; at < bytes.length; ) {
    const n = readSync(fd, bytes, at, bytes.length - at, position + at);
    if (n === 0) return false;
    at += n;
  }
  return true;
}
