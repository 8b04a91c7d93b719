/**
 * The edge that collects provenance evidence: which versions the policy asks about, their attestations from the
 * registry, verified offline (provenance/verify.ts), and — for noDowngrade — whether an earlier version of the same
 * release line had verified provenance this version lacks. Only verified bundles count as evidence; the registry's
 * `dist.attestations` claims only say which earlier versions are worth verifying. Any failure to fetch is
 * "unavailable" — never an allow.
 */
import semver from 'semver';
import type { AuthenticatedMemo } from '../cache/authenticated-memo.js';
import type { ProvenanceDowngrade, ProvenanceEvidence, PublisherIdentity, RememberedPublisher } from '../evaluation/evidence.js';
import { plainVersion } from '../lockfile/names.js';
import { isOwnCode, type PackageNode } from '../model.js';
import { noDowngradeApplies, provenanceRequired } from '../policy/provenance.js';
import type { Policy } from '../policy/types.js';
import type { Packument } from '../registry/packument.js';
import type { RegistryClient } from '../registry/client.js';
import type { SigstoreTrust } from '../provenance/trusted-root.js';
import { claimedBuilders, verifyProvenance } from '../provenance/verify.js';

/**
 * How many earlier versions of the line a version with verified provenance is compared with (newest first): every
 * one of them must come from its repository. Comparing with the newest alone let an attacker's second release pass,
 * its first one (refused) having become the line's baseline.
 */
const LINE_HISTORY = 256;
/**
 * A line with more claims than LINE_HISTORY is compared with its newest claims by semver and with the FIRST_RELEASES
 * first published (by the registry's `time`): an attacker's releases, however many, never push the repository that
 * began the line's provenance out of view (their prereleases below its first release by semver cannot either: they
 * were published after it).
 */
const FIRST_RELEASES = 8;
/** How many claims ahead of the one verified their attestations are fetched, when claims are tried one at a time. */
const FETCH_AHEAD = 8;

export interface ProvenanceGatherOptions {
  policy: Policy;
  client: RegistryClient;
  /** The trusted root, loaded only when some version needs verifying. */
  trust: () => SigstoreTrust;
  /** The integrity each registry package's bytes are pinned to (the lockfile's, or the signed one for Yarn). */
  integrityOf: (pkg: PackageNode) => string | undefined;
  /** Packages already known undecidable or not judged as registry packages (bundled copies): skipped. */
  skip: (pkg: PackageNode) => boolean;
  /** Packages whose full packument is fetched anyway (the cooldown's): read their release line from it. */
  wantsFull?: (pkg: PackageNode) => boolean;
  /** What earlier decisions learnt about versions (authenticated; a published version and its line's past never change). */
  memo?: AuthenticatedMemo<ProvenanceFacts>;
  /**
   * A packument the package manager already kept (pnpm 12's cache) holding at least every earlier version of the
   * package's release line (`earlierInLine`), or undefined: the downgrade check reads the line from it instead of
   * fetching the packument. Only the registry's attestation claims are read there — which earlier versions are
   * worth verifying; their bundles are fetched and verified as always.
   */
  supplied?: (pkg: PackageNode) => Packument | undefined;
  /**
   * A judgement of the whole graph follows before anything is linked (see JudgeInputs.wholeGraphFollows): a release
   * line that `supplied` does not hold yet is not fetched now; the downgrade check of that version is left to it.
   */
  wholeGraphFollows?: boolean;
}

/**
 * What is remembered about one version (with one trusted root): its provenance, when it was verified, and the
 * downgrade check's outcome (null: checked, no downgrade). "Unavailable" is never remembered.
 */
export interface ProvenanceFacts {
  p?: Exclude<ProvenanceEvidence, { status: 'unavailable' }>;
  d?: ProvenanceDowngrade | null;
  /** Under a package's own key: the publisher last seen for it (repository and immutable ids). */
  pub?: RememberedPublisher;
}

const short = (value: unknown, max = 2048): value is string => typeof value === 'string' && value.length <= max;

