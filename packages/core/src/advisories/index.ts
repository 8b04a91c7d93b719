/**
 * The advisory index: OSV records from the files and folders a policy names, built once into a compact index
 * and reused. The cache key is the sources' stat key (sources.ts), so a cache hit reads no record file; the
 * cached index is authenticated with this user's secret (store.ts), so a cache folder from elsewhere is rebuilt
 * from the records, never trusted.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { defaultStateDir, memoSecret } from '../cache/verified-versions.js';
import { PortcullisError } from '../errors.js';
import { jsonArraySpans } from './json-array.js';
import { readOsvRecord, type Advisory } from './osv.js';
import { listSourceFiles, sourceRootsKey, type SourceFile } from './sources.js';
import { EncodedIndex, INDEX_FORMAT, IndexBuilder, type AdvisoryProblem } from './store.js';
import { recentWalk, recordWalk } from './walk-stamp.js';

export type { Advisory, AffectedInterval, NpmAffected, OsvReading } from './osv.js';
export type { AdvisoryProblem } from './store.js';

/** Advisories by package: built once, looked up per package version. */
export interface AdvisoryIndex {
  /** The advisories that affect `name@version`; `[]` when none does. */
  lookup(name: string, version: string): Advisory[];
  /** npm records indexed (withdrawn records and other ecosystems are not counted). */
  readonly records: number;
  /** Content hash of the index: the same records give the same id. */
  readonly id: string;
  /** The first 100 records (or parts of records) that were skipped or read as "every version", and why. */
  readonly problems: readonly AdvisoryProblem[];
  readonly problemCount: number;
  /** Whether this process built the index or loaded it from the cache. */
  readonly origin: 'built' | 'cache';
}

