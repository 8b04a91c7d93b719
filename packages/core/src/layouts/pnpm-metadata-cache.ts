/**
 * pnpm keeps the registry metadata it fetched — `dist.signatures` and `dist.attestations` included — in its own
 * cache folder. Reading a version's document (and the earlier versions of its release line) from there saves
 * fetching the packument a second time: pnpm 12 hands readPackage manifests without the signatures, and the
 * provenance downgrade check of every pnpm needs the release line. What is read there is hostile input like any
 * registry document: bounded, parsed defensively, and only ever *supplied* to the gate, which verifies its
 * signatures against the policy's keys and the integrity pnpm will install. A missing, torn or unfamiliar file just
 * means the packument is fetched as before.
 *
 * Two layouts (observed on pnpm 10.34, 11.28 and 12.21–12.23):
 * - pnpm 11 and 12: `<cacheDir>/v12/metadata/<registry folder>/<name>.jsonl` — a first line
 *   `pnpm-meta-v1 <header bytes> <index bytes>`, then the header (etag, modified), the index
 *   (`{"name", "distTags", "versions": [[version, offset, length], …]}`), then each version's document at its offset
 *   (bytes, from the end of the index);
 * - pnpm 10: `<cacheDir>/metadata-v1.3/<registry host, its first ":" as "+">/<name>.json` (abbreviated documents;
 *   `metadata-ff-v1.3` and `metadata-full-v1.3` when pnpm asked for full ones, as with `minimumReleaseAge`) — one
 *   JSON packument, `{"name", "dist-tags", "versions": {version: document}, "cachedAt"}`. Names with capitals get a
 *   hash suffix there: those are not read.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import type { Env } from '../env.js';
import type { PackumentVersion } from '../registry/packument.js';
import { keptVersion, ownDocument, packumentFile, parse, readAll, readFrontOf, readRangeOf, versionIn, type CachedFile, type KeptVersion } from './kept-metadata.js';
import { isValidPackageName } from '../package-name.js';
import { httpUrl } from '../registry-url.js';

const FIRST_LINE = /^pnpm-meta-v1 (\d{1,9}) (\d{1,9})$/;

/** The bytes a version's document needs to claim attestations (kept-metadata.ts `cannotClaimAttestations`): the key's letters, or an escape that could spell them. */
const ATTESTATIONS = Buffer.from('attestations', 'latin1');
const UNICODE_ESCAPE = Buffer.from('\\u', 'latin1');

/**
 * Folder names worked out, by layout and registry URL: an install asks for the same one or two registries thousands of
 * times, and each answer parses the URL (pnpm 10's folders too: a release line not in pnpm 11 and 12's file is looked
 * for in all four layouts).
 */
function remembered(folders: Map<string, string | undefined>, registry: string, work: (registry: string) => string | undefined): string | undefined {
  if (folders.has(registry)) return folders.get(registry);
  const folder = work(registry);
  if (folders.size >= 64) folders.clear();
  folders.set(registry, folder);
  return folder;
}
const indexedFolders = new Map<string, string | undefined>();
const hostFolders = new Map<string, string | undefined>();

/** pnpm 11 and 12's folder name for a registry URL (`http://127.0.0.1:4873/` → `http%3A+127.0.0.1+4873`). */
export function registryFolder(registry: string): string | undefined {
  return remembered(indexedFolders, registry, folderOf);
}

function folderOf(registry: string): string | undefined {
  const url = httpUrl(registry);
  if (url === undefined) return undefined;
  const rest = `${url.host}${url.pathname}`.replace(/\/+$/, '').split(/[/:]/).filter(Boolean);
  if (rest.some((part) => part === '.' || part === '..' || part.includes('\\'))) return undefined;
  return [encodeURIComponent(url.protocol), ...rest].join('+');
}

/** A cache file opened, and how many bytes it holds on to. */
export interface Opened {
  file: CachedFile;
  bytes: number;
}

/**
 * How much of a `.jsonl` file is read first: the whole of most files, and the first line, header and index of nearly
 * every one (a real tree of 620 packages: 477 of its 596 files whole, the index of 584; 45 of their 62 MB beyond it).
 */
const FRONT_BYTES = 64 * 1024;

/**
 * pnpm 11 and 12: the `.jsonl` file with its index. A file larger than its front is not read whole: the documents a
 * question needs are read when asked for (`reading`, or one by one), from the same file unchanged since its front was
 * read — else they are a miss. A real packument's file is mostly documents of versions no question is about (a
 * release line of one major among thousands of versions).
 */