function isIdentity(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  if (!short(v.issuer) || !short(v.repository) || !short(v.repositoryUri) || !short(v.workflow)) return false;
  return ['repositoryId', 'ownerId', 'ref', 'trigger', 'runnerEnvironment', 'commit'].every((k) => v[k] === undefined || short(v[k]));
}

/** Validates a remembered value (the memo file is hostile input until its tag verifies). */
export function isProvenanceFacts(value: unknown): value is ProvenanceFacts {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { p, d } = value as Record<string, unknown>;
  if (p !== undefined) {
    if (typeof p !== 'object' || p === null) return false;
    const e = p as Record<string, unknown>;
    if (e.status === 'verified') {
      if (!isIdentity(e.identity)) return false;
    } else if (e.status === 'invalid' || e.status === 'root-stale') {
      if (!short(e.reason)) return false;
    } else if (e.status !== 'missing') return false;
  }
  const { pub } = value as Record<string, unknown>;
  if (pub !== undefined) {
    if (typeof pub !== 'object' || pub === null || Array.isArray(pub)) return false;
    const r = pub as Record<string, unknown>;
    if (!short(r.repository) || !(r.repositoryId === undefined || short(r.repositoryId, 64)) || !(r.ownerId === undefined || short(r.ownerId, 64))) return false;
  }
  if (d !== undefined && d !== null) {
    if (typeof d !== 'object' || Array.isArray(d)) return false;
    const g = d as Record<string, unknown>;
    if (!short(g.earlier, 256) || !short(g.repository)) return false;
    const now = g.now;
    if (!(now === 'none' || now === 'invalid' || now === 'unverifiable' || (typeof now === 'object' && now !== null && short((now as Record<string, unknown>).repository)))) return false;
  }
  return true;
}

export interface GatheredProvenance {
  provenance: Map<string, ProvenanceEvidence>;
  downgrades: Map<string, ProvenanceDowngrade>;
  /** Verified versions whose repository or owner id differs from the one this project saw before for that repository. */
  publisherChanges: Map<string, RememberedPublisher>;
  /** Ids that could not be decided (attestations or packuments unavailable), with why. */
  unavailable: Map<string, string>;
  /** Plain notices: a registry that serves no attestations for any package it was asked about. */
  notices: string[];
}

/** Same release line: same major; below 1.0.0, same minor too. */
export function sameReleaseLine(a: string, b: string): boolean {
  const x = semver.parse(a);
  const y = semver.parse(b);
  if (x === null || y === null) return false;
  return x.major === y.major && (x.major !== 0 || x.minor === y.minor);
}

/**
 * Whether a candidate is an earlier version of `version`'s release line (both valid, the same line, lower), with
 * `version` read once: the release line of each package is read from a cache file of all its versions, each asked
 * about (a cold install of 1,000 packages: ~11 ms of pnpm 12's hook worker when each question parsed both versions
 * three times with semver). The same answer as `semver.valid`, `sameReleaseLine` and `semver.lt` give, for any
 * strings (provenance.test.ts).
 */
export function earlierInLineOf(version: string): (candidate: string) => boolean {
  let parsed: semver.SemVer | null | undefined;
  const slow = (candidate: string): boolean => {
    const v = (parsed ??= semver.parse(version));
    const c = v === null ? null : semver.parse(candidate);
    return v !== null && c !== null && c.major === v.major && (c.major !== 0 || c.minor === v.minor) && c.compare(v) < 0;
  };
  // Most versions are plain `major.minor.patch`: compared as numbers, without semver (nor loading it, on most installs).
  const v = plainVersion(version);
  if (v === undefined) return slow;
  return (candidate) => {
    const c = plainVersion(candidate);
    if (c === undefined) return slow(candidate);
    return c[0] === v[0] && (c[0] !== 0 || c[1] === v[1]) && (c[1] < v[1] || (c[1] === v[1] && c[2] < v[2]));
  };
}

