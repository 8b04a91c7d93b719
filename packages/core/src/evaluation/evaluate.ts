/**
 * The deciding core: policy + packages + evidence → findings. Pure: no I/O, no clock, no globals,
 * so every rule is a one-line unit test.
 */
import type { Finding } from '../finding.js';
import { isOwnCode, type PackageNode } from '../model.js';
import { noDowngradeApplies, provenanceRequired, publisherFor } from '../policy/provenance.js';
import { createSpecMatcher, specMatches } from '../policy/spec.js';
import type { Policy, PublisherPin } from '../policy/types.js';
import type { Evidence, ProvenanceEvidence, PublisherIdentity, SignatureEvidence } from './evidence.js';
import { recordedIn } from '../policy/fingerprint.js';
import { driftFinding } from './drift.js';
import { findingFor } from './messages.js';
import { compareText } from './order.js';


/**
 * Whether the policy lets a copy run install-time code. A bundled copy's bytes were chosen by the package
 * that bundles it, not by the registry's package of that name: its bundler must be allowed too, or a
 * bundle could pose as an allowed package (`esbuild@1.0.0` inside `evil`).
 */
export function scriptsMayRun(allowed: (name: string, version: string) => unknown, pkg: Pick<PackageNode, 'name' | 'version' | 'bundledBy'>): boolean {
  if (!allowed(pkg.name, pkg.version)) return false;
  return pkg.bundledBy === undefined || Boolean(allowed(pkg.bundledBy.name, pkg.bundledBy.version));
}

/** Evaluates every package against the policy; returns findings sorted by package, then code. */
export function evaluate(policy: Policy, packages: readonly PackageNode[], evidence: Evidence): Finding[] {
  const scriptsAllowed = createSpecMatcher(policy.scripts.allow);
  const unsignedAllowed = createSpecMatcher(policy.signatures.allowUnsigned);
  const findings: Finding[] = [];
  const recorded = recordedIn(policy);
  const entryFor = (name: string, version: string) => scriptsAllowed(name, version)?.raw;

  const cooldownExcluded = createSpecMatcher(policy.cooldown.exclude);
  for (const pkg of packages) {
    if (isOwnCode(pkg)) continue;
    // Known bad is known bad, whatever else is known or allowed: nothing waives it.
    const advisories = evidence.advisories?.get(pkg.id);
    if (advisories !== undefined && advisories.length > 0) findings.push(findingFor(pkg, { code: 'KNOWN_MALICIOUS', advisories }));
    const unavailable = evidence.unavailable.get(pkg.id);
    if (unavailable !== undefined) {
      // Fail closed: without metadata we can decide neither rule.
      const unreadable = evidence.unreadable?.get(pkg.id);
      findings.push(findingFor(pkg, { code: 'METADATA_UNAVAILABLE', reason: unavailable, ...(unreadable !== undefined ? { unreadable } : {}) }));
      continue;
    }

    const scripts = evidence.scripts.get(pkg.id);
    if (scripts === undefined && pkg.source === 'registry' && pkg.hasInstallScript === undefined) {
      findings.push(findingFor(pkg, { code: 'METADATA_UNAVAILABLE', reason: 'no script information was gathered' }));
      continue;
    }
    const runsAtInstall = scripts ? scripts.hasInstallScript || scripts.bindingGyp : pkg.hasInstallScript === true;
    // A patch pnpm applies before building it may give it install-time code its own files lack (unread: it may).
    // Patched: the lockfile records a patch for it, or the project's settings name one (decider/patches.ts).
    const patch = evidence.patches?.get(pkg.id) ?? (pkg.patches === undefined || pkg.patches.length === 0 ? undefined : { mayAddScripts: true, reason: 'its patch was not read' });
    const patched = patch?.mayAddScripts === true ? { patch: patch.reason } : {};
    if ((runsAtInstall || patch?.mayAddScripts === true) && !scriptsMayRun(scriptsAllowed, pkg)) {
      findings.push(findingFor(pkg, { code: 'SCRIPT_NOT_ALLOWED', scripts: scripts?.scripts ?? [], bindingGyp: scripts?.bindingGyp ?? false, ...patched }));
    } else if (runsAtInstall) {
      // Allowed by a range or a name: it must still run what was reviewed when it was approved.
      const drift = driftFinding(policy, pkg, scripts, recorded, entryFor);
      if (drift !== null) findings.push(drift);
    }

    const bundled = pkg.inBundle === true && evidence.notBundled?.has(pkg.id) !== true;
    // Like a signature, provenance vouches for a registry tarball: a bundled copy's bytes are its parent's (and so is its age).
    if (pkg.source === 'registry' && !bundled) {
      findings.push(...provenanceFindings(policy, pkg, evidence));
      const cooldown = cooldownFinding(policy, pkg, evidence, cooldownExcluded);
      if (cooldown !== null) findings.push(cooldown);
    }

    if (policy.signatures.require === 'off') continue;
    const signature = bytesUnpinned(pkg, bundled) ? findingFor(pkg, { code: 'INTEGRITY_MISSING' }) : signatureFinding(pkg, evidence.signatures.get(pkg.id), bundled);
    if (signature === null) continue;
    // allowUnsigned accepts a missing or unusable signature, never one that fails to verify.
    if (signature.code !== 'BAD_SIGNATURE' && unsignedAllowed(pkg.name, pkg.version)) continue;
    findings.push(signature);
  }

  return findings.sort((a, b) => compareText(a.package, b.package) || compareText(a.version, b.version) || compareText(a.code, b.code));
}

