/** Text of an install-time gate: the findings that abort an install, and the notice for skipped builds. */
import { approveCommand } from '../evaluation/build-plan.js';
import type { Finding } from '../finding.js';

/** One line per finding, then its fix: the body of an install-abort message. */
export function formatFindingLines(findings: readonly Finding[]): string {
  return findings.map((f) => `  ${f.code}  ${f.message}\n    fix: ${f.fix}`).join('\n');
}

/** The one notice for builds the policy skipped, with the command that approves them all. */
export function formatSkippedScripts(skipped: readonly Finding[]): string {
  const who = [...new Set(skipped.map((f) => `${f.package}@${f.version}`))].sort();
  return `portcullis: skipped the install scripts of ${who.join(', ')} (not in scripts.allow of portcullis.json). To allow: ${approveCommand(skipped)}`;
}