function openIndexed(cacheDir: string, registry: string, name: string): Opened | undefined {
  const folder = registryFolder(registry);
  if (folder === undefined) return undefined;
  const path = join(cacheDir, 'v12', 'metadata', folder, ...name.split('/')) + '.jsonl';
  let headerEnd = 0;
  let indexEnd = 0;
  const front = readFrontOf(path, FRONT_BYTES, (first, size) => {
    const newline = first.indexOf(0x0a);
    if (newline < 0 || newline > 64) return undefined;
    const line = FIRST_LINE.exec(first.subarray(0, newline).toString('latin1'));
    if (line === null) return undefined;
    headerEnd = newline + 1 + Number(line[1]);
    indexEnd = headerEnd + Number(line[2]);
    return indexEnd;
  });
  if (front === undefined) return undefined;
  const bytes = front.bytes;
  const versions = indexVersions(bytes.subarray(headerEnd, indexEnd).toString('utf8'), name);
  if (versions === undefined) return undefined;
  // Each document parsed once while the file is kept: pnpm 12's readPackage asks for a version's document (its
  // signatures), and the judgement right after it for the same document again (its release line, keptVersion).
  const parsed = new Map<string, unknown>();
  /** An entry's bytes in the file, or undefined when its span is not a plain one inside it. */
  const spanOf = (entry: unknown[]): { start: number; end: number } | undefined => {
    const [, offset, length] = entry;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || (offset as number) < 0 || (length as number) <= 0) return undefined;
    const start = indexEnd + (offset as number);
    const end = start + (length as number);
    return end > front.size ? undefined : { start, end };
  };
  /** A span's bytes: from the front, from `window` (bytes read from `window.start` on), else read now. */
  const bytesOf = (span: { start: number; end: number }, window: { start: number; bytes: Buffer } | undefined): Buffer | undefined => {
    if (span.end <= bytes.length) return bytes.subarray(span.start, span.end);
    if (window !== undefined && span.start >= window.start && span.end <= window.start + window.bytes.length) return window.bytes.subarray(span.start - window.start, span.end - window.start);
    return readRangeOf(path, front, span.start, span.end);
  };
  const fileWith = (window: { start: number; bytes: Buffer } | undefined): CachedFile => ({
    versions,
    documentAt(entry, name, version) {
      const span = spanOf(entry);
      if (span === undefined) return undefined;
      const key = `${span.start} ${span.end}`;
      let doc = parsed.get(key);
      if (doc === undefined && !parsed.has(key)) {
        const fragment = bytesOf(span, window);
        if (fragment === undefined) return undefined;
        parsed.set(key, (doc = parse(fragment)));
      }
      return ownDocument(doc, name, version);
    },
    cannotClaimAttestations(entry, version) {
      const span = spanOf(entry);
      const fragment = span === undefined ? undefined : bytesOf(span, window);
      if (fragment === undefined) return false;
      // A whole document (pnpm writes each one with JSON.stringify) of that version, by its braces and its version field;
      // anything else (torn, another version's bytes) is parsed, and read as before.
      if (fragment[0] !== 0x7b || fragment[fragment.length - 1] !== 0x7d || fragment.indexOf(`"version":${JSON.stringify(version)}`) < 0) return false;
      return fragment.indexOf(ATTESTATIONS) < 0 && fragment.indexOf(UNICODE_ESCAPE) < 0;
    },
    reading(entries) {
      let start = Infinity;
      let end = -1;
      for (const entry of entries) {
        const span = spanOf(entry);
        if (span === undefined || span.end <= bytes.length) continue;
        if (span.start < start) start = span.start;
        if (span.end > end) end = span.end;
      }
      if (end < 0) return this;
      const read = readRangeOf(path, front, start, end);
      // Not the same file any more: each document is asked for again, and a miss.
      return read === undefined ? this : fileWith({ start, bytes: read });
    },
  });
  return { file: fileWith(undefined), bytes: bytes.length };
}

/**
 * The `versions` of a `.jsonl` file's index (`{"name", "distTags", "time", "versions"}`), when it is `name`'s. pnpm
 * writes `versions` last: that array is parsed alone, without the publish time of every version, which was most of an
 * index's parsing (a real tree's 5.2 MB of indexes: 37 → 14 ms). Where it is not last, the whole index is parsed. The
 * array found is the one a parse of the whole index would give: `,"versions":[` cannot appear inside a JSON string (its
 * quotes would be escaped), and what follows the last one parses as an array followed only by the index's closing brace
 * when it is a key of the object that brace closes. An index that is not JSON as a whole may still give its versions
 * this way; what they point at is checked as ever (each document its own name's and version's, verified by the gate).
 */
