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
 * When Yarn is stopped: after its resolution (`resolved`, the verdict on every package), or while it resolves, just
 * before it fetches a dependency whose fetch runs that dependency's code (`fetching`).
 */
export type Stage = 'resolved' | 'fetching';

/** What a refusal can truthfully say was not done yet, at each stage. */
const STOPPED: Record<Stage, string> = {
  // Yarn downloads a tarball-URL dependency, and packs a git dependency the policy allows, while it resolves.
  resolved:
    'the install stopped before its fetch step: nothing was linked or built (while it resolves, Yarn downloads only tarball-URL dependencies, and packs only the git dependencies portcullis.json allows)',
  fetching: 'the install stopped before Yarn fetched it: none of its code ran',
};

/**
 * Reports a verdict on Yarn's report: its notices, and either the error that aborts the install (every blocking
 * finding on its own line first) or the warning for skipped builds.
 */
export function reportVerdict(verdict: Told, report: Pick<Report, 'reportInfo' | 'reportError' | 'reportWarning'>, stage: Stage = 'resolved'): void {
  for (const notice of verdict.notices) report.reportInfo(null, `portcullis: ${notice}`);
  if (verdict.blocking.length > 0) {
    for (const finding of verdict.blocking) report.reportError(codeOf(finding), findingLine(finding));
    throw refusal(verdict, stage);
  }
  if (verdict.skippedNotice !== undefined) report.reportWarning(YarnCode.scripts, verdict.skippedNotice);
}

/** The ReportError that aborts an install for a verdict that blocks. */
export function refusal(verdict: Told, stage: Stage = 'resolved'): ReportError {
  const undecided = verdict.exitCode === 3;
  const stopped = STOPPED[stage];
  const trust = verdict.blocking.filter((f) => f.code !== 'SCRIPT_NOT_ALLOWED');
  if (trust.length > 0) {
    const packages = new Set(trust.map((f) => `${f.package}@${f.version}`)).size;
    const rules = [...new Set(trust.map((f) => f.rule))].join(', ');
    return new ReportError(
      undecided ? YarnCode.undecided : trust.every((f) => f.rule === 'scripts') ? YarnCode.scripts : YarnCode.signatures,
      undecided
        ? `portcullis: ${packages} package(s) could not be decided on (fail closed); ${stopped}`
        : `portcullis: ${packages} package(s) failed the ${rules} rule${rules.includes(',') ? 's' : ''} of portcullis.json; ${stopped}`,
    );
  }
  return new ReportError(
    YarnCode.scripts,
    `portcullis: ${verdict.blocking.length} package(s) want to run install scripts that scripts.allow does not cover, and would run them (a git dependency runs its scripts when Yarn packs it; anything else only in strict mode: portcullisStrict or PORTCULLIS_STRICT_SCRIPTS); ${stopped}`,
  );
}

/** A verified registry package whose bytes Yarn took while it resolved, which are not (or not known to be) the ones signed. */
export interface UnverifiedDownload {
  package: string;
  url: string;
  expected: string;
  /** The digest of what was downloaded (algorithm of `expected`), or null when Yarn downloaded nothing (its cache). */
  actual: string | null;
}

/**
 * The ReportError for tarballs Yarn downloaded while it resolved that are not (or, taken from its cache, not known to
 * be) the bytes the registry signed: one line each, then the abort.
 */
export function downloadRefusal(unverified: readonly UnverifiedDownload[], report: Pick<Report, 'reportError'>): ReportError {
  for (const u of unverified) {
    report.reportError(
      u.actual === null ? YarnCode.undecided : YarnCode.tarball,
      u.actual === null
        ? `portcullis METADATA_UNAVAILABLE: ${u.package} was resolved from its tarball URL (${u.url}), and Yarn took that tarball from its cache instead of downloading it, so it cannot be compared with the integrity the registry signed (${u.expected}). Fix: remove Yarn's cached copies (yarn cache clean --all) and install again; or depend on it by version instead of by URL`
        : `portcullis BAD_SIGNATURE: the tarball Yarn downloaded for ${u.package} while it resolved (${u.url}) is not the one the registry signed (it has ${u.actual}, the signature covers ${u.expected}). Fix: do not install it; remove Yarn's cached copies (yarn cache clean --all) and report the registry or mirror that served it`,
    );
  }
  const bad = unverified.some((u) => u.actual !== null);
  return new ReportError(
    bad ? YarnCode.tarball : YarnCode.undecided,
    `portcullis: ${unverified.length} tarball(s) Yarn took while it resolved are not known to be the ones the registry signed; ${STOPPED.resolved}`,
  );
}

/** A portcullis.json that cannot be used aborts the command with its file, line and column. */
export function policyRefusal(message: string): ReportError {
  return new ReportError(YarnCode.policy, `portcullis: ${message}`);
}
