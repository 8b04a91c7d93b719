/**
 * One OSV record (OpenSSF malicious-packages format, OSV schema 1.x), read as hostile input: only its npm
 * packages, their `versions` lists and their SEMVER (or npm ECOSYSTEM) ranges, turned into plain intervals.
 *
 * A record that cannot be attributed to a package (not an object, no usable id, `affected` not a list) is
 * skipped with a reason. Within an npm entry of a usable record, what cannot be read — a range with an
 * unparsable version, an event of two kinds, too many versions — counts as *every* version of that package
 * (the data says the package is affected; we cannot tell which versions are not), with a problem noted.
 */
import semver from 'semver';
import { isValidPackageName } from '../package-name.js';

/** What a finding needs to say about one advisory. */
export interface Advisory {
  id: string;
  summary: string;
  modified?: string;
  withdrawn?: string;
}

/**
 * One affected interval of versions, SemVer 2.0 precedence (prereleases included, build metadata ignored):
 * `introduced ≤ v` (no `introduced`: from the start), and `v < fixed` or `v ≤ lastAffected` (neither: no end),
 * and `v < limit` (no `limit`: no limit). `{}` is every version.
 */
export interface AffectedInterval {
  introduced?: string;
  fixed?: string;
  lastAffected?: string;
  limit?: string;
}

/** One npm package an advisory names: exact versions and intervals (a version in either is affected). */
export interface NpmAffected {
  name: string;
  /** Normalised (`1.2.3+build` → `1.2.3`) where it is SemVer, otherwise as written. */
  versions: string[];
  ranges: AffectedInterval[];
}

/** What one record yields: npm packages, nothing for us (withdrawn, other ecosystems), or a skipped record. */
export type OsvReading =
  | { kind: 'npm'; advisory: Advisory; affected: NpmAffected[]; problems: string[] }
  | { kind: 'ignored'; reason: string }
  | { kind: 'malformed'; reason: string };

// Bounds: far above anything in the public data set, low enough that one record cannot exhaust memory.
const MAX_AFFECTED = 10_000;
const MAX_VERSIONS = 100_000;
const MAX_RANGES = 1_000;
const MAX_EVENTS = 1_000;
const MAX_VERSION_LENGTH = 256;
const MAX_SUMMARY_LENGTH = 500;
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T[0-9:.]{5,30}(?:Z|[+-]\d{2}:\d{2})$/;
const EVENT_KINDS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;
type EventKind = (typeof EVENT_KINDS)[number];

const own = (value: object, key: string): unknown => (Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined);
const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The npm packages and versions an OSV record names; undefined for anything else (withdrawn, other ecosystems, malformed). */
export function npmAffectedOf(record: unknown): { advisory: Advisory; affected: NpmAffected[] } | undefined {
  const reading = readOsvRecord(record);
  return reading.kind === 'npm' ? { advisory: reading.advisory, affected: reading.affected } : undefined;
}