function indexVersions(text: string, name: string): unknown[] | undefined {
  const last = text.lastIndexOf(VERSIONS_KEY);
  if (last > 0 && text.startsWith(`{"name":${JSON.stringify(name)},`) && text.endsWith('}')) {
    const versions = parse(text.slice(last + VERSIONS_KEY.length - 1, -1));
    if (Array.isArray(versions)) return versions;
  }
  const index = parse(text);
  if (typeof index !== 'object' || index === null || (index as { name?: unknown }).name !== name) return undefined;
  const versions = (index as { versions?: unknown }).versions;
  return Array.isArray(versions) ? versions : undefined;
}
const VERSIONS_KEY = ',"versions":[';

/** pnpm 10's folder name for a registry URL: its host, the first `:` as `+` (`http://127.0.0.1:4873/` → `127.0.0.1+4873`). */
export function registryHostFolder(registry: string): string | undefined {
  return remembered(hostFolders, registry, hostFolderOf);
}

function hostFolderOf(registry: string): string | undefined {
  const folder = httpUrl(registry)?.host.replace(':', '+');
  if (folder === undefined) return undefined;
  return folder === '' || folder === '.' || folder === '..' || /[/\\\0]/.test(folder) ? undefined : folder;
}

/** pnpm 10's folders, in the order its resolver prefers them (abbreviated, then filtered full, then full). */
const V10_FOLDERS = ['metadata-v1.3', 'metadata-ff-v1.3', 'metadata-full-v1.3'];

/** pnpm 10: one JSON packument per package. */
function openPackument(cacheDir: string, folder: string, registry: string, name: string): Opened | undefined {
  const host = registryHostFolder(registry);
  if (host === undefined || name !== name.toLowerCase()) return undefined;
  const bytes = readAll(join(cacheDir, folder, host, ...name.split('/')) + '.json');
  const file = bytes === undefined ? undefined : packumentFile(bytes, name);
  return file === undefined ? undefined : { file, bytes: bytes!.length };
}

/**
 * Cache files opened during one install (a hook worker, a `check`), kept so that one file is not read and its index
 * parsed again for each question about it: pnpm 12's `readPackage` reads a version's signatures from a file, the
 * judgement right after it that version's release line, and `afterAllResolved` the whole graph's. Only files that were
 * there are kept (one pnpm has not written yet is looked for again), the least recently used dropped past
 * `budgetBytes`. What a kept file holds is only supplied to the gate and verified there, as when read afresh; a version
 * a kept file lacks is looked for again in the file as it is now (`pnpmCached`).
 */
export class OpenedCacheFiles {
  private readonly files = new Map<string, Opened>();
  private held = 0;
  /** How many times `open` answered with a file it kept (pnpmCached: whether a lookup used any). */
  keptAnswers = 0;

  constructor(private readonly budgetBytes: number = 32 * 1024 * 1024) {}

  /** The file kept under `key`, else what `read` opens (kept when it fits). */
  open(key: string, read: () => Opened | undefined): CachedFile | undefined {
    const kept = this.files.get(key);
    if (kept !== undefined) {
      this.keptAnswers++;
      // Most recently used last.
      this.files.delete(key);
      this.files.set(key, kept);
      return kept.file;
    }
    const opened = read();
    if (opened === undefined) return undefined;
    if (opened.bytes <= this.budgetBytes) {
      this.files.set(key, opened);
      this.held += opened.bytes;
      for (const [other, file] of this.files) {
        if (this.held <= this.budgetBytes) break;
        this.files.delete(other);
        this.held -= file.bytes;
      }
    }
    return opened.file;
  }

  /** Whether a file is kept under `key`. */
  has(key: string): boolean {
    return this.files.has(key);
  }

  /** Forgets what is kept under `key` (the file is read again next time). */
  forget(key: string): void {
    const kept = this.files.get(key);
    if (kept === undefined) return;
    this.files.delete(key);
    this.held -= kept.bytes;
  }
}

const layouts = ['v12', ...V10_FOLDERS];

/**
 * Whether pnpm keeps any folder of documents from `registry` in `cacheDirs` (pnpm 11 and 12's or pnpm 10's layout): when
 * none, no document of it is there, and a judgement of a whole lockfile looks for none (four missed lookups a package,
 * ~28 ms for 849 packages in a fresh Node, measured). Only for a question asked while pnpm writes nothing (`check`, pnpm 12's
 * updateConfig before it installs): during a resolution a folder appears with pnpm's first document.
 */
export function pnpmKeepsAny(cacheDirs: readonly string[], registry: string): boolean {
  const folder = registryFolder(registry);
  const host = registryHostFolder(registry);
  return cacheDirs.some(
    (dir) => (folder !== undefined && existsSync(join(dir, 'v12', 'metadata', folder))) || (host !== undefined && V10_FOLDERS.some((layout) => existsSync(join(dir, layout, host)))),
  );
}

const keyOf = (layout: string, cacheDir: string, registry: string, name: string): string => `${layout}\0${cacheDir}\0${registry}\0${name}`;

