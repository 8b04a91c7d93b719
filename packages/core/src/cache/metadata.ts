/**
 * The on-disk metadata cache. One file per (registry, name, kind), named by a hash so no package
 * name can shape a path; written to a temp file and renamed into place so readers and concurrent
 * writers only ever see whole entries; anything unreadable is a miss, never a crash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MAX_PACKUMENT_BYTES } from '../limits.js';
import { readBounded } from '../read-bounded.js';

/** What is cached: a packument of either kind, or a registry's keys. */
export type CacheKind = 'abbreviated' | 'full' | 'keys' | 'attestations';

/** One cached response. `body` is untrusted on read: the client validates it like a response. */
export interface CacheEntry {
  /** The URL fetched, redacted. */
  url: string;
  etag: string | null;
  lastModified: string | null;
  /** When the registry last confirmed this body (ms since the epoch). */
  fetchedAt: number;
  /** 404 records "the registry has none" (used for keys). */
  status: 200 | 404;
  body: unknown;
}

/** Reads and writes cache entries. */
export interface MetadataCache {
  readonly dir: string;
  /** The entry, or null when there is none or it is unreadable, malformed or not for this key. */
  get(registry: string, name: string, kind: CacheKind): Promise<CacheEntry | null>;
  /** Stores an entry atomically; failures are reported to `onError` and otherwise ignored (the cache is an accelerator). */
  set(registry: string, name: string, kind: CacheKind, entry: CacheEntry): Promise<void>;
}

const FORMAT = 'portcullis-metadata-cache';
// v2: entries record every known script answer explicitly (v1 dropped scripts of full documents served for abbreviated requests).
// v3: entries keep `bundleDependencies` (a v2 entry would say a parent bundles nothing).
const VERSION = 4;
/** Cached bodies are projections of documents under the response limit; anything bigger is not ours. */
const MAX_ENTRY_BYTES = MAX_PACKUMENT_BYTES + 1024 * 1024;

/** The file name of an entry: sha256 of registry, name and kind, so a hostile name never becomes a path. */
export function cacheKey(registry: string, name: string, kind: CacheKind): string {
  return createHash('sha256').update(`${registry}\0${name}\0${kind}`).digest('hex');
}

export { defaultCacheDir } from './dirs.js';

/** Opens (lazily creates) a cache in `dir`. */
export function createMetadataCache(dir: string, options: { onError?: (message: string) => void } = {}): MetadataCache {
  const root = join(dir, `metadata-v${VERSION}`);
  const fileFor = (key: string): string => join(root, key.slice(0, 2), `${key}.json`);
  // Folders this cache created or found: a cold install writes ~1,000 entries into 256 folders (one mkdir each, not per entry).
  const folders = new Set<string>();
  // A cache never filled (a Yarn install writes none) is found out once, not by a hash and a stat per lookup; once this
  // process writes, every lookup looks. An entry another process writes meanwhile is a miss, as it was a moment earlier.
  let empty: boolean | undefined;
  const isEmpty = (): boolean => {
    try {
      return (empty ??= statSync(root, { throwIfNoEntry: false }) === undefined);
    } catch {
      return (empty = false);
    }
  };

  return {
    dir,
    async get(registry, name, kind) {
      if (isEmpty()) return null;
      const key = cacheKey(registry, name, kind);
      const text = readEntry(fileFor(key), MAX_ENTRY_BYTES);
      if (text === null) return null;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return null;
      }
      return entryFromJson(value, key);
    },
    async set(registry, name, kind, entry) {
      empty = false;
      const key = cacheKey(registry, name, kind);
      const file = fileFor(key);
      const data = JSON.stringify({ format: FORMAT, version: VERSION, key, ...entry });
      // Unique per process and call: two writers never share a temp file, and rename replaces atomically.
      const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        const folder = dirname(file);
        if (!folders.has(folder)) {
          await mkdir(folder, { recursive: true, mode: 0o700 });
          folders.add(folder);
        }
        await writeFile(temp, data, { flag: 'wx', mode: 0o600 });
        await renameWithRetry(temp, file);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        options.onError?.(`could not write the metadata cache in ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
    },
  };
}

/**
 * An entry's text, or null for none (a miss), one larger than `maxBytes`, an empty or unreadable one. Read
 * synchronously, through one descriptor (core's readBounded): through `fs/promises` (open, stat, read, close, each a
 * trip to libuv's threads and back) 849 entries read at once took ~110 ms of CPU and ~95 ms of wall time in a fresh
 * Node 20, against ~12 and ~9.5 read one after another (docs/benchmarks.md, "Thirty-first round"). A miss (every
 * lookup of a cold install) is found out without an exception.
 */
function readEntry(file: string, maxBytes: number): string | null {
  const bytes = readBounded(file, maxBytes, { oftenMissing: true });
  return bytes === undefined || bytes.length === 0 ? null : bytes.toString('utf8');
}

function entryFromJson(value: unknown, key: string): CacheEntry | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as { readonly [k: string]: unknown };
  const get = (name: string): unknown => (Object.hasOwn(v, name) ? v[name] : undefined);
  const [url, etag, lastModified, fetchedAt, status] = [get('url'), get('etag'), get('lastModified'), get('fetchedAt'), get('status')];
  const ok =
    get('format') === FORMAT &&
    get('version') === VERSION &&
    get('key') === key &&
    typeof url === 'string' &&
    (etag === null || typeof etag === 'string') &&
    (lastModified === null || typeof lastModified === 'string') &&
    typeof fetchedAt === 'number' &&
    Number.isFinite(fetchedAt) &&
    (status === 200 || status === 404) &&
    Object.hasOwn(v, 'body');
  if (!ok) return null;
  return { url, etag, lastModified, fetchedAt, status, body: v.body } as CacheEntry;
}

/** Windows refuses to replace a file another process has open; a moment later it succeeds. */
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (attempt >= 5 || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw error;
      await new Promise((r) => setTimeout(r, 10 * 2 ** attempt));
    }
  }
}