export interface AdvisoryIndexOptions {
  /** Where built indexes are kept (`<cacheDir>/advisories-v1/`); none: built in memory every time. */
  cacheDir?: string;
  /** The secret that authenticates cached indexes (default: this user's memo secret); null: no cache. */
  secret?: Buffer | null;
  /**
   * How long a walk of the sources is trusted without walking them again, as long as the sources themselves and
   * the git checkout around them (`.git/index`, `.git/HEAD`) are unchanged. Default 0: every load stats every
   * record file (sound, but about 3.5 s for 200,000 files in 190,000 folders, see docs/benchmarks.md). Within
   * the window a file edited in place (not through git) is seen only when the window ends.
   */
  trustWalkForMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** A source file larger than this is refused (records of the public data set are a few KiB). */
const MAX_FILE_BYTES = 256 * 1024 * 1024;
/** Records in one bundle file. */
const MAX_BUNDLE_RECORDS = 2_000_000;
/** A cached index larger than this is not read. */
const MAX_INDEX_BYTES = 1024 * 1024 * 1024;
/** Cached indexes kept per cache folder (other data sets, other projects); older ones are removed. */
const KEEP_INDEXES = 4;
/** Walk stamps kept (each names one state of the sources' roots). */
const KEEP_STAMPS = 16;
const CACHE_FOLDER = 'advisories-v1';

/**
 * Builds, or loads from the cache, the index of the OSV records in `sources`: files, or folders walked for
 * `*.json` (OpenSSF's `osv/malicious/npm/<name>/MAL-*.json`); a file holds one record or a list of them.
 * Throws ADVISORIES_UNAVAILABLE when a source or a record file cannot be read (INPUT_TOO_LARGE past the
 * bounds); a record that is not valid OSV is skipped and listed in `problems`.
 */
export function buildAdvisoryIndex(sources: readonly string[], options: AdvisoryIndexOptions = {}): AdvisoryIndex {
  const secret = options.cacheDir === undefined ? null : options.secret === undefined ? memoSecret(defaultStateDir()) : options.secret;
  const cache = options.cacheDir !== undefined && secret !== null ? { folder: join(options.cacheDir, CACHE_FOLDER), secret } : undefined;
  const now = (options.now ?? Date.now)();
  const trustMs = options.trustWalkForMs ?? 0;
  const roots = cache !== undefined && trustMs > 0 ? sourceRootsKey(sources, INDEX_FORMAT) : undefined;
  if (cache !== undefined && roots !== undefined) {
    const walked = recentWalk(cache.folder, roots, cache.secret, now, trustMs);
    const cached = walked === undefined ? undefined : readCached(cache.folder, walked, cache.secret);
    if (cached !== undefined) return withOrigin(cached, 'cache');
  }

  const { files, key } = listSourceFiles(sources, INDEX_FORMAT);
  const cached = cache === undefined ? undefined : readCached(cache.folder, key, cache.secret);
  if (cache !== undefined && cached !== undefined) {
    if (roots !== undefined) recordWalk(cache.folder, roots, key, now, cache.secret);
    return withOrigin(cached, 'cache');
  }

  const { builder, records, problems } = readRecords(files);
  // Without a cache the index is still encoded (one layout, one lookup path), tagged with a throwaway secret.
  const tagSecret = cache?.secret ?? randomBytes(32);
  const bytes = builder.encode({ key, records, problems }, tagSecret);
  if (cache !== undefined) {
    writeCached(cache.folder, key, bytes);
    if (roots !== undefined) recordWalk(cache.folder, roots, key, now, cache.secret);
  }
  const index = EncodedIndex.open(bytes, key, tagSecret);
  if (index === undefined) throw new Error('a freshly encoded advisory index did not open');
  return withOrigin(index, 'built');
}

/** Reads every record file: advisories by package name, then by id (ids merged per name), npm records counted, problems. */
function readRecords(files: readonly SourceFile[]): { builder: IndexBuilder; records: number; problems: AdvisoryProblem[] } {
  const builder = new IndexBuilder();
  const problems: AdvisoryProblem[] = [];
  let records = 0;
  const index = (item: unknown, source: string) => {
    const reading = readOsvRecord(item);
    if (reading.kind === 'malformed') problems.push({ source, reason: `${reading.reason}; skipped` });
    if (reading.kind !== 'npm') return;
    records += 1;
    for (const reason of reading.problems) problems.push({ source, reason });
    // The same id twice for one package (two entries, or the record in two sources): the union of what they say.
    for (const affected of reading.affected) builder.add(affected.name, reading.advisory, affected.versions, affected.ranges);
  };
  for (const file of files) {
    if (file.size > MAX_FILE_BYTES) throw new PortcullisError('INPUT_TOO_LARGE', `The advisory file ${file.label} is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB.`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file.path);
    } catch (error) {
      throw new PortcullisError('ADVISORIES_UNAVAILABLE', `The advisory record ${file.label} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
    }
    // Read as bytes, decoded a record at a time (a bundle's text is never held whole beside its bytes).
    const from = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    // A file is one record, or a bundle: a list of records (one file, so its cache key is one stat). A bundle's
    // records are parsed one at a time (json-array.ts), each garbage once indexed.
    const spans = jsonArraySpans(bytes, from);
    if (spans !== undefined) {
      if (spans.length / 2 > MAX_BUNDLE_RECORDS) throw new PortcullisError('INPUT_TOO_LARGE', `The advisory bundle ${file.label} holds more than ${MAX_BUNDLE_RECORDS.toLocaleString('en-US')} records.`);
      for (let i = 0; i < spans.length; i += 2) {
        const source = `${file.label}#${i / 2}`;
        let item: unknown;
        try {
          item = JSON.parse(bytes.toString('utf8', spans[i], spans[i + 1]));
        } catch {
          problems.push({ source, reason: 'not JSON; skipped' });
          continue;
        }
        index(item, source);
      }
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8', from));
    } catch {
      problems.push({ source: file.label, reason: 'not JSON; skipped' });
      continue;
    }
    // An array jsonArraySpans did not take apart (it takes apart every one JSON.parse accepts): read as before.
    if (Array.isArray(parsed)) {
      if (parsed.length > MAX_BUNDLE_RECORDS) throw new PortcullisError('INPUT_TOO_LARGE', `The advisory bundle ${file.label} holds more than ${MAX_BUNDLE_RECORDS.toLocaleString('en-US')} records.`);
      parsed.forEach((item, i) => index(item, `${file.label}#${i}`));
    } else index(parsed, file.label);
  }
  return { builder, records, problems };
}

function readCached(folder: string, key: string, secret: Buffer): EncodedIndex | undefined {
  const file = join(folder, `${key}.idx`);
  try {
    const size = statSync(file, { throwIfNoEntry: false })?.size;
    if (size === undefined || size > MAX_INDEX_BYTES) return undefined;
    return EncodedIndex.open(readFileSync(file), key, secret);
  } catch {
    return undefined;
  }
}

function writeCached(folder: string, key: string, bytes: Buffer): void {
  const file = join(folder, `${key}.idx`);
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeFileAtomic(file, bytes, 0o600);
    const others = readdirSync(folder)
      .filter((name) => name.endsWith('.idx') && join(folder, name) !== file)
      .map((name) => ({ path: join(folder, name), mtime: statSync(join(folder, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const old of others.slice(KEEP_INDEXES - 1)) rmSync(old.path, { force: true });
    const stamps = readdirSync(folder)
      .filter((name) => name.endsWith('.walk'))
      .map((name) => ({ path: join(folder, name), mtime: statSync(join(folder, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const old of stamps.slice(KEEP_STAMPS)) rmSync(old.path, { force: true });
  } catch {
    // A cache that cannot be written only costs a rebuild next time.
  }
}

function withOrigin(index: EncodedIndex, origin: 'built' | 'cache'): AdvisoryIndex {
  return {
    lookup: (name, version) => index.lookup(name, version),
    records: index.records,
    id: index.id,
    problems: index.problems,
    problemCount: index.problemCount,
    origin,
  };
}
