/** The human report: grouped by rule and code, with the exact fix under each finding. */
import type { Finding, FindingCode } from '../finding.js';
import type { CheckResult } from './result.js';
import { findingsHeadline } from './notices.js';
import { summarize } from './result.js';

const TITLES: Record<FindingCode, string> = {
  SCRIPT_NOT_ALLOWED: 'Install scripts not allowed by the policy',
  SCRIPT_CHANGED: 'Install scripts changed since they were approved',
  UNSIGNED: 'No registry signature',
  BAD_SIGNATURE: 'Registry signature does not verify',
  UNKNOWN_KEY: 'Signed by a key that is not trusted',
  KEY_EXPIRED: 'Signed by an expired key',
  UNTRUSTED_REGISTRY: 'Registry has no trusted keys',
  UNSIGNED_SOURCE: 'Not from a registry, so unsigned',
  METADATA_UNAVAILABLE: 'Could not decide (metadata unavailable)',
  INTEGRITY_MISSING: 'Lockfile does not pin the bytes (no integrity)',
  PROVENANCE_MISSING: 'No provenance where the policy requires it',
  PROVENANCE_INVALID: 'Provenance does not verify or does not match',
  PUBLISHER_MISMATCH: 'Built by another publisher than the policy pins',
  PROVENANCE_DOWNGRADE: 'Provenance downgrade on a release line',
  RELEASE_TOO_NEW: 'Published too recently (cooldown)',
  KNOWN_MALICIOUS: 'Known malicious (advisory)',
  TRUST_ROOT_STALE: 'Sigstore trusted root is out of date',
};

export interface TextStyle {
  color: boolean;
}

/** Formats a check result for a terminal; colour only when asked (a TTY that allows it). */
export function formatText(result: CheckResult, style: TextStyle = { color: false }): string {
  const paint = (code: number, s: string) => (style.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const bold = (s: string) => paint(1, s);
  const red = (s: string) => paint(31, s);
  const green = (s: string) => paint(32, s);
  const yellow = (s: string) => paint(33, s);
  const dim = (s: string) => paint(2, s);

  const lines: string[] = [];
  const where = `${result.lockfile.path} (policy: ${result.policy ?? 'defaults, no portcullis.json'})`;
  const summary = summarize(result);
  if (result.findings.length === 0) {
    lines.push(`${green('✓')} portcullis: all ${result.packages} packages allowed — ${where}`);
    return `${lines.join('\n')}\n`;
  }

  // The first line is the one that matters: which package, why, and (for one) the exact fix.
  lines.push(`${red('✗')} ${bold(`portcullis: ${summary.blocked} of ${result.packages} packages blocked`)}: ${findingsHeadline(result.findings)}`);
  lines.push(`  ${dim(where)}`);
  for (const notice of result.notices) lines.push('', `${yellow('!')} ${notice}`);

  // A registry that strips every signature is one problem, already stated in its notice: list its
  // packages on one line instead of repeating the same finding N times.
  const stripped = new Set(result.strippedRegistries ?? []);
  const strippedFindings = result.findings.filter((f) => f.code === 'UNSIGNED' && f.registry !== undefined && stripped.has(f.registry));
  if (strippedFindings.length > 0) {
    lines.push(`  ${dim(`UNSIGNED (${strippedFindings.length}):`)} ${strippedFindings.map((f) => `${f.package}@${f.version}`).join(', ')}`);
  }

  const groups = new Map<FindingCode, Finding[]>();
  for (const f of result.findings) {
    if (strippedFindings.includes(f)) continue;
    const group = groups.get(f.code);
    if (group) group.push(f);
    else groups.set(f.code, [f]);
  }
  for (const [code, findings] of groups) {
    lines.push('', `${bold(TITLES[code])} ${dim(`[${code}, rule: ${findings[0]!.rule}]`)}`);
    for (const f of findings) {
      lines.push(`  ${red('✗')} ${bold(`${f.package}@${f.version}`)}`);
      lines.push(`    ${f.message}`);
      lines.push(`    ${dim('fix:')} ${f.fix}`);
    }
  }
  lines.push('', dim(`exit code ${result.exitCode}: ${result.exitCode === 3 ? 'could not decide (fail closed)' : 'policy violations'}`));
  return `${lines.join('\n')}\n`;
}
