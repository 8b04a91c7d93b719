/**
 * How Portcullis refuses inside Yarn: the Yarn message code each kind of block uses (stable; all exist since
 * Yarn 4.0), one report line per finding, and the ReportError that aborts the install for a verdict that blocks.
 */
import type { Finding, LockfileVerdict } from '@portcullis/core';

/** What Yarn is told of a verdict (a fresh one or one remembered). */
type Told = Pick<LockfileVerdict, 'notices' | 'blocking' | 'skippedNotice' | 'exitCode'>;
import { ReportError, type MessageName, type Report } from '@yarnpkg/core';

/** Yarn message codes Portcullis reports under (Yarn has no codes for plugins; these are the closest stable ones). */
export const YarnCode = {
  /** YN0082: a package fails the signature rule; the install aborts during resolution. */
  signatures: 82 as MessageName,
  /** YN0035: metadata needed to decide could not be fetched; fail closed. */
  undecided: 35 as MessageName,
  /** YN0005: install scripts blocked by `scripts.allow` (Yarn's own "build disabled through configuration"). */
  scripts: 5 as MessageName,
  /** YN0018: a downloaded tarball is not the one the registry signed. */
  tarball: 18 as MessageName,
  /** YN0067: portcullis.json is malformed. */
  policy: 67 as MessageName,
} as const;

/** One line for Yarn's report: code, message, fix (already spelled `yarn portcullis …` by the gate). */
export function findingLine(finding: Finding): string {
  return `portcullis ${finding.code}: ${finding.message}. Fix: ${finding.fix}`;
}

/** The Yarn code a finding is reported under. */
export function codeOf(finding: Finding): MessageName {
  return finding.code === 'METADATA_UNAVAILABLE' ? YarnCode.undecided : finding.rule === 'scripts' ? YarnCode.scripts : YarnCode.signatures;
}

/**
 * Reports a verdict on Yarn's report: its notices, and either the error that aborts the install (every blocking
 * finding on its own line first) or the warning for skipped builds.
 */
export function reportVerdict(verdict: Told, report: Pick<Report, 'reportInfo' | 'reportError' | 'reportWarning'>): void {
  for (const notice of verdict.notices) report.reportInfo(null, `portcullis: ${notice}`);
  if (verdict.blocking.length > 0) {
    for (const finding of verdict.blocking) report.reportError(codeOf(finding), findingLine(finding));
    throw refusal(verdict);
  }
  if (verdict.skippedNotice !== undefined) report.reportWarning(YarnCode.scripts, verdict.skippedNotice);
}

/** The ReportError that aborts an install for a verdict that blocks. */
export function refusal(verdict: Told): ReportError {
  const undecided = verdict.exitCode === 3;
  const trust = verdict.blocking.filter((f) => f.code !== 'SCRIPT_NOT_ALLOWED');
  if (trust.length > 0) {
    const packages = new Set(trust.map((f) => `${f.package}@${f.version}`)).size;
    const rules = [...new Set(trust.map((f) => f.rule))].join(', ');
    return new ReportError(
      undecided ? YarnCode.undecided : trust.every((f) => f.rule === 'scripts') ? YarnCode.scripts : YarnCode.signatures,
      undecided
        ? `portcullis: ${packages} package(s) could not be decided on (fail closed); the install stopped before fetching or running anything`
        : `portcullis: ${packages} package(s) failed the ${rules} rule${rules.includes(',') ? 's' : ''} of portcullis.json; the install stopped before fetching or running anything`,
    );
  }
  return new ReportError(YarnCode.scripts, `portcullis: ${verdict.blocking.length} package(s) want to run install scripts that scripts.allow does not cover (strict mode: portcullisStrict or PORTCULLIS_STRICT_SCRIPTS); nothing was fetched or run`);
}

/** A portcullis.json that cannot be used aborts the command with its file, line and column. */
export function policyRefusal(message: string): ReportError {
  return new ReportError(YarnCode.policy, `portcullis: ${message}`);
}