/**
 * A test that holds for every version earlierInLineOf(version) accepts, and is false for most others without semver:
 * one of another major (another minor below 1.0.0), or of a higher major.minor.patch, told by its leading digits. For
 * reading a release line out of a long list of versions (a real package's prereleases and nightlies, by the thousand:
 * semver parsing each was most of reading it); what is read is still asked of earlierInLineOf (earlierClaims).
 * Why it holds: a version that begins with digits is valid only when those are its major, minor and patch without a
 * leading zero, and an earlier version of the line has the same major (and minor below 1.0.0) and a main version no
 * higher.
 */
export function mayBeEarlierInLineOf(version: string): (candidate: string) => boolean {
  const exact = earlierInLineOf(version);
  const v = leadingMainVersion(version);
  if (v === undefined) return exact;
  return (candidate) => {
    const c = leadingMainVersion(candidate);
    if (c === undefined) return exact(candidate);
    if (c[0] !== v[0] || (v[0] === 0 && c[1] !== v[1])) return false;
    return c[1] < v[1] || (c[1] === v[1] && c[2] <= v[2]);
  };
}

/** The major, minor and patch a version begins with, each without a leading zero and at most 15 digits; undefined otherwise. */
function leadingMainVersion(version: string): [number, number, number] | undefined {
  const main = LEADING_MAIN.exec(version);
  return main === null ? undefined : [Number(main[1]), Number(main[2]), Number(main[3])];
}
const LEADING_MAIN = /^(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})(?=$|[-+])/;

/** Whether `candidate` is an earlier version of `version`'s release line. */
export function earlierInLine(candidate: string, version: string): boolean {
  return earlierInLineOf(version)(candidate);
}

/**
 * Earlier versions of `version`'s release line whose registry entry claims attestations, newest first. Another entry
 * of the same version (`3.0.0` beside `3.0.0+evil`: they differ only in build metadata, which semver's order ignores)
 * counts as earlier: it is neither lower nor higher, so otherwise a line whose one provenanced release is 3.0.0 would
 * have no past for `3.0.0+evil`, published by whoever holds the name now without any. Such a twin is earlier only if
 * it was published first, which the caller tells by the registry's `time` (withoutLaterTwins): otherwise the
 * attacker's `3.0.0+evil`, published from their own repository after acme's 3.0.0, would make 3.0.0 a downgrade.
 */
export function earlierClaims(packument: Packument, version: string): string[] {
  const out: string[] = [];
  const earlier = earlierInLineOf(version);
  const twin = sameVersionOtherEntry(version);
  for (const [candidate, entry] of packument.versions) {
    if (entry.dist.attestations !== undefined && (earlier(candidate) || twin(candidate))) out.push(candidate);
  }
  return out.sort((a, b) => semver.rcompare(a, b));
}

/** Whether a candidate is another registry entry of `version`: a different string of the same semver precedence (build metadata). */
export function sameVersionOtherEntry(version: string): (candidate: string) => boolean {
  const v = version.includes('+') ? semver.parse(version) : undefined;
  return (candidate) => {
    if (candidate === version || (v === undefined && !candidate.includes('+'))) return false;
    const c = semver.parse(candidate);
    const own = v ?? semver.parse(version);
    return c !== null && own !== null && c.compare(own) === 0;
  };
}

/**
 * Whether two builds come from one repository: when both certificates carry an immutable repository id, the same id —
 * a repository renamed or transferred keeps its id, so the releases it built before the move are no downgrade of those
 * it builds after, and a repository deleted and re-created under the same name (by whoever holds the name now) has
 * another; otherwise the same name (ASCII case-insensitive, as publisher pins: Unicode case folding maps other letters
 * onto ASCII ones).
 */