/** Reads one record; reasons and problems name the record by its id (the caller knows its file). */
export function readOsvRecord(record: unknown): OsvReading {
  if (!isObject(record)) return { kind: 'malformed', reason: 'not a JSON object' };
  const id = own(record, 'id');
  if (typeof id !== 'string' || !ID.test(id)) return { kind: 'malformed', reason: 'no valid "id"' };
  const withdrawn = own(record, 'withdrawn');
  if (withdrawn !== undefined) {
    return typeof withdrawn === 'string' ? { kind: 'ignored', reason: `${id} was withdrawn` } : { kind: 'malformed', reason: `${id} has a "withdrawn" that is not a string` };
  }
  const affected = own(record, 'affected');
  if (affected === undefined) return { kind: 'ignored', reason: `${id} names no affected package` };
  if (!Array.isArray(affected)) return { kind: 'malformed', reason: `${id} has an "affected" that is not a list` };
  if (affected.length > MAX_AFFECTED) return { kind: 'malformed', reason: `${id} names more than ${MAX_AFFECTED} affected packages` };

  const problems: string[] = [];
  const npm: NpmAffected[] = [];
  for (const entry of affected as unknown[]) {
    const pkg = isObject(entry) ? own(entry, 'package') : undefined;
    if (!isObject(entry) || !isObject(pkg)) {
      problems.push(`${id} has an affected entry without a "package"`);
      continue;
    }
    if (own(pkg, 'ecosystem') !== 'npm') continue;
    const name = own(pkg, 'name');
    if (typeof name !== 'string' || !isValidPackageName(name)) {
      // No lockfile can hold a name npm would refuse: nothing is lost by skipping it.
      problems.push(`${id} names an npm package that is not a valid package name`);
      continue;
    }
    npm.push(readAffected(entry, name, `${id} (${name})`, problems));
  }
  if (npm.length === 0) {
    if (problems.length > 0) return { kind: 'malformed', reason: problems[0]! };
    return { kind: 'ignored', reason: `${id} names no npm package` };
  }
  const modified = own(record, 'modified');
  const advisory: Advisory = { id, summary: cleanSummary(own(record, 'summary')) };
  if (typeof modified === 'string' && TIMESTAMP.test(modified)) advisory.modified = modified;
  return { kind: 'npm', advisory, affected: npm, problems };
}

function readAffected(entry: object, name: string, where: string, problems: string[]): NpmAffected {
  const everything = (why: string): NpmAffected => {
    problems.push(`${where}: ${why}; every version counts as affected`);
    return { name, versions: [], ranges: [{}] };
  };
  const versionsField = own(entry, 'versions');
  const rangesField = own(entry, 'ranges');
  if (versionsField === undefined && rangesField === undefined) return everything('neither "versions" nor "ranges"');

  const versions: string[] = [];
  if (versionsField !== undefined) {
    if (!Array.isArray(versionsField) || versionsField.length > MAX_VERSIONS) return everything('"versions" is not a list of at most 100,000 entries');
    for (const version of versionsField as unknown[]) {
      if (typeof version !== 'string' || version.length === 0 || version.length > MAX_VERSION_LENGTH) return everything('a "versions" entry is not a version string');
      versions.push(normalizeVersion(version));
    }
  }
  const ranges: AffectedInterval[] = [];
  if (rangesField !== undefined) {
    if (!Array.isArray(rangesField) || rangesField.length > MAX_RANGES) return everything('"ranges" is not a list of at most 1,000 ranges');
    for (const range of rangesField as unknown[]) {
      const type = isObject(range) ? own(range, 'type') : undefined;
      if (type === 'GIT') continue; // commits, not versions: nothing a lockfile can be matched against
      if (type !== 'SEMVER' && type !== 'ECOSYSTEM') return everything(`a range of type ${JSON.stringify(type)?.slice(0, 40) ?? 'none'} cannot be read`);
      const intervals = intervalsOf(own(range as object, 'events'));
      if (typeof intervals === 'string') return everything(intervals);
      ranges.push(...intervals);
    }
  }
  return { name, versions: [...new Set(versions)], ranges };
}

/**
 * A range's events (OSV "Evaluation": sorted, introduced opens, fixed/last_affected close, limits bound the
 * whole range) as intervals; a string says why they cannot be read.
 */
