/**
 * Evidence: what the edges (metadata client, installed files, verifier) learned about each package.
 * The evaluator decides from it without any I/O.
 */


/** What is known about a package's install-time code. */
export interface ScriptEvidence {
  /** Whether anything runs at install time (a named script or the implicit node-gyp build). */
  hasInstallScript: boolean;
  /** The install scripts by name, when known (abbreviated metadata only says that there are some). */
  scripts: string[];
  /** A `binding.gyp` without an `install`/`preinstall` script: npm, pnpm and Yarn run `node-gyp rebuild`. */
  bindingGyp: boolean;
  /** Where the claim comes from; the installed package.json beats metadata, metadata beats the lockfile. */
  source: 'installed' | 'metadata' | 'lockfile';
}

/** The outcome of verifying one package's registry signatures. */
export type SignatureEvidence =
  | { status: 'verified'; keyid: string }
  | { status: 'unsigned' }
  | { status: 'bad-signature'; keyid: string }
  | { status: 'unknown-key'; keyid: string }
  | { status: 'key-expired'; keyid: string; expires: string; published: string | null }
  | { status: 'untrusted-registry'; registry: string }
  | { status: 'unavailable'; reason: string };

/** Everything the evaluator may consult, keyed by package id. */
export interface Evidence {
  scripts: ReadonlyMap<string, ScriptEvidence>;
  signatures: ReadonlyMap<string, SignatureEvidence>;
  /** Ids whose metadata could not be obtained (fail closed: METADATA_UNAVAILABLE). */
  unavailable: ReadonlyMap<string, string>;
  /**
   * The SRI integrity each registry package's signature check was made over (the lockfile's, else the
   * registry's claim). An adapter whose lockfile records no npm integrity (Yarn) compares the tarball
   * it downloads against this.
   */
  integrities?: ReadonlyMap<string, string>;
  /**
   * Copies the lockfile marks bundled whose parent's registry metadata does not ship them: npm fetches such a
   * copy from the registry itself, so it is judged as a registry package.
   */
  notBundled?: ReadonlySet<string>;
}