export function sameRepository(a: Pick<PublisherIdentity, 'repository' | 'repositoryId'>, b: Pick<PublisherIdentity, 'repository' | 'repositoryId'>): boolean {
  if (a.repositoryId !== undefined && b.repositoryId !== undefined) return a.repositoryId === b.repositoryId;
  return asciiLower(a.repository) === asciiLower(b.repository);
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Versions of `version`'s release line above it (valid, same line, higher) whose entry claims attestations. */
export function laterClaims(packument: Packument, version: string): string[] {
  const out: string[] = [];
  const v = semver.parse(version);
  if (v === null) return out;
  for (const [candidate, entry] of packument.versions) {
    if (entry.dist.attestations === undefined) continue;
    const c = semver.parse(candidate);
    if (c !== null && c.major === v.major && (c.major !== 0 || c.minor === v.minor) && c.compare(v) > 0) out.push(candidate);
  }
  return out;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Collects provenance evidence for the packages the policy asks about. */
export async function gatherProvenance(packages: readonly PackageNode[], options: ProvenanceGatherOptions, trustId: () => string): Promise<GatheredProvenance> {
  const provenance = new Map<string, ProvenanceEvidence>();
  const downgrades = new Map<string, ProvenanceDowngrade>();
  const publisherChanges = new Map<string, RememberedPublisher>();
  const unavailable = new Map<string, string>();

  /**
   * Compares a verified identity with the publisher this project saw before for the package (same repository name,
   * other repository or owner id: re-registered by someone else), then remembers what was seen now.
   */
  const comparePublisher = (pkg: PackageNode, registry: string, evidence: ProvenanceEvidence | undefined) => {
    if (evidence?.status !== 'verified' || options.memo?.enabled !== true) return;
    const key = JSON.stringify(['publisher', registry, pkg.name]);
    const seen = options.memo.get(key)?.pub;
    const { repository, repositoryId, ownerId } = evidence.identity;
    if (seen !== undefined && seen.repository.toLowerCase() === repository.toLowerCase()) {
      const idChanged = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && a !== b;
      if (idChanged(seen.repositoryId, repositoryId) || idChanged(seen.ownerId, ownerId)) {
        publisherChanges.set(pkg.id, seen);
        return; // keep remembering the first publisher until the user pins the new one
      }
    }
    options.memo.set(key, { pub: { repository, ...(repositoryId !== undefined ? { repositoryId } : {}), ...(ownerId !== undefined ? { ownerId } : {}) } });
  };
  const asked = new Map<string, { versions: number; missing: number }>();
  const verifications = new Map<string, Promise<ProvenanceEvidence>>();
  /** Full documents fetched for publish times, by registry and name (fullDocument). */
  const fullDocuments = new Map<string, Promise<Packument | string>>();
  const verificationKey = (name: string, version: string, registry: string, integrity: string) => JSON.stringify([registry, name, version, integrity]);

  /**
   * One version's provenance, fetched and verified once per decision; `document`, its attestations document when the
   * caller fetched it already. Only the evidence is kept, not the document (a decision may read thousands).
   */
  const verify = (name: string, version: string, registry: string, integrity: string, document?: Promise<unknown>): Promise<ProvenanceEvidence> => {
    const key = verificationKey(name, version, registry, integrity);
    let known = verifications.get(key);
    if (known === undefined) {
      known = (document ?? options.client.getAttestations(name, version, registry)).then(
        (document) => {
          const evidence = verifyProvenance({ document, name, version, integrity, trust: options.trust() });
          const count = asked.get(registry) ?? { versions: 0, missing: 0 };
          count.versions++;
          if (evidence.status === 'missing') count.missing++;
          asked.set(registry, count);
          return evidence;
        },
        (error: unknown): ProvenanceEvidence => ({ status: 'unavailable', reason: reasonOf(error) }),
      );
      verifications.set(key, known);
    }
    return known;
  };

  await Promise.all(
    packages.map(async (pkg) => {
      if (isOwnCode(pkg) || pkg.source !== 'registry' || options.skip(pkg)) return;
      const required = provenanceRequired(options.policy, pkg.name, pkg.version);
      const downgradeCheck = noDowngradeApplies(options.policy, pkg.name, pkg.version);
      if (!required && !downgradeCheck) return;
      const registry = pkg.registry;
      const integrity = options.integrityOf(pkg);
      if (registry === undefined || integrity === undefined) {
        // No registry or no pinned bytes: other findings (INTEGRITY_MISSING, METADATA_UNAVAILABLE) already stop it;
        // a required provenance cannot be matched against nothing.
        if (required) unavailable.set(pkg.id, 'there is no integrity to match its provenance against');
        return;
      }

      // `line-unverified-past`: facts learnt when a downgrade was judged against the newest earlier release alone (before
      // `line-history`), against earlier releases by semver alone however the line's later ones were published, or
      // with one name counting as one repository whatever its ids (before `line-past-id`), with another entry of the
      // same version (`3.0.0` beside `3.0.0+evil`) not counting as its past, against the newest 256 alone on a longer
      // line, or, without verified provenance, against earlier claims by semver alone when none of them verified (all
      // before `line-unverified-past`), are not replayed.
      const memoKey = options.memo?.enabled ? JSON.stringify([trustId(), registry, pkg.name, pkg.version, integrity, 'line-unverified-past']) : undefined;
      const known = memoKey !== undefined ? options.memo!.get(memoKey) : undefined;
      if (known !== undefined && (!required || known.p !== undefined) && (!downgradeCheck || known.d !== undefined)) {
        if (known.p !== undefined) provenance.set(pkg.id, known.p);
        if (known.d) downgrades.set(pkg.id, known.d);
        comparePublisher(pkg, registry, known.p);
        return;
      }
      const learnt: ProvenanceFacts = { ...known };

      let current: ProvenanceEvidence | undefined;
      if (required) current = await verify(pkg.name, pkg.version, registry, integrity);
      const full = downgradeCheck && options.wantsFull?.(pkg) === true;
      // The cooldown fetches the full document anyway: read the line from that one document then.
      let packument = downgradeCheck && !full ? options.supplied?.(pkg) : undefined;
      // Not kept yet, and the whole graph is judged before anything is linked: checked then (nothing is learnt now).
      const deferred = downgradeCheck && !full && packument === undefined && options.wholeGraphFollows === true;
      if (downgradeCheck && !deferred) {
        if (packument === undefined) {
          try {
            packument = await options.client.getPackument(pkg.name, { registry, version: pkg.version, ...(full ? { full: true } : {}) });
          } catch (error) {
            unavailable.set(pkg.id, `cannot tell whether it is a provenance downgrade: ${reasonOf(error)}`);
            return;
          }
        }
        let claims = earlierClaims(packument, pkg.version);
        const twin = sameVersionOtherEntry(pkg.version);
        if (claims.some(twin)) {
          // Another entry of this very version claims provenance: it is this version's past only if published first.
          const dated = await withoutLaterTwins(pkg.name, pkg.version, registry, packument, claims);
          if (typeof dated === 'string') {
            unavailable.set(pkg.id, `cannot tell whether it is a provenance downgrade: ${dated}`);
            return;
          }
          ({ claims, packument } = dated);
        }
        if (claims.length === 0 && laterClaims(packument, pkg.version).length > 0) {
          // Lower than every release of its line that claims provenance (`1.0.0-x` below 1.0.0, or a 1.0.x published
          // after provenance began at 1.1.0): earlier by semver is not earlier in time. The releases it was published
          // after are its line's past — read from the full document, which alone has publish times.
          const past = await publishedBefore(pkg.name, pkg.version, registry, packument);
          if (typeof past === 'string') {
            unavailable.set(pkg.id, `cannot tell whether it is a provenance downgrade: ${past}`);
            return;
          }
          ({ claims, packument } = past);
        }
        if (claims.length === 0) learnt.d = null;
        else {
          current ??= await verify(pkg.name, pkg.version, registry, integrity);
          let decided = await downgradeOf(current, pkg.version, claims, packument, registry);
          if (decided === undefined && current.status !== 'verified' && laterClaims(packument, pkg.version).length > 0) {
            // Without verified provenance, no earlier claim by semver verified: they may all be the attacker's (a
            // `1.0.0-a` whose claim does not verify, then `1.0.0-b` without any, below acme's 1.0.0 by semver but
            // published after it; thirteenth wave L3). The line's releases it was published after are its past, as above.
            const past = await publishedBefore(pkg.name, pkg.version, registry, packument);
            decided = typeof past === 'string' ? `cannot tell whether it is a provenance downgrade: ${past}` : await downgradeOf(current, pkg.version, past.claims, past.packument, registry);
          }
          if (decided === undefined && current.status === 'verified' && (await laterMayBeMoved(current, pkg.version, packument, registry))) {
            // Earlier releases by semver show no move, but a later one of the line claims another repository: it may
            // have been published before this one (the attacker's second release below the line's provenanced ones,
            // whose first is its only earlier one by semver). Its past is read by publish time, as above.
            const past = await publishedBefore(pkg.name, pkg.version, registry, packument);
            decided = typeof past === 'string' ? `cannot tell whether it is a provenance downgrade: ${past}` : await downgradeOf(current, pkg.version, past.claims, past.packument, registry);
          }
          if (typeof decided === 'string') unavailable.set(pkg.id, decided);
          else {
            learnt.d = decided ?? null;
            if (decided !== undefined) downgrades.set(pkg.id, decided);
          }
        }
      }
      if (current !== undefined) {
        provenance.set(pkg.id, current);
        comparePublisher(pkg, registry, current);
        if (current.status !== 'unavailable') learnt.p = current;
      }
      if (memoKey !== undefined && !unavailable.has(pkg.id) && (learnt.p !== undefined || learnt.d !== undefined)) options.memo!.set(memoKey, learnt);
    }),
  );

  /**
   * The package's full document (publish times), `packument` itself when it is one; a string saying why it could not be
   * fetched. `version`: the one the caller reads (getPackument's `version`). Fetched once per decision: a line's past,
   * its twins and each move found ask for the same document (`fullDocuments`).
   */
  function fullDocument(packument: Packument, registry: string, version?: string): Promise<Packument | string> {
    if (packument.kind === 'full') return Promise.resolve(packument);
    const key = JSON.stringify([registry, packument.name]);
    let known = fullDocuments.get(key);
    if (known === undefined) {
      known = options.client.getPackument(packument.name, { registry, ...(version !== undefined ? { version } : {}), full: true }).catch((error: unknown) => reasonOf(error));
      fullDocuments.set(key, known);
    }
    return known;
  }

  /**
   * The releases of `version`'s line that claim provenance and were published before it, by the registry's `time`
   * (newest first; a claim without a readable time counts as before it), with the full document they were read from;
   * a string when that cannot be told.
   */
  async function publishedBefore(name: string, version: string, registry: string, packument: Packument): Promise<{ claims: string[]; packument: Packument } | string> {
    const full = await fullDocument(packument, registry, version);
    if (typeof full === 'string') return full;
    const at = Date.parse(full.time.get(version) ?? '');
    if (Number.isNaN(at)) return `the registry gives no readable publish time for ${name}@${version}`;
    const twin = sameVersionOtherEntry(version);
    const notAfter = (c: string) => !(Date.parse(full.time.get(c) ?? '') >= at);
    const claims = [...earlierClaims(full, version).filter((c) => !twin(c) || notAfter(c)), ...laterClaims(full, version).filter(notAfter)];
    return { claims: claims.sort((a, b) => semver.rcompare(a, b)), packument: full };
  }

  /**
   * `claims` without the other entries of `version` itself (build metadata only: `3.0.0+evil` beside `3.0.0`)
   * published at or after it, by the registry's `time`, with the full document read; a string when the publish time
   * of this version or of such a twin that claims provenance cannot be read (which came first cannot be told: counting
   * the twin as earlier would name it, maybe the attacker's, as the release to pin). Of two entries of one
   * version, the first published is the line's: the attacker's later twin, from their own repository, must not make
   * the release it copies a downgrade (fourteenth wave), and is still compared with that release.
   */
  async function withoutLaterTwins(name: string, version: string, registry: string, packument: Packument, claims: readonly string[]): Promise<{ claims: string[]; packument: Packument } | string> {
    const full = await fullDocument(packument, registry, version);
    if (typeof full === 'string') return full;
    const twin = sameVersionOtherEntry(version);
    const all = earlierClaims(full, version);
    const at = Date.parse(full.time.get(version) ?? '');
    const undated = Number.isNaN(at) ? version : all.find((c) => twin(c) && Number.isNaN(Date.parse(full.time.get(c) ?? '')));
    if (undated !== undefined) {
      const other = undated === version ? claims.find(twin) : undated;
      return `the registry gives no readable publish time for ${name}@${undated}, and ${name}@${version} and ${name}@${other} are entries of the same version (build metadata only) that claim provenance: which of them came first cannot be told`;
    }
    return { claims: all.filter((c) => !twin(c) || Date.parse(full.time.get(c) ?? '') < at), packument: full };
  }

  /**
   * The claims of a line longer than LINE_HISTORY that are compared (newest first): the newest by semver and the
   * line's FIRST_RELEASES first published, read from the full document (which alone has publish times); a string when
   * that cannot be told. Past 256 releases by an attacker, the newest alone would all be theirs.
   */
  async function longLine(claims: readonly string[], packument: Packument, registry: string): Promise<{ claims: string[]; packument: Packument } | string> {
    const full = await fullDocument(packument, registry);
    if (typeof full === 'string') return full;
    const first = claims
      .map((claim) => ({ claim, at: Date.parse(full.time.get(claim) ?? '') }))
      .filter(({ claim, at }) => !Number.isNaN(at) && full.versions.has(claim))
      .sort((a, b) => a.at - b.at)
      .slice(0, FIRST_RELEASES)
      .map(({ claim }) => claim);
    if (first.length === 0) return `the registry gives no readable publish time for the ${claims.length} releases of ${packument.name}'s line that claim provenance`;
    const compared = new Set([...claims.slice(0, LINE_HISTORY - FIRST_RELEASES), ...first]);
    return { claims: claims.filter((claim) => compared.has(claim)), packument: full };
  }

  /**
   * Whether every provenance bundle of a release claims `identity`'s repository, read from the certificates and
   * verifying nothing (claimedBuilders): such a release shows no move whether it verifies or not. False when its
   * attestations cannot be fetched or read (the caller verifies, which says why). The document, for that verification.
   */
  async function claimsOnly(identity: PublisherIdentity, name: string, version: string, registry: string): Promise<{ same: boolean; document: Promise<unknown> }> {
    const document = options.client.getAttestations(name, version, registry);
    const claims = claimedBuilders(await document.catch(() => undefined));
    return { same: claims !== undefined && claims.every((claim) => sameRepository(identity, claim)), document };
  }

  /**
   * Whether a release of `current`'s line above it by semver claims provenance from another repository (or a claim
   * that cannot be read): only then can a later version by semver be part of its past that shows a move. Each claim is
   * read, not verified (as downgradeOf reads earlier ones); a line of one repository costs no full document.
   */
  async function laterMayBeMoved(current: ProvenanceEvidence, version: string, packument: Packument, registry: string): Promise<boolean> {
    if (current.status !== 'verified') return false;
    const later = laterClaims(packument, version);
    // More than can be read: its past is read by publish time (the caller's next step), never taken as unmoved.
    if (later.length > LINE_HISTORY) return true;
    const moved = await Promise.all(
      later.map(async (candidate) => !(await claimsOnly(current.identity, packument.name, candidate, registry)).same),
    );
    return moved.includes(true);
  }

  /**
   * Compares this version with the earlier versions of its line whose provenance verifies; a string when undecidable.
   * Without verified provenance of its own: against the newest one that verifies, however many newer claims do not (a
   * few that do not verify must not hide the line's provenance). Built from a repository: against every one, since an earlier release from the same repository may
   * be the attacker's own — a line acme built stays acme's, however many releases another repository has published
   * since. Past LINE_HISTORY claims: the newest and the line's first published (longLine).
   */
  async function downgradeOf(current: ProvenanceEvidence, version: string, claims: readonly string[], packument: Packument, registry: string): Promise<ProvenanceDowngrade | string | undefined> {
    if (current.status === 'unavailable') return `cannot tell whether it is a provenance downgrade: ${current.reason}`;
    const everyOne = current.status === 'verified';
    if (claims.length > LINE_HISTORY) {
      const window = await longLine(claims, packument, registry);
      if (typeof window === 'string') return `cannot tell whether it is a provenance downgrade: ${window}`;
      ({ claims, packument } = window);
    }
    // One at a time, the next claims' attestations are fetched ahead (a line of hundreds of claims that do not verify
    // was one round trip after another: thirteenth wave).
    const ahead = new Map<string, Promise<unknown>>();
    const fetchAhead = (from: number) => {
      for (const claim of claims.slice(from, from + FETCH_AHEAD)) {
        const integrity = packument.versions.get(claim)?.dist.integrity;
        if (ahead.has(claim) || integrity === undefined || verifications.has(verificationKey(packument.name, claim, registry, integrity))) continue;
        const document = options.client.getAttestations(packument.name, claim, registry);
        document.catch(() => undefined);
        ahead.set(claim, document);
      }
    };
    const evidenceOf = async (earlier: string): Promise<ProvenanceEvidence | undefined> => {
      const integrity = packument.versions.get(earlier)?.dist.integrity;
      if (integrity === undefined) return undefined;
      if (current.status === 'verified' && !verifications.has(verificationKey(packument.name, earlier, registry, integrity))) {
        // Only a release verified as built by another repository is a move (~14 ms a bundle to verify, and a line
        // may hold hundreds): one whose every bundle claims this repository is not verified.
        const read = await claimsOnly(current.identity, packument.name, earlier, registry);
        return read.same ? undefined : verify(packument.name, earlier, registry, integrity, read.document);
      }
      return verify(packument.name, earlier, registry, integrity, ahead.get(earlier));
    };
    // Every one compared: fetched together (each once per decision). Otherwise one at a time, until one verifies.
    const started = everyOne ? claims.map(evidenceOf) : undefined;
    for (const [i, earlier] of claims.entries()) {
      if (started === undefined) fetchAhead(i);
      const evidence = await (started !== undefined ? started[i] : evidenceOf(earlier));
      if (evidence === undefined) continue;
      if (evidence.status === 'unavailable') return `cannot check the provenance of the earlier ${packument.name}@${earlier}: ${evidence.reason}`;
      // A claim that does not verify is no evidence either way: try the next earlier one.
      if (evidence.status !== 'verified') continue;
      const repository = evidence.identity.repository;
      if (current.status === 'verified' && sameRepository(current.identity, evidence.identity)) continue;
      if (await publishedAfter(packument, registry, version, earlier)) continue;
      switch (current.status) {
        case 'verified':
          return { earlier, repository, now: { repository: current.identity.repository } };
        case 'missing':
          return { earlier, repository, now: 'none' };
        case 'invalid':
          return { earlier, repository, now: 'invalid' };
        case 'root-stale':
          return { earlier, repository, now: 'unverifiable' };
      }
    }
    return undefined;
  }

  /**
   * Whether `earlier` was published after `version` (the registry's `time`, from the full document, both readable):
   * then it is not `version`'s past, and a move there cannot make `version` a downgrade. Otherwise the attacker's
   * `3.0.1`, published from their own repository after acme's 3.1.0, made 3.1.0 (installed everywhere) a refusal.
   * Asked only of a release that would be a move; a time that cannot be read keeps it in the past (a refusal).
   */
  async function publishedAfter(packument: Packument, registry: string, version: string, earlier: string): Promise<boolean> {
    const full = await fullDocument(packument, registry, version);
    if (typeof full === 'string') return false;
    const at = Date.parse(full.time.get(version) ?? '');
    const then = Date.parse(full.time.get(earlier) ?? '');
    return !Number.isNaN(at) && !Number.isNaN(then) && then > at;
  }

  const notices: string[] = [];
  for (const [registry, count] of asked) {
    if (count.versions >= 2 && count.missing === count.versions) {
      notices.push(
        `${registry} served no provenance attestations for any of the ${count.versions} versions Portcullis asked about: a mirror or proxy that strips them looks like this. Versions whose provenance is required are refused (PROVENANCE_MISSING); point the project at a registry that passes attestations through`,
      );
    }
  }
  return { provenance, downgrades, publisherChanges, unavailable, notices };
}
