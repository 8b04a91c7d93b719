/**
 * npm-style package tarballs, written by hand: a minimal deterministic ustar archive (every entry
 * under `package/`, fixed mtime, no directory entries) gzipped with node:zlib, plus the digests a
 * registry publishes for it. Same files in, same bytes out — so integrity values are stable.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

/** One file of a package, path relative to the package root (`bin/cli.js`). */
export interface TarballEntry {
  path: string;
  content: Buffer;
  /** File mode; 0o644 unless the file is a bin. */
  mode: number;
}

/** The mtime `npm pack` stamps on every entry (1985-10-26T08:15:00Z), so our tarballs look like its. */
export const NPM_PACK_MTIME = 499162500;

const BLOCK = 512;

/** Writes `value` as zero-padded octal filling `width - 1` digits and a NUL, as ustar expects. */
function octal(value: number, width: number): string {
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new Error(`tar field overflow: ${value} does not fit in ${width} bytes`);
  return digits.padStart(width - 1, '0') + '\0';
}

/** Splits a long path into ustar's `prefix` (≤155) and `name` (≤100) at a slash, or fails. */
function splitPath(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return { prefix, name };
  }
  throw new Error(`path too long for a ustar header: ${path}`);
}

/** Rejects paths that would escape `package/` or confuse an extractor. */
function checkPath(path: string): void {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0')) {
    throw new Error(`invalid tarball path: ${JSON.stringify(path)}`);
  }
  if (path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`invalid tarball path: ${JSON.stringify(path)}`);
  }
}

/** One 512-byte ustar header for a regular file (or, for hostile fixtures, another `type` with its `linkname`). */
function fileHeader(path: string, size: number, mode: number, type = '0', linkname = ''): Buffer {
  const header = Buffer.alloc(BLOCK, 0);
  const { prefix, name } = splitPath(path);
  header.write(name, 0, 100, 'utf8');
  header.write(octal(mode & 0o7777, 8), 100, 8, 'ascii');
  header.write(octal(0, 8), 108, 8, 'ascii'); // uid
  header.write(octal(0, 8), 116, 8, 'ascii'); // gid
  header.write(octal(size, 12), 124, 12, 'ascii');
  header.write(octal(NPM_PACK_MTIME, 12), 136, 12, 'ascii');
  header.write('        ', 148, 8, 'ascii'); // checksum is computed with this field as spaces
  header.write(type, 156, 1, 'ascii'); // '0': regular file
  header.write(linkname, 157, 100, 'utf8');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.write(octal(0, 8), 329, 8, 'ascii'); // devmajor
  header.write(octal(0, 8), 337, 8, 'ascii'); // devminor
  header.write(prefix, 345, 155, 'utf8');
  // Six octal digits, NUL, space: the form GNU tar and node-tar write (Yarn checks it).
  header.write(headerChecksum(header).toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return header;
}

/** Unsigned sum of the header bytes with the checksum field counted as eight spaces. */
function headerChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum;
}

/** Packs files (package-relative paths) into an uncompressed ustar archive under `package/`. */
export function packTar(entries: TarballEntry[]): Buffer {
  const seen = new Set<string>();
  const parts: Buffer[] = [];
  // Sorted so the same files always give the same bytes, whatever order they were declared in.
  for (const entry of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    checkPath(entry.path);
    if (seen.has(entry.path)) throw new Error(`duplicate tarball entry: ${entry.path}`);
    seen.add(entry.path);
    parts.push(fileHeader(`package/${entry.path}`, entry.content.length, entry.mode), entry.content);
    const padding = (BLOCK - (entry.content.length % BLOCK)) % BLOCK;
    if (padding) parts.push(Buffer.alloc(padding, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0)); // end-of-archive marker
  return Buffer.concat(parts);
}

/** One entry of a hostile tarball, its path written exactly as given (first segment included). */
export interface RawTarEntry {
  path: string;
  content?: Buffer | string;
  /** ustar type flag: '0' file (default), '1' hard link, '2' symbolic link, '5' folder, 'x' / 'g' pax header (its records as content), 'L' GNU long name. */
  type?: '0' | '1' | '2' | '5' | 'x' | 'g' | 'L';
  linkname?: string;
}

/**
 * Packs and gzips entries in the order given, paths unchecked (`package/./x`, `package//x`, `../x`, links): an
 * attacker's tarball, for tests of the readers that must refuse or see through it.
 */
export function packRawTarball(entries: RawTarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = entry.content === undefined ? Buffer.alloc(0) : Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content);
    parts.push(fileHeader(entry.path, content.length, entry.type === '5' ? 0o755 : 0o644, entry.type ?? '0', entry.linkname ?? ''), content);
    const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (padding) parts.push(Buffer.alloc(padding, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

/** Packs and gzips: the bytes a registry serves as `<name>-<version>.tgz`. */
export function packTarball(entries: TarballEntry[]): Buffer {
  // node:zlib writes a zero mtime and a fixed OS byte in the gzip header, so this is deterministic.
  return gzipSync(packTar(entries), { level: 9 });
}

/** Reads a gzipped (or plain) tar back into entries, with `package/` (or any first segment) removed. */
export function readTarball(bytes: Buffer): TarballEntry[] {
  const tar = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  const entries: TarballEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  if (tar.length < BLOCK) throw new Error('not a tar archive: shorter than one header');
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const field = (start: number, length: number) => header.toString('utf8', start, start + length).replace(/\0.*$/s, '');
    if (parseInt(field(148, 8).trim(), 8) !== headerChecksum(header)) throw new Error(`not a tar archive: bad header checksum at byte ${offset}`);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(257, 6) === 'ustar' ? field(345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const body = tar.subarray(offset + BLOCK, offset + BLOCK + size);
    if (body.length !== size) throw new Error(`truncated tar entry: ${name}`);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    longName = undefined;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, ''); // GNU long name for the next entry
      continue;
    }
    if (type === 'x') {
      const match = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      if (match) longName = match[1];
      continue;
    }
    if (type !== '0' && type !== '\0' && type !== '7') continue; // directories, links, globals
    const slash = name.indexOf('/');
    entries.push({ path: slash === -1 ? name : name.slice(slash + 1), content: Buffer.from(body), mode: parseInt(field(100, 8).trim() || '644', 8) });
  }
  return entries;
}

/** Subresource-integrity string (`sha512-<base64>`) as npm writes it in `dist.integrity`. */
export function integrityOf(bytes: Buffer): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

/** Legacy `dist.shasum`: hex SHA-1 of the tarball. */
export function shasumOf(bytes: Buffer): string {
  return createHash('sha1').update(bytes).digest('hex');
}
