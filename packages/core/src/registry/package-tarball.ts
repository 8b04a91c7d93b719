/**
 * Reading named files out of a package tarball (`.tgz`) received from a registry, as hostile input: bounded
 * compressed and uncompressed sizes, checksummed ustar headers, no link or device entries under a wanted name,
 * no absolute or `..` paths anywhere, no name given twice, no pax size that differs from its entry's header (what we
 * read must be what an unpacker writes). Nothing is written to disk.
 */
import { gunzipSync } from 'node:zlib';

/** Limits on one tarball. */
export interface TarballLimits {
  /** The gzip bytes. */
  compressed: number;
  /** The tar stream once inflated. */
  uncompressed: number;
  /** Any one wanted file. */
  file: number;
}

/** Why a tarball was not read. */
export class TarballError extends Error {}

const BLOCK = 512;

function field(header: Uint8Array, start: number, length: number): string {
  const bytes = header.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return Buffer.from(end === -1 ? bytes : bytes.subarray(0, end)).toString('utf8');
}

function octal(header: Uint8Array, start: number, length: number, what: string): number {
  // Base-256 sizes (high bit set) are for files of 8 GiB and more: never in a policy package.
  if ((header[start]! & 0x80) !== 0) throw new TarballError(`${what} is in base-256 notation`);
  const text = field(header, start, length).trim();
  if (!/^[0-7]{1,12}$/.test(text)) throw new TarballError(`${what} is not an octal number`);
  return parseInt(text, 8);
}

function checksumMatches(header: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return octal(header, 148, 8, 'a header checksum') === sum;
}

/**
 * The `path` and `size` a pax extended header sets, if it sets them. A record's length counts bytes, as pnpm's and
 * npm's unpackers count it (counted in characters, a record of multi-byte text swallowed the `path` record after it:
 * round 46, fourteenth wave P2). A record that does not end in a newline, or whose `path` or `size` holds one, is
 * refused: node-tar splits records at newlines where pnpm goes by their lengths.
 */
function paxRecords(data: Uint8Array): { path?: string; size?: string } {
  const records: { path?: string; size?: string } = {};
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  while (at < bytes.byteLength) {
    const space = bytes.indexOf(0x20, at);
    const digits = space === -1 ? '' : bytes.toString('latin1', at, space);
    const length = /^[1-9][0-9]{0,6}$/.test(digits) ? Number(digits) : 0;
    if (length === 0 || space + 1 >= at + length || at + length > bytes.byteLength || bytes[at + length - 1] !== 0x0a) throw new TarballError('a pax header is malformed');
    const record = bytes.toString('utf8', space + 1, at + length - 1);
    const eq = record.indexOf('=');
    const key = eq === -1 ? '' : record.slice(0, eq);
    if (key === 'path' || key === 'size') {
      if (record.includes('\n')) throw new TarballError(`a pax ${key} holds a newline`);
      records[key] = record.slice(eq + 1);
    }
    at += length;
  }
  return records;
}

function unsafe(name: string): boolean {
  return name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name) || name.split('/').includes('..') || name.includes('\0');
}

/**
 * The path an extractor writes an entry to: the first segment as written (the package's folder, which every unpacker
 * strips whatever it is named, `.` included: round 46, fourteenth wave P1), then the rest with `.` and empty segments
 * dropped, as npm's, pnpm's and Yarn's unpackers do (`package/./node_modules/a` and `package//node_modules/a` land in
 * `node_modules/a`: round 46, N3e; `./node_modules/a` lands there too).
 */
function extractedPath(name: string): string {
  const slash = name.indexOf('/');
  if (slash === -1) return name;
  const rest = name
    .slice(slash + 1)
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
  return `${name.slice(0, slash)}/${rest}`;
}

/**
 * A header's ustar `prefix`: read only in a POSIX ustar header (magic `ustar\0`, version `00`), as node-tar and pnpm 12
 * read it. Elsewhere (an old GNU header, magic `ustar  `, or a v7 header) pnpm 10 and 11 still read those bytes as a
 * prefix while node-tar and pnpm 12 ignore them, so such a header with bytes there cannot be read as every unpacker
 * writes it (round 46, fourteenth wave P3: pnpm 12 installed a copy core read under another folder).
 */
function ustarPrefix(header: Uint8Array): string {
  const prefix = field(header, 345, 155);
  if (Buffer.from(header.subarray(257, 265)).toString('latin1') === 'ustar\u000000') return prefix;
  if (prefix !== '') throw new TarballError('a header that is not POSIX ustar has bytes in its prefix field, which the unpackers read differently');
  return '';
}

/**
 * Each entry of `tgz` in order, its header checked (`visit` gets the path it unpacks to, its type and bytes); pax and
 * GNU long names applied, global headers skipped. Throws TarballError for anything malformed or over a limit, for an
 * entry whose path leaves the archive's folder, and for extended headers the unpackers would apply differently.
 */
