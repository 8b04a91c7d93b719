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
import { readOsvRecord, type Advisory } from './osv.js';
import { listSourceFiles } from './sources.js';
import { EncodedIndex, encodeIndex, INDEX_FORMAT, type AdvisoryProblem, type StoredAdvisory } from './store.js';

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
}

/** A record file larger than this is skipped with a problem (records of the public data set are a few KiB). */
const MAX_RECORD_BYTES = 4 * 1024 * 1024;
/** A cached index larger than this is not read. */
const MAX_INDEX_BYTES = 1024 * 1024 * 1024;
/** Cached indexes kept per cache folder (other data sets, other projects); older ones are removed. */
const KEEP_INDEXES = 4;
const CACHE_FOLDER = 'advisories-v1';

/**
 * Builds, or loads from the cache, the index of the OSV records in `sources` (files, or folders walked for
 * `*.json`, e.g. OpenSSF's `osv/malicious/npm/<name>/MAL-*.json`). Throws ADVISORIES_UNAVAILABLE when a source
 * or a record file cannot be read; a record that is not valid OSV is skipped and listed in `problems`.
 */
export function buildAdvisoryIndex(sources: readonly string[], options: AdvisoryIndexOptions = {}): AdvisoryIndex {
  const { files, key } = listSourceFiles(sources, INDEX_FORMAT);
  const secret = options.cacheDir === undefined ? null : options.secret === undefined ? memoSecret(defaultStateDir()) : options.secret;
  const cacheFile = options.cacheDir !== undefined && secret !== null ? join(options.cacheDir, CACHE_FOLDER, `${key}.idx`) : undefined;

  if (cacheFile !== undefined && secret !== null) {
    const cached = readCached(cacheFile, key, secret);
    if (cached !== undefined) return withOrigin(cached, 'cache');
  }

  const byName = new Map<string, Map<string, StoredAdvisory>>();
  const problems: AdvisoryProblem[] = [];
  let records = 0;
  for (const file of files) {
    if (file.size > MAX_RECORD_BYTES) {
      problems.push({ source: file.label, reason: `larger than ${MAX_RECORD_BYTES / 1024 / 1024} MiB; skipped` });
      continue;
    }
    let text: string;
    try {
      text = readFileSync(file.path, 'utf8');
    } catch (error) {
      throw new PortcullisError('ADVISORIES_UNAVAILABLE', `The advisory record ${file.label} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
    }
    let record: unknown;
    try {
      record = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch {
      problems.push({ source: file.label, reason: 'not JSON; skipped' });
      continue;
    }
    const reading = readOsvRecord(record);
    if (reading.kind === 'malformed') problems.push({ source: file.label, reason: `${reading.reason}; skipped` });
    if (reading.kind !== 'npm') continue;
    records += 1;
    for (const reason of reading.problems) problems.push({ source: file.label, reason });
    for (const affected of reading.affected) {
      let advisories = byName.get(affected.name);
      if (advisories === undefined) byName.set(affected.name, (advisories = new Map()));
      // The same id twice for one package (two entries, or the record in two sources): the union of what they say.
      const known = advisories.get(reading.advisory.id);
      if (known === undefined) advisories.set(reading.advisory.id, { advisory: reading.advisory, versions: [...affected.versions], ranges: [...affected.ranges] });
      else {
        known.versions = [...new Set([...known.versions, ...affected.versions])];
        known.ranges.push(...affected.ranges);
      }
    }
  }
  const flat = new Map([...byName].map(([name, advisories]) => [name, [...advisories.values()]]));
  // Without a cache the index is still encoded (one layout, one lookup path), tagged with a throwaway secret.
  const tagSecret = secret ?? randomBytes(32);
  const bytes = encodeIndex(flat, { key, records, problems }, tagSecret);
  if (cacheFile !== undefined) writeCached(cacheFile, bytes);
  const index = EncodedIndex.open(bytes, key, tagSecret);
  if (index === undefined) throw new Error('a freshly encoded advisory index did not open');
  return withOrigin(index, 'built');
}

function readCached(file: string, key: string, secret: Buffer): EncodedIndex | undefined {
  try {
    const size = statSync(file, { throwIfNoEntry: false })?.size;
    if (size === undefined || size > MAX_INDEX_BYTES) return undefined;
    return EncodedIndex.open(readFileSync(file), key, secret);
  } catch {
    return undefined;
  }
}

function writeCached(file: string, bytes: Buffer): void {
  const folder = join(file, '..');
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeFileAtomic(file, bytes, 0o600);
    const others = readdirSync(folder)
      .filter((name) => name.endsWith('.idx') && join(folder, name) !== file)
      .map((name) => ({ path: join(folder, name), mtime: statSync(join(folder, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const old of others.slice(KEEP_INDEXES - 1)) rmSync(old.path, { force: true });
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
