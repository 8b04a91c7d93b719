/**
 * Folders of package files a package manager unpacked on disk and reuses as they are, never comparing them with the
 * archive it verified. Yarn's PnP linker unpacks a package that must build (or that `dependenciesMeta` unplugs) into
 * `pnpUnpluggedFolder` (`.yarn/unplugged` by default, inside the checkout): a folder holding its `.ready` file is used
 * as it is, and into one without, the package's files are copied without overwriting what is there. So whoever commits
 * such a folder chooses the code that runs (an allowed package's `postinstall`) and is installed.
 *
 * A folder is vouched for only when every entry in it is as this user's last install left it: a record in the state
 * folder (beside the memo secret, believed for where it is, like pnpm's records) of the lstat stamps of every entry,
 * taken when the install ended. A file a checkout writes, replaces or adds has another inode or ctime (ctime cannot be
 * set from user space). Any other folder is to be removed before the package manager links, so that it unpacks the
 * verified archive again (and builds it again, if the policy allows).
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { defaultStateDir, ownFile } from '../cache/dirs.js';
import { readBounded } from '../read-bounded.js';

/** The record folder in the state directory. */
const FOLDER = 'unpacked-v1';
/** A record larger than this, or a folder with more entries, vouches for nothing. */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;
const MAX_ENTRIES = 500_000;

/** One folder of unpacked packages (each entry a package's own folder) and this user's record of it. */
export interface UnpackedCopies {
  /** The entries of the folder (absolute paths) that the record does not vouch for: each to be removed before linking. */
  unvouched(): string[];
  /** Records every entry of the folder as it is now (after an install that unpacked and built them). */
  remember(): void;
}

/**
 * The unpacked copies in `folder` (its entries whose names `entry` matches: only what the package manager itself would use,
 * never anything else a misconfigured folder holds), judged against the record kept in `stateDir` (default: this user's
 * state directory).
 */
export function unpackedCopies(options: { stateDir?: string; folder: string; entry?: RegExp }): UnpackedCopies {
  const folder = resolve(options.folder);
  const listEntries = (at: string) => entriesOf(at).filter((name) => options.entry === undefined || options.entry.test(name));
  const stateDir = options.stateDir ?? defaultStateDir();
  const recordFile = () => join(stateDir, FOLDER, `${createHash('sha256').update(realFolder(folder)).digest('hex')}.json`);
  return {
    unvouched() {
      const entries = listEntries(folder);
      if (entries.length === 0) return [];
      const record = readRecord(recordFile());
      return entries.filter((name) => {
        const stamp = treeStamp(join(folder, name));
        return stamp === undefined || record.get(name) !== stamp;
      }).map((name) => join(folder, name));
    },
    remember() {
      const stamps: Record<string, string> = {};
      for (const name of listEntries(folder)) {
        const stamp = treeStamp(join(folder, name));
        if (stamp !== undefined) stamps[name] = stamp;
      }
      const file = recordFile();
      mkdirSync(join(stateDir, FOLDER), { recursive: true, mode: 0o700 });
      writeFileAtomic(file, JSON.stringify({ folder, stamps }), 0o600);
    },
  };
}

function realFolder(folder: string): string {
  try {
    return realpathSync(folder);
  } catch {
    return folder;
  }
}

function entriesOf(folder: string): string[] {
  try {
    return readdirSync(folder).sort();
  } catch {
    return [];
  }
}

/** The record's stamps by entry name; empty when there is none or it is not this user's own, whole, well-formed file. */
function readRecord(file: string): Map<string, string> {
  const bytes = readBounded(file, MAX_RECORD_BYTES, { noFollow: true, accept: ownFile, oftenMissing: true });
  const stamps = new Map<string, string>();
  if (bytes === undefined) return stamps;
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as unknown;
    const record = typeof parsed === 'object' && parsed !== null ? (parsed as { stamps?: unknown }).stamps : undefined;
    if (typeof record !== 'object' || record === null || Array.isArray(record)) return stamps;
    for (const [name, stamp] of Object.entries(record)) if (typeof stamp === 'string') stamps.set(name, stamp);
  } catch {
    // Not JSON: vouches for nothing.
  }
  return stamps;
}

/**
 * One digest of the lstat stamps (device, inode, mode, size, mtime, ctime, in nanoseconds) of `dir` and everything
 * under it, links not followed (their targets' text included); undefined when it cannot be read whole.
 */
export function treeStamp(dir: string): string | undefined {
  const hash = createHash('sha256');
  let count = 0;
  const walk = (path: string, rel: string): boolean => {
    if (++count > MAX_ENTRIES) return false;
    const s = lstatSync(path, { bigint: true });
    hash.update(`${rel}\0${s.dev}:${s.ino}:${s.mode}:${s.size}:${s.mtimeNs}:${s.ctimeNs}\0`);
    if (s.isSymbolicLink()) hash.update(`${readlinkSync(path)}\0`);
    if (!s.isDirectory()) return true;
    for (const name of readdirSync(path).sort()) if (!walk(join(path, name), `${rel}/${name}`)) return false;
    return true;
  };
  try {
    return walk(dir, '.') ? hash.digest('hex') : undefined;
  } catch {
    return undefined;
  }
}
