/** The rule a finding comes from. */
export type Rule = 'scripts' | 'signatures' | 'provenance' | 'cooldown' | 'advisories';

/**
 * Stable finding codes. A closed union: add codes, never rename one (users and CI branch on them).
 * Documented one by one in docs/findings.md.
 */
export type FindingCode =
  | 'SCRIPT_NOT_ALLOWED'
  | 'UNSIGNED'
  | 'BAD_SIGNATURE'
  | 'UNKNOWN_KEY'
  | 'KEY_EXPIRED'
  | 'UNTRUSTED_REGISTRY'
  | 'UNSIGNED_SOURCE'
  | 'METADATA_UNAVAILABLE'
  | 'INTEGRITY_MISSING'
  | 'PROVENANCE_MISSING'
  | 'PROVENANCE_INVALID'
  | 'PUBLISHER_MISMATCH'
  | 'PROVENANCE_DOWNGRADE'
  | 'TRUST_ROOT_STALE'
  | 'RELEASE_TOO_NEW'
  | 'KNOWN_MALICIOUS'
  | 'SCRIPT_CHANGED';

export const FINDING_CODES: readonly FindingCode[] = [
  'SCRIPT_NOT_ALLOWED',
  'UNSIGNED',
  'BAD_SIGNATURE',
  'UNKNOWN_KEY',
  'KEY_EXPIRED',
  'UNTRUSTED_REGISTRY',
  'UNSIGNED_SOURCE',
  'METADATA_UNAVAILABLE',
  'INTEGRITY_MISSING',
  'PROVENANCE_MISSING',
  'PROVENANCE_INVALID',
  'PUBLISHER_MISMATCH',
  'PROVENANCE_DOWNGRADE',
  'TRUST_ROOT_STALE',
  'RELEASE_TOO_NEW',
  'KNOWN_MALICIOUS',
  'SCRIPT_CHANGED',
];

/** One blocked package: what happened, to which package, and the one thing that fixes it. */
export interface Finding {
  package: string;
  version: string;
  rule: Rule;
  code: FindingCode;
  /** Names the package and version and says what happened. */
  message: string;
  /** The one command or policy line that resolves it. */
  fix: string;
  /** Package id in the lockfile (for locating it in reports). */
  id?: string;
  /** Registry the package came from, when it did. */
  registry?: string;
}

/** Exit codes of every Portcullis surface (product contract). */
export const ExitCode = {
  Allowed: 0,
  Violations: 1,
  Usage: 2,
  Undecided: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
