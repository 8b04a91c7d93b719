import type { RegistryKey, SourceLocation } from '../model.js';

/** A package selector from the policy: `name` (any version) or `name@semver-range`. */
export interface PackageSpec {
  /** The entry as written, e.g. `sharp@^0.34.0`. */
  raw: string;
  name: string;
  /** The semver range, or null for any version. */
  range: string | null;
  /** Where the entry stands in portcullis.json (absent for built-in defaults). */
  location?: SourceLocation;
}

/** Which keys a registry is trusted with: npm's embedded keys, or an explicit list. */
export type RegistryTrust = { keys: 'npm' } | { keys: RegistryKey[] };

/** A loaded, validated portcullis.json with defaults applied. */
export interface Policy {
  /** Absolute path of the file, or null when no file exists and the defaults apply. */
  file: string | null;
  scripts: {
    allow: PackageSpec[];
  };
  signatures: {
    require: 'registry' | 'off';
    allowUnsigned: PackageSpec[];
  };
  /** Keyed by normalized registry URL (lower-case host, trailing slash). */
  registries: Record<string, RegistryTrust>;
}
