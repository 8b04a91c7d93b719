import type { RegistryKey, SourceLocation } from '../model.js';

/** A package selector from the policy: `name` (any version), `name@semver-range`, or `@scope/*` (every package of a scope). */
export interface PackageSpec {
  /** The entry as written, e.g. `sharp@^0.34.0`. */
  raw: string;
  /** The package name; `@scope/*` for a scope wildcard (never a valid package name, so exact lookups miss it). */
  name: string;
  /** The semver range, or null for any version (always null for a scope wildcard). */
  range: string | null;
  /** For `@scope/*`: the scope with its `@` (`@acme`); absent for a single package. */
  scope?: string;
  /** Where the entry stands in portcullis.json (absent for built-in defaults). */
  location?: SourceLocation;
  /** The policy file the entry came from (the repository's, or the organisation policy package's); absent for defaults. */
  source?: string;
}

/** Which keys a registry is trusted with: npm's embedded keys, or an explicit list. */
export type RegistryTrust = { keys: 'npm' } | { keys: RegistryKey[] };

/**
 * Who must have built a package, as pinned in `provenance.publishers`: compared only with its Fulcio certificate.
 * `repository` whole and case-insensitively, `workflow` exactly, the numeric ids exactly when present.
 */
export interface PublisherPin {
  /** `host/owner/repo` (`github.com/sigstore/sigstore-js`), as written. */
  repository: string;
  /** The workflow file's path in that repository (`.github/workflows/publish.yml`). */
  workflow: string;
  /** The repository's immutable numeric id (a rename keeps it; a re-registered name does not). */
  repositoryId?: string;
  /** The owner's immutable numeric id. */
  ownerId?: string;
}

/** One `provenance.publishers` entry: the spec it applies to (its key) and the pin. */
export interface PublisherRule {
  spec: PackageSpec;
  publisher: PublisherPin;
}

/** `extends`: the organisation policy package, pinned by exact version and integrity. */
export interface PolicyExtends {
  package: string;
  version: string;
  /** The tarball's SRI integrity (sha512), as pinned. */
  integrity: string;
  location?: SourceLocation;
}

/** The allowances an organisation policy lets a repository add, by key (`delegate`). */
export const DELEGABLE_KEYS = ['scripts.allow', 'signatures.allowUnsigned', 'provenance.allowDowngrade', 'provenance.trustedRoot', 'cooldown.exclude', 'cooldown.exceptions', 'registries'] as const;
export type DelegableKey = (typeof DELEGABLE_KEYS)[number];

/**
 * One delegation: `true` (any entry), or the entries a repository may add: package specs (an entry must fall
 * within one of them) or, for `registries`, registry URLs.
 */
export type Delegation = true | PackageSpec[] | string[];

/** Where a scalar setting was written: the file, and the place in it. */
export interface SettingOrigin {
  source: string;
  location?: SourceLocation;
}

/** A loaded, validated portcullis.json with defaults applied. */
export interface Policy {
  /** Absolute path of the file, or null when no file exists and the defaults apply. */
  file: string | null;
  /** The organisation policy this one extends (a repository policy only), or null. */
  extends: PolicyExtends | null;
  /** What an organisation policy delegates to the repositories that extend it (empty: nothing). */
  delegate: Partial<Record<DelegableKey, Delegation>>;
  /**
   * Scalar settings as written, by key (`signatures.require`, `cooldown.minimumReleaseAge`, `provenance.noDowngrade`,
   * `provenance.trustedRoot`, `registries.<url>`), with the file they came from; a default has no entry.
   */
  origins: Record<string, SettingOrigin>;
  /** Every policy file this one was merged from (the organisation's first); empty for the defaults. */
  sources: string[];
  scripts: {
    allow: PackageSpec[];
    /**
     * What install-time code each approved version ran when it was approved (`scripts.fingerprints`, written by
     * `portcullis approve`): a version a range or name approval covers must run the same, or it is SCRIPT_CHANGED.
     */
    fingerprints: RecordedFingerprint[];
  };
  signatures: {
    require: 'registry' | 'off';
    allowUnsigned: PackageSpec[];
  };
  /** Keyed by normalized registry URL (lower-case host, trailing slash). */
  registries: Record<string, RegistryTrust>;
  provenance: {
    /** Registry packages that must carry verified SLSA provenance. */
    require: PackageSpec[];
    /** Pinned publishers, in file order (each implies require). */
    publishers: PublisherRule[];
    /** Whether a version losing the verified provenance of its release line is refused (default true). */
    noDowngrade: boolean;
    /** Exceptions to noDowngrade. */
    allowDowngrade: PackageSpec[];
    /** Absolute path of the Sigstore trusted_root.json to verify with, or null for the one Portcullis ships. */
    trustedRoot: string | null;
  };
  /** Release-age cooldown: versions younger than this are refused (RELEASE_TOO_NEW). */
  cooldown: {
    /** The minimum age as written (`"3d"`) and in milliseconds; null = no cooldown. */
    minimumReleaseAge: { raw: string; ms: number } | null;
    /** Packages the cooldown does not apply to (your own scope). */
    exclude: PackageSpec[];
    /** Time-boxed exceptions (`portcullis approve --cooldown`): the spec, and the ISO time after which it no longer applies. */
    exceptions: Array<{ spec: PackageSpec; until: string }>;
  };
  /** Known-bad versions: OSV records (OpenSSF malicious-packages layout). */
  advisories: {
    /** Files or folders of OSV records, absolute (resolved from the folder of portcullis.json). */
    osv: string[];
  };
}

/** A lifecycle script a fingerprint records (`prepare` only runs for git dependencies). */
export type FingerprintScript = 'preinstall' | 'install' | 'postinstall' | 'prepare';

/** What runs at install time for one version. */
export interface ScriptFingerprint {
  /** The lifecycle command lines that run, by script name (absent = that script does not exist). */
  commands: Partial<Record<FingerprintScript, string>>;
  /**
   * The implicit `node-gyp rebuild` of a `binding.gyp`: `sha256:<hex>` of the file when the installed files were
   * read, `true` when only its presence is known (registry metadata); absent when no implicit build runs.
   */
  bindingGyp?: string | true;
  /** A git dependency's commit (40 hex digits): the commit pins every byte of it. */
  commit?: string;
}

/** One `scripts.fingerprints` entry: the version it was recorded for and what ran then. */
export interface RecordedFingerprint {
  name: string;
  version: string;
  fingerprint: ScriptFingerprint;
}