export function intervalsOf(eventsField: unknown): AffectedInterval[] | string {
  if (!Array.isArray(eventsField) || eventsField.length === 0 || eventsField.length > MAX_EVENTS) return 'a range has no list of events';
  const events: Array<{ kind: EventKind; value: string; version: semver.SemVer | undefined }> = [];
  for (const event of eventsField as unknown[]) {
    if (!isObject(event)) return 'a range event is not an object';
    const keys = Object.keys(event).filter((k) => (EVENT_KINDS as readonly string[]).includes(k));
    if (keys.length !== 1) return 'a range event does not hold exactly one of introduced, fixed, last_affected, limit';
    const kind = keys[0] as EventKind;
    const value = own(event, kind);
    if (typeof value !== 'string' || value.length > MAX_VERSION_LENGTH) return `a range event "${kind}" is not a version string`;
    if ((kind === 'introduced' && value === '0') || (kind === 'limit' && value === '*')) {
      events.push({ kind, value, version: undefined });
      continue;
    }
    const version = semver.parse(value);
    if (version === null) return `a range event "${kind}" is not a SemVer version`;
    events.push({ kind, value: version.version, version });
  }
  if (!events.some((e) => e.kind === 'introduced')) return 'a range has no "introduced" event';
  if (events.some((e) => e.kind === 'fixed') && events.some((e) => e.kind === 'last_affected')) return 'a range mixes "fixed" and "last_affected"';

  // Limits bound the whole range: a version is inside if it is below any of them ("*" or none: no bound).
  let limit: semver.SemVer | undefined;
  let unbounded = !events.some((e) => e.kind === 'limit');
  for (const e of events) {
    if (e.kind !== 'limit') continue;
    if (e.version === undefined) unbounded = true;
    else if (limit === undefined || semver.compare(e.version, limit) > 0) limit = e.version;
  }
  // "0" sorts first; at equal versions an introduced comes first, so `introduced X, last_affected X` is exactly X.
  const rank = (e: (typeof events)[number]) => (e.kind === 'introduced' ? 0 : 1);
  const sorted = events
    .filter((e) => e.kind !== 'limit')
    .sort((a, b) => (a.version === undefined ? -1 : b.version === undefined ? 1 : semver.compare(a.version, b.version) || rank(a) - rank(b)));

  const out: AffectedInterval[] = [];
  let open: { from: string | undefined } | undefined;
  for (const e of sorted) {
    if (e.kind === 'introduced') {
      open ??= { from: e.version === undefined ? undefined : e.value };
    } else if (open !== undefined) {
      const interval: AffectedInterval = {};
      if (open.from !== undefined) interval.introduced = open.from;
      if (e.kind === 'fixed') interval.fixed = e.value;
      else interval.lastAffected = e.value;
      out.push(interval);
      open = undefined;
    }
  }
  if (open !== undefined) out.push(open.from === undefined ? {} : { introduced: open.from });
  if (!unbounded && limit !== undefined) for (const interval of out) interval.limit = limit.version;
  return out;
}

/** `1.2.3+build` and `v1.2.3` → `1.2.3`; anything that is not SemVer stays as written. */
export function normalizeVersion(version: string): string {
  return semver.parse(version)?.version ?? version;
}

/** An interval bound: a version string, or one parsed once for many comparisons. */
type Bound = string | semver.SemVer;

/**
 * Whether `version` lies in `interval` by SemVer 2.0 precedence — prereleases included on purpose: `1.5.0-beta`
 * is inside `[1.0.0, 2.0.0)` and `2.0.0-rc.1` is below `fixed: 2.0.0` (semver's `satisfies` would let both
 * escape without `includePrerelease`). A version that is not SemVer cannot be placed: it counts as inside.
 */
export function inInterval(version: semver.SemVer | null, interval: { introduced?: Bound; fixed?: Bound; lastAffected?: Bound; limit?: Bound }): boolean {
  if (version === null) return true;
  if (interval.introduced !== undefined && semver.compare(version, interval.introduced) < 0) return false;
  if (interval.fixed !== undefined && semver.compare(version, interval.fixed) >= 0) return false;
  if (interval.lastAffected !== undefined && semver.compare(version, interval.lastAffected) > 0) return false;
  if (interval.limit !== undefined && semver.compare(version, interval.limit) >= 0) return false;
  return true;
}

/** Summaries reach terminals: control characters (escape sequences) become spaces, length is bounded. */
function cleanSummary(summary: unknown): string {
  if (typeof summary !== 'string') return '';
  const clean = summary.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g, ' ').trim();
  return clean.length > MAX_SUMMARY_LENGTH ? `${clean.slice(0, MAX_SUMMARY_LENGTH - 1)}…` : clean;
}
