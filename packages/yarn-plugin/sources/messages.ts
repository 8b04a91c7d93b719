/**
 * How Portcullis speaks inside Yarn: which Yarn message code each kind of block uses (stable; all exist
 * since Yarn 4.0), and findings whose fix names the Yarn command.
 */
import type { Finding } from '@portcullis/core';
import type { MessageName } from '@yarnpkg/core';

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

/** The finding with its fix spelled as the Yarn command (`yarn portcullis approve …`). */
export function forYarn(finding: Finding): Finding {
  return finding.fix.startsWith('portcullis ') ? { ...finding, fix: `yarn ${finding.fix}` } : finding;
}

/** One line for Yarn's report: code, message, fix. */
export function findingLine(finding: Finding): string {
  const f = forYarn(finding);
  return `portcullis ${f.code}: ${f.message}. Fix: ${f.fix}`;
}