function forEachEntry(tgz: Uint8Array, limits: Pick<TarballLimits, 'compressed' | 'uncompressed'>, visit: (name: string, type: string, data: Uint8Array) => void): void {
  if (tgz.byteLength > limits.compressed) throw new TarballError(`the tarball is larger than ${limits.compressed} bytes`);
  let tar: Uint8Array;
  try {
    tar = gunzipSync(tgz, { maxOutputLength: limits.uncompressed });
  } catch (error) {
    throw new TarballError(error instanceof RangeError ? `the tarball inflates to more than ${limits.uncompressed} bytes` : 'the tarball is not valid gzip');
  }
  let longName: string | undefined;
  // A pax `size` for the next entry: pnpm's and npm's unpackers read that many bytes instead of the header's size.
  let paxSize: string | undefined;
  for (let at = 0; ; ) {
    if (at + BLOCK > tar.byteLength) throw new TarballError('the tar stream ends without its end-of-archive blocks');
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) {
      // node-tar (npm, Yarn) reads on after one zero block and stops after two; pnpm stops at the first: entries after a
      // lone zero block are unpacked by some and not others (round 46, fourteenth wave P4).
      const next = tar.subarray(at + BLOCK, at + 2 * BLOCK);
      if (next.some((b) => b !== 0)) throw new TarballError('the tarball has entries after a zero block, which some unpackers read and others do not');
      break;
    }
    if (!checksumMatches(header)) throw new TarballError(`a tar header at offset ${at} has a bad checksum`);
    const size = octal(header, 124, 12, 'an entry size');
    const type = String.fromCharCode(header[156]!);
    if (paxSize !== undefined) {
      // The unpackers disagree on where such a size ends (which header it applies to), so it is read only when it
      // says what the header says: otherwise what we read and what they unpack could be different files (round 46, N3f).
      if (type === 'x' || type === 'g' || type === 'L' || !/^[0-9]+$/.test(paxSize) || Number(paxSize) !== size) {
        throw new TarballError('a pax header gives an entry another size than its own header');
      }
      paxSize = undefined;
    }
    const dataStart = at + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.byteLength) throw new TarballError('an entry runs past the end of the tar stream');
    const data = tar.subarray(dataStart, dataEnd);
    at = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'L' || type === 'g') {
      if (size > 64 * 1024) throw new TarballError('an extended header is too large');
      const records: { path?: string; size?: string } = type === 'L' ? { path: field(data, 0, data.byteLength) } : paxRecords(data);
      // A global path or size would apply to every later entry (npm's unpacker) or fail the unpack (pnpm's).
      if (type === 'g' && (records.path !== undefined || records.size !== undefined)) throw new TarballError('a global pax header sets a path or size');
      if (type === 'g') continue;
      // pnpm keeps a GNU long name over a pax path, whatever their order: an entry named twice is not read (round 46, N3g).
      if (records.path !== undefined && longName !== undefined) throw new TarballError('two extended headers name the same entry');
      longName = records.path ?? longName;
      paxSize = records.size;
      continue;
    }
    const prefix = ustarPrefix(header);
    const raw = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    if (unsafe(raw)) throw new TarballError(`the tarball has an entry outside its folder (${JSON.stringify(raw.slice(0, 200))})`);
    visit(extractedPath(raw), type, data);
  }
}

/**
 * The wanted files (tarball paths such as `package/portcullis.json`) found in `tgz`, by path; a wanted file
 * that is absent is missing from the map. Throws TarballError for anything malformed or over a limit.
 */
export function readTarballFiles(tgz: Uint8Array, wanted: readonly string[], limits: TarballLimits): Map<string, Uint8Array> {
  const found = new Map<string, Uint8Array>();
  forEachEntry(tgz, limits, (name, type, data) => {
    if (wanted.includes(name)) keepRegularFile(found, name, type, data, limits.file);
  });
  return found;
}

/** Keeps one wanted entry under `path`: a regular file, given once, at most `limit` bytes; else TarballError. */
function keepRegularFile(found: Map<string, Uint8Array>, path: string, type: string, data: Uint8Array, limit: number): void {
  if (type !== '0' && type !== '\0') throw new TarballError(`${path} is not a regular file in the tarball`);
  if (found.has(path)) throw new TarballError(`the tarball has ${path} twice`);
  if (data.byteLength > limit) throw new TarballError(`${path} is larger than ${limit} bytes`);
  found.set(path, data);
}

/**
 * The paths of the regular files in a package tarball, each without its first segment (the `package/` folder npm
 * strips when it unpacks one, whatever it is named). Throws TarballError as readTarballFiles does.
 */
export function tarballFilePaths(tgz: Uint8Array, limits: Pick<TarballLimits, 'compressed' | 'uncompressed'>): Set<string> {
  const paths = new Set<string>();
  forEachEntry(tgz, limits, (name, type) => {
    const slash = name.indexOf('/');
    if ((type === '0' || type === '\0') && slash > 0) paths.add(name.slice(slash + 1));
  });
  return paths;
}

/**
 * A package folder's `package.json` under the package's own `node_modules` (nested ones too): what a bundled copy is.
 * In any case (`Node_Modules/a/Package.json`): on a case-insensitive file system (macOS, Windows) that is where
 * `require` finds it (round 46, fourteenth wave P5).
 */
const BUNDLED_MANIFEST = /^(?:node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/)+package\.json$/i;

/**
 * The `package.json` of every copy a package tarball ships under its `node_modules` (bundled dependencies, nested
 * ones too), by path without the first segment (`node_modules/a/package.json`). Throws TarballError as readTarballFiles
 * does, and for such a file that is not a regular file, given twice or larger than `limits.file`.
 */
export function bundledManifestFiles(tgz: Uint8Array, limits: TarballLimits): Map<string, Uint8Array> {
  const found = new Map<string, Uint8Array>();
  forEachEntry(tgz, limits, (name, type, data) => {
    const slash = name.indexOf('/');
    const path = slash > 0 ? name.slice(slash + 1) : '';
    if (BUNDLED_MANIFEST.test(path)) keepRegularFile(found, path, type, data, limits.file);
  });
  return found;
}