/**
 * Per cache folder and registry, the layout a file was last found in, looked in first: pnpm 10 writes only its own
 * folders and pnpm 11 and 12 only `v12`, so in pnpm 10's cache every package was first looked for, in vain, in pnpm
 * 12's layout (profiled, a cold pnpm 10 install of 1,000 packages: those lookups 30 ms, 8–14 with this; a file pnpm
 * has not written yet is still looked for in every layout). Any layout's file that has the version at the installed
 * integrity answers the same (what it holds is verified by the gate); the others are still looked in when it has none.
 */
const lastFound = new Map<string, string>();

/** The cache files pnpm may have written for `name` from `registry` under `cacheDir`, read lazily (kept in `opened`). */
function* cachedFiles(cacheDir: string, registry: string, name: string, opened?: OpenedCacheFiles): Generator<CachedFile> {
  if (!isValidPackageName(name)) return;
  const where = `${cacheDir}\0${registry}`;
  const first = lastFound.get(where);
  for (const layout of first === undefined || first === layouts[0] ? layouts : [first, ...layouts.filter((l) => l !== first)]) {
    const read = () => (layout === 'v12' ? openIndexed(cacheDir, registry, name) : openPackument(cacheDir, layout, registry, name));
    const file = opened === undefined ? read()?.file : opened.open(keyOf(layout, cacheDir, registry, name), read);
    if (file === undefined) continue;
    if (layout !== first) {
      if (lastFound.size >= 64) lastFound.clear();
      lastFound.set(where, layout);
    }
    yield file;
  }
}

/**
 * The document pnpm cached for `name@version` from `registry`, or undefined. Never throws. The caller still
 * has the gate verify it (signature, integrity): this only saves a request.
 */
export function pnpmCachedVersion(cacheDir: string, registry: string, name: string, version: string): unknown {
  for (const file of cachedFiles(cacheDir, registry, name)) {
    const doc = versionIn(file, name, version);
    if (doc !== undefined) return doc;
  }
  return undefined;
}

/**
 * What pnpm cached for `name@version` from `registry` in any of `cacheDirs`, when the version's document there has
 * the integrity that is installed (and, with `wanted`, the version's past from the same file: see `keptVersion`);
 * undefined otherwise. Never throws.
 */
export function pnpmCached(
  cacheDirs: readonly string[],
  registry: string,
  name: string,
  version: string,
  integrity: string | undefined,
  wanted?: (candidate: string) => boolean,
  opened?: OpenedCacheFiles,
): KeptVersion | undefined {
  if (integrity === undefined) return undefined;
  const find = () => {
    for (const dir of cacheDirs) {
      const found = keptVersion(cachedFiles(dir, registry, name, opened), name, version, integrity, wanted);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const keptBefore = opened?.keptAnswers;
  const found = find();
  // Not found, every layout's file looked in: if one of them was a kept file (not read now), it may lack the version,
  // or have it at another integrity, because pnpm wrote it since. Read them again.
  if (found !== undefined || opened === undefined || opened.keptAnswers === keptBefore) return found;
  for (const dir of cacheDirs) for (const layout of layouts) opened.forget(keyOf(layout, dir, registry, name));
  return find();
}

/** The version's registry metadata from pnpm's cache (see `pnpmCached`), or undefined. */
export function pnpmCachedMetadata(cacheDirs: readonly string[], registry: string, name: string, version: string, integrity: string | undefined, opened?: OpenedCacheFiles): PackumentVersion | undefined {
  return pnpmCached(cacheDirs, registry, name, version, integrity, undefined, opened)?.metadata;
}

/**
 * Where pnpm keeps its cache when nothing else says: `pnpm_config_cache_dir` / `npm_config_cache_dir` in the
 * environment, else the platform's default (`$XDG_CACHE_HOME/pnpm`, `~/.cache/pnpm`, `~/Library/Caches/pnpm`,
 * `%LOCALAPPDATA%\pnpm-cache`). A project's own `cacheDir` setting is added by the caller that reads it.
 */
export function defaultPnpmCacheDirs(env: Env = process.env, home: string = homedir(), platform: NodeJS.Platform = process.platform): string[] {
  const told = [env.pnpm_config_cache_dir, env.PNPM_CONFIG_CACHE_DIR, env.npm_config_cache_dir, env.NPM_CONFIG_CACHE_DIR].filter((dir): dir is string => typeof dir === 'string' && dir !== '');
  const fallback =
    platform === 'win32' ? join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'pnpm-cache') : platform === 'darwin' ? join(home, 'Library', 'Caches', 'pnpm') : join(env.XDG_CACHE_HOME || join(home, '.cache'), 'pnpm');
  return [...new Set([...told, fallback])];
}