/**
 * The cooldown for one registry version: younger than cooldown.minimumReleaseAge (by the registry's publish time) is
 * RELEASE_TOO_NEW; an unknown or unreadable publish time is never "old enough". `exclude` and an unexpired exception waive it.
 */
function cooldownFinding(policy: Policy, pkg: PackageNode, evidence: Evidence, excluded: (name: string, version: string) => unknown): Finding | null {
  const limit = policy.cooldown.minimumReleaseAge;
  if (limit === null || excluded(pkg.name, pkg.version)) return null;
  const now = evidence.now;
  const undecided = (reason: string) => findingFor(pkg, { code: 'METADATA_UNAVAILABLE', reason, rule: 'cooldown' });
  if (now === undefined) return undecided('the time of the decision is unknown, so its age cannot be told');
  if (policy.cooldown.exceptions.some((e) => specMatches(e.spec, pkg.name, pkg.version) && Date.parse(e.until) > now)) return null;
  const published = evidence.published?.get(pkg.id);
  if (published === undefined) return undecided('its publish time was not checked');
  const at = published === null ? Number.NaN : Date.parse(published);
  if (Number.isNaN(at)) return undecided('the registry gives no readable publish time for it, so its age is unknown');
  const ageMs = now - at;
  if (ageMs >= limit.ms) return null;
  return findingFor(pkg, { code: 'RELEASE_TOO_NEW', published: new Date(at).toISOString(), ageMs: Math.max(0, ageMs), limit: limit.raw, installableAt: new Date(at + limit.ms).toISOString() });
}

/**
 * The provenance rule for one registry package. Required (provenance.require or a publishers pin): anything but
 * verified provenance from the pinned publisher is a finding, and no answer at all fails closed. Not required:
 * only a verified downgrade of its release line counts (a bundle that does not verify proves nothing by itself).
 */
function provenanceFindings(policy: Policy, pkg: PackageNode, evidence: Evidence): Finding[] {
  const findings: Finding[] = [];
  if (provenanceRequired(policy, pkg.name, pkg.version)) {
    const required = requiredProvenanceFinding(policy, pkg, evidence.provenance?.get(pkg.id));
    if (required !== null) findings.push(required);
  }
  // A repository name this project saw with other immutable ids: re-registered by someone else. A publishers pin decides instead.
  const changed = evidence.publisherChanges?.get(pkg.id);
  const now = evidence.provenance?.get(pkg.id);
  if (changed !== undefined && now?.status === 'verified' && publisherFor(policy, pkg.name, pkg.version) === undefined) {
    const expected = { repository: changed.repository, workflow: now.identity.workflow, ...(changed.repositoryId !== undefined ? { repositoryId: changed.repositoryId } : {}), ...(changed.ownerId !== undefined ? { ownerId: changed.ownerId } : {}) };
    const differences = publisherDifferences(expected, now.identity);
    if (differences.length > 0) findings.push(findingFor(pkg, { code: 'PUBLISHER_MISMATCH', entry: pkg.name, expected, actual: now.identity, differences, remembered: true }));
  }
  const downgrade = evidence.downgrades?.get(pkg.id);
  if (downgrade !== undefined && noDowngradeApplies(policy, pkg.name, pkg.version)) {
    const current = evidence.provenance?.get(pkg.id);
    if (downgrade.now === 'unverifiable') {
      // An earlier version verified, and this one's bundle names a log or CA the trusted root does not know: it cannot
      // be judged until the root is updated — a stale root, never reported as a forgery (once, if required already said it).
      if (!findings.some((f) => f.code === 'TRUST_ROOT_STALE')) {
        const reason = current?.status === 'root-stale' ? current.reason : 'its provenance names a transparency log or certificate authority the trusted root does not list';
        findings.push(findingFor(pkg, { code: 'TRUST_ROOT_STALE', reason: `${reason} (and the earlier ${pkg.name}@${downgrade.earlier} had verified provenance, so it must be checked)`, trustedRoot: policy.provenance.trustedRoot }));
      }
    } else {
      findings.push(findingFor(pkg, { code: 'PROVENANCE_DOWNGRADE', earlier: downgrade.earlier, repository: downgrade.repository, now: downgrade.now }));
    }
  }
  return findings;
}

