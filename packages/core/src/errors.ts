import type { SourceLocation } from './model.js';

/** Codes of errors that stop Portcullis before it can decide; each maps to an exit code. */
export type PortcullisErrorCode =
  | 'POLICY_INVALID'
  | 'POLICY_NOT_FOUND'
  | 'LOCKFILE_INVALID'
  | 'LOCKFILE_NOT_FOUND'
  | 'USAGE'
  | 'METADATA_UNAVAILABLE'
  /** Advisory data the policy names cannot be read, so nothing can be said about known-bad versions. */
  | 'ADVISORIES_UNAVAILABLE'
  | 'INPUT_TOO_LARGE'
  /** The npm wrapper cannot be sure which project (folder and lockfile) npm will install. */
  | 'PROJECT_AMBIGUOUS'
  /** A repository policy loosens what the organisation policy it extends requires, or adds an allowance it does not delegate. */
  | 'POLICY_LOOSENED'
  /** The organisation policy package is not the one pinned, or not acceptable (dependencies, scripts, signature, tarball). */
  | 'ORGANISATION_POLICY_REFUSED'
  /** The package manager's store, whose files it installs without checking them against the lockfile's integrity, is inside the project's checkout. */
  | 'STORE_IN_CHECKOUT';

/** An error a user can act on: a stable code, one clear sentence, optionally where in which file. */
export class PortcullisError extends Error {
  readonly code: PortcullisErrorCode;
  readonly file?: string;
  readonly location?: SourceLocation;

  constructor(code: PortcullisErrorCode, message: string, where?: { file?: string; location?: SourceLocation }) {
    super(message);
    this.name = 'PortcullisError';
    this.code = code;
    if (where?.file !== undefined) this.file = where.file;
    if (where?.location !== undefined) this.location = where.location;
  }

  /** Exit code per the product contract: 3 when we could not decide, 2 for usage/configuration. */
  get exitCode(): 2 | 3 {
    return this.code === 'METADATA_UNAVAILABLE' || this.code === 'ADVISORIES_UNAVAILABLE' ? 3 : 2;
  }
}
