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
  /**
   * The command line of each script in `scripts`, where the source shows it (installed files, full metadata): all of
   * them, or absent when the source does not list them (abbreviated metadata, a lockfile) — then they are unknown.
   */
  commands?: Readonly<Record<string, string>>;
  /** A `binding.gyp` without an `install`/`preinstall` script: npm, pnpm and Yarn run `node-gyp rebuild`. */
  bindingGyp: boolean;
  /** Where the claim comes from; the installed package.json beats metadata, metadata beats the lockfile. */
  source: 'installed' | 'metadata' | 'lockfile';
  /** `sha256:<hex>` of the installed binding.gyp, when there is one and it was read (its build may be implicit or an install script). */
  bindingGypHash?: string;
}

/** What the patches pnpm applies to a package (`PackageNode.patches`) do to its install-time code. */
export interface PatchEvidence {
  /** A patch may add or change install-time code: it touches `package.json` or `binding.gyp`, or it could not be read. */
  mayAddScripts: boolean;
  /** Which patch, and why: `its patch patches/x.patch changes package.json`, `its patch file could not be found`. */
  reason: string;
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

/**
 * Who built a release, read only from its Sigstore (Fulcio) certificate. The in-toto statement's own claims are
 * cross-checked against it, never trusted alone.
 */
export interface PublisherIdentity {
  /** OIDC issuer (`https://token.actions.githubusercontent.com`). */
  issuer: string;
  /** The source repository as `host/owner/repo`, lower-cased (`github.com/sigstore/sigstore-js`). */
  repository: string;
  /** The source repository URI as the certificate has it. */
  repositoryUri: string;
  /** The repository's immutable numeric id (survives a rename; a re-registered name gets a new one). */
  repositoryId?: string;
  /** The owner's immutable numeric id. */
  ownerId?: string;
  /** The workflow file's path in the repository that built it (`.github/workflows/publish.yml`), from the build config URI. */
  workflow: string;
  /** The ref the build ran on (`refs/tags/v1.0.0`; may contain `@`). */
  ref?: string;
  /** The event that triggered the build (`push`, `release`, `workflow_dispatch`). */
  trigger?: string;
  /** `github-hosted` or `self-hosted`. */
  runnerEnvironment?: string;
  /** The source commit. */
  commit?: string;
}

/** The outcome of verifying one version's SLSA provenance. */
export type ProvenanceEvidence =
  | { status: 'verified'; identity: PublisherIdentity }
  /** The registry serves no SLSA provenance attestation for it. */
  | { status: 'missing' }
  /** Served, but it does not verify or does not match this package, version or integrity. */
  | { status: 'invalid'; reason: string }
  /** Its transparency log, certificate authority or CT log is not in the trusted root: update the root, not a forgery. */
  | { status: 'root-stale'; reason: string }
  /** The attestations could not be fetched (fail closed). */
  | { status: 'unavailable'; reason: string };

/** The publisher an earlier decision saw for a package: its repository and immutable ids. */
export interface RememberedPublisher {
  repository: string;
  repositoryId?: string;
  ownerId?: string;
}

/** An earlier version of the same release line had verified provenance that this version does not match. */
export interface ProvenanceDowngrade {
  /** The earlier version with verified provenance. */
  earlier: string;
  /** Its source repository. */
  repository: string;
  /** What this version has instead: none, a bundle that does not verify, one the trusted root cannot judge (stale), or another repository's. */
  now: 'none' | 'invalid' | 'unverifiable' | { repository: string };
}

/** One advisory that lists a version as known bad. */
export interface AdvisoryEvidence {
  /** `MAL-2025-1234`. */
  id: string;
  summary: string;
}

/** A package whose tarball cannot be read safely. */
export interface UnreadablePackage {
  name: string;
  version: string;
}

/** Everything the evaluator may consult, keyed by package id. */
export interface Evidence {
  scripts: ReadonlyMap<string, ScriptEvidence>;
  signatures: ReadonlyMap<string, SignatureEvidence>;
  /** Ids whose metadata could not be obtained (fail closed: METADATA_UNAVAILABLE). */
  unavailable: ReadonlyMap<string, string>;
  /**
   * Of those, the ids undecidable because a package's own tarball (the pinned bytes) cannot be read safely, with that
   * package: running again does not decide them, so the finding's fix is to remove it or move to another version.
   */
  unreadable?: ReadonlyMap<string, UnreadablePackage>;
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
  /** Provenance of the versions the policy asks about (provenance.require, publishers, and noDowngrade's current versions). */
  provenance?: ReadonlyMap<string, ProvenanceEvidence>;
  /** Versions that are a provenance downgrade on their release line (verified evidence only). */
  downgrades?: ReadonlyMap<string, ProvenanceDowngrade>;
  /**
   * Versions built from the repository an earlier decision of this project saw for that package, but whose repository
   * or owner id differs from what was seen then: the name was deleted and registered again by someone else.
   */
  publisherChanges?: ReadonlyMap<string, RememberedPublisher>;
  /** Registry publish time (ISO) of the versions the cooldown applies to; null when the registry gives none or an unreadable one. */
  published?: ReadonlyMap<string, string | null>;
  /** The time of the decision (ms since the epoch), for the cooldown: evaluate itself reads no clock. */
  now?: number;
  /** What the patches of patched packages (`PackageNode.patches`) do; a patched package missing here may add scripts. */
  patches?: ReadonlyMap<string, PatchEvidence>;
  /** Advisories that list a version as known bad (advisories.osv). */
  advisories?: ReadonlyMap<string, readonly AdvisoryEvidence[]>;
}