function requiredProvenanceFinding(policy: Policy, pkg: PackageNode, evidence: ProvenanceEvidence | undefined): Finding | null {
  const rule = publisherFor(policy, pkg.name, pkg.version);
  const because = rule !== undefined ? { list: 'publishers' as const, entry: rule.spec.raw } : { list: 'require' as const, entry: policy.provenance.require.find((spec) => specMatches(spec, pkg.name, pkg.version, 'requires'))?.raw ?? pkg.name };
  if (evidence === undefined) return findingFor(pkg, { code: 'METADATA_UNAVAILABLE', reason: 'its provenance was not checked', rule: 'provenance' });
  switch (evidence.status) {
    case 'verified': {
      if (rule === undefined) return null;
      const differences = publisherDifferences(rule.publisher, evidence.identity);
      return differences.length === 0 ? null : findingFor(pkg, { code: 'PUBLISHER_MISMATCH', entry: rule.spec.raw, expected: rule.publisher, actual: evidence.identity, differences });
    }
    case 'missing':
      return findingFor(pkg, { code: 'PROVENANCE_MISSING', ...because });
    case 'invalid':
      return findingFor(pkg, { code: 'PROVENANCE_INVALID', reason: evidence.reason });
    case 'root-stale':
      return findingFor(pkg, { code: 'TRUST_ROOT_STALE', reason: evidence.reason, trustedRoot: policy.provenance.trustedRoot });
    case 'unavailable':
      return findingFor(pkg, { code: 'METADATA_UNAVAILABLE', reason: `its provenance attestations could not be fetched: ${evidence.reason}`, rule: 'provenance' });
    default:
      // A status this evaluator does not know is never an allow.
      return findingFor(pkg, { code: 'METADATA_UNAVAILABLE', reason: `unexpected provenance result "${(evidence as { status: string }).status}"`, rule: 'provenance' });
  }
}

/**
 * The fields where the certificate's identity differs from the pin: repository whole and case-insensitively,
 * workflow exactly, the numeric ids exactly when the pin has them (a certificate without them then differs).
 */
export function publisherDifferences(pin: PublisherPin, identity: PublisherIdentity): Array<'repository' | 'workflow' | 'repositoryId' | 'ownerId'> {
  const out: Array<'repository' | 'workflow' | 'repositoryId' | 'ownerId'> = [];
  if (typeof identity.repository !== 'string' || asciiLower(identity.repository) !== asciiLower(pin.repository)) out.push('repository');
  if (identity.workflow !== pin.workflow) out.push('workflow');
  if (pin.repositoryId !== undefined && identity.repositoryId !== pin.repositoryId) out.push('repositoryId');
  if (pin.ownerId !== undefined && identity.ownerId !== pin.ownerId) out.push('ownerId');
  return out;
}

/** Lower-cases A–Z only: Unicode case folding maps other letters onto ASCII (`\u212A`, the Kelvin sign, to `k`). */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * A registry package whose lockfile entry records no integrity: the package manager installs whatever it is
 * served, so a signature over the registry's own claim would vouch for bytes nobody pinned.
 */
function bytesUnpinned(pkg: PackageNode, bundled: boolean): boolean {
  return pkg.source === 'registry' && !bundled && pkg.integrity === undefined && pkg.integrityCheckedOnDownload !== true;
}

function signatureFinding(pkg: PackageNode, evidence: SignatureEvidence | undefined, bundled: boolean): Finding | null {
  // A bundled dependency's bytes are inside its parent's tarball, which the parent's signature covers.
  if (bundled) return null;
  if (pkg.source !== 'registry') return findingFor(pkg, { code: 'UNSIGNED_SOURCE' });
  if (evidence === undefined) return findingFor(pkg, { code: 'METADATA_UNAVAILABLE', reason: 'its signatures were not checked' });
  switch (evidence.status) {
    case 'verified':
      return null;
    case 'unsigned':
      return findingFor(pkg, { code: 'UNSIGNED' });
    case 'bad-signature':
      return findingFor(pkg, { code: 'BAD_SIGNATURE', keyid: evidence.keyid });
    case 'unknown-key':
      return findingFor(pkg, { code: 'UNKNOWN_KEY', keyid: evidence.keyid });
    case 'key-expired':
      return findingFor(pkg, { code: 'KEY_EXPIRED', keyid: evidence.keyid, expires: evidence.expires, published: evidence.published });
    case 'untrusted-registry':
      return findingFor(pkg, { code: 'UNTRUSTED_REGISTRY' });
    case 'unavailable':
      return findingFor(pkg, { code: 'METADATA_UNAVAILABLE', reason: evidence.reason });
    default:
      // A status this evaluator does not know is never an allow.
      return findingFor(pkg, { code: 'METADATA_UNAVAILABLE', reason: `unexpected verification result "${(evidence as { status: string }).status}"` });
  }
}

/** Exit code for a set of findings: 3 if anything could not be decided, 1 for violations, else 0. */
export function exitCodeFor(findings: readonly Finding[]): 0 | 1 | 3 {
  if (findings.some((f) => f.code === 'METADATA_UNAVAILABLE')) return 3;
  return findings.length > 0 ? 1 : 0;
}
