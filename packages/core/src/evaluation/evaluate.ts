/**
 * The deciding core: policy + packages + evidence → findings. Pure: no I/O, no clock, no globals,
 * so every rule is a one-line unit test.
 */
import type { Finding } from '../finding.js';
import { isOwnCode, type PackageNode } from '../model.js';
import { createSpecMatcher } from '../policy/spec.js';
import type { Policy } from '../policy/types.js';
import type { Evidence, SignatureEvidence } from './evidence.js';
import { findingFor } from './messages.js';


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

  for (const pkg of packages) {
    if (isOwnCode(pkg)) continue;
    const unavailable = evidence.unavailable.get(pkg.id);
    if (unavailable !== undefined) {
      // Fail closed: without metadata we can decide neither rule.
      findings.push(findingFor(pkg, { code: 'METADATA_UNAVAILABLE', reason: unavailable }));
      continue;
    }

    const scripts = evidence.scripts.get(pkg.id);
    if (scripts === undefined && pkg.source === 'registry' && pkg.hasInstallScript === undefined) {
      findings.push(findingFor(pkg, { code: 'METADATA_UNAVAILABLE', reason: 'no script information was gathered' }));
      continue;
    }
    const runsAtInstall = scripts ? scripts.hasInstallScript || scripts.bindingGyp : pkg.hasInstallScript === true;
    if (runsAtInstall && !scriptsMayRun(scriptsAllowed, pkg)) {
      findings.push(findingFor(pkg, { code: 'SCRIPT_NOT_ALLOWED', scripts: scripts?.scripts ?? [], bindingGyp: scripts?.bindingGyp ?? false }));
    }

    if (policy.signatures.require === 'off') continue;
    const bundled = pkg.inBundle === true && evidence.notBundled?.has(pkg.id) !== true;
    const signature = bytesUnpinned(pkg, bundled) ? findingFor(pkg, { code: 'INTEGRITY_MISSING' }) : signatureFinding(pkg, evidence.signatures.get(pkg.id), bundled);
    if (signature === null) continue;
    // allowUnsigned accepts a missing or unusable signature, never one that fails to verify.
    if (signature.code !== 'BAD_SIGNATURE' && unsignedAllowed(pkg.name, pkg.version)) continue;
    findings.push(signature);
  }

  return findings.sort((a, b) => a.package.localeCompare(b.package) || a.version.localeCompare(b.version) || a.code.localeCompare(b.code));
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
