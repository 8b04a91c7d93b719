/**
 * Rewriting the packument Verdaccio serves, once every version has a verdict: removed versions leave `versions`,
 * `time` and `dist-tags` (with the reason in `x-portcullis.removed`), served versions gain the organisation's
 * signature. Pure: the input is never mutated (Verdaccio keeps it in storage).
 */
import semver from 'semver';
import type { RegistrySignature } from '@portcullis/core';

/** Where the plugin writes what it did, for clients and operators (documented in docs/organisation.md). */
export const REPORT_FIELD = 'x-portcullis';

/** Why a version is not served: a finding code of core (or the plugin's own `NOT_VETTED`) and its message. */
export interface Removal {
  code: string;
  reason: string;
}

export type VersionVerdict = { served: true; signature: RegistrySignature } | { served: false; removal: Removal };

export interface PortcullisReport {
  /** The key that signed every version served. */
  signedBy: string;
  removed: Record<string, Removal>;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own enumerable entries of an object from the wire (never its prototype's), or none. */
export function entriesOf(value: unknown): Array<[string, unknown]> {
  return isRecord(value) ? Object.entries(value) : [];
}

/**
 * The packument to serve: only versions whose verdict serves them, each with the organisation's signature added
 * (any upstream entry that claims the organisation's keyid is dropped: only this plugin signs with it).
 */
export function rewritePackument(manifest: Json, verdicts: ReadonlyMap<string, VersionVerdict>, signedBy: string): Json {
  // Plain objects (what Verdaccio serialises); a `__proto__` key is never a version and is never written.
  const versions: Json = {};
  const removed: Record<string, Removal> = {};
  for (const [version, doc] of entriesOf(manifest.versions)) {
    if (version === '__proto__') continue;
    const verdict = verdicts.get(version);
    if (verdict === undefined || !verdict.served || !isRecord(doc) || !isRecord(doc.dist)) {
      removed[version] = verdict !== undefined && !verdict.served ? verdict.removal : { code: 'NOT_VETTED', reason: `${String(manifest.name)}@${version} was not vetted` };
      continue;
    }
    const upstream = Array.isArray(doc.dist.signatures) ? doc.dist.signatures.filter((s) => !(isRecord(s) && s.keyid === signedBy)) : [];
    upstream.push(verdict.signature);
    versions[version] = { ...doc, dist: { ...doc.dist, signatures: upstream } };
  }
  const time: Json = {};
  for (const [key, value] of entriesOf(manifest.time)) {
    if (key === 'created' || key === 'modified' || (key !== '__proto__' && Object.hasOwn(versions, key))) time[key] = value;
  }
  const report: PortcullisReport = { signedBy, removed };
  return {
    ...manifest,
    versions,
    time,
    'dist-tags': repairDistTags(manifest['dist-tags'], Object.keys(versions)),
    [REPORT_FIELD]: report,
  };
}

/**
 * Tags that point at a served version stay; the others are dropped. `latest` that no longer points at a served
 * version moves to the highest served release (no prerelease), or is dropped when there is none.
 */
export function repairDistTags(tags: unknown, served: readonly string[]): Record<string, string> {
  const kept = new Set(served);
  const out: Record<string, string> = {};
  for (const [tag, version] of entriesOf(tags)) {
    if (tag === '__proto__' || typeof version !== 'string' || !kept.has(version)) continue;
    out[tag] = version;
  }
  if (out.latest === undefined) {
    const releases = served.filter((v) => semver.valid(v) !== null && semver.prerelease(v) === null).sort(semver.rcompare);
    if (releases[0] !== undefined) out.latest = releases[0];
  }
  return out;
}
