/**
 * Organisation policy packages, kept content-addressed by their pinned integrity: an offline or frozen install
 * reads the tarball from here, and re-hashes it, so a planted or damaged file is never used.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';

const FOLDER = 'policy-packages-v1';

/** `sha512-<base64>` → the file it is kept in (hex, so the name is safe on every file system). */
function fileOf(cacheDir: string, integrity: string): string | undefined {
  const match = /^sha512-([A-Za-z0-9+/]{86}==)$/.exec(integrity);
  if (match === null) return undefined;
  return join(cacheDir, FOLDER, `${Buffer.from(match[1]!, 'base64').toString('hex')}.tgz`);
}

function digestOf(bytes: Uint8Array): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

/** The kept tarball whose sha512 is `integrity`, or undefined (absent, unreadable or not those bytes). */
export function readPolicyPackage(cacheDir: string, integrity: string): Uint8Array | undefined {
  const file = fileOf(cacheDir, integrity);
  if (file === undefined) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  return digestOf(bytes) === integrity ? bytes : undefined;
}

/** Keeps a verified tarball under its integrity (atomically); a failure to write only costs a later download. */
export function writePolicyPackage(cacheDir: string, integrity: string, bytes: Uint8Array): void {
  const file = fileOf(cacheDir, integrity);
  if (file === undefined || digestOf(bytes) !== integrity) return;
  try {
    mkdirSync(join(cacheDir, FOLDER), { recursive: true, mode: 0o700 });
    writeFileAtomic(file, bytes);
  } catch {
    // An unwritable cache: the next run downloads it again.
  }
}
