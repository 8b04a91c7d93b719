/**
 * Verified versions: what a decision learnt about a registry version whose signature verified — the
 * integrity that was verified, by which key, and the script facts of its metadata. A published version
 * never changes, so the next decision on the same version, with the same trusted keys, needs neither its
 * packument nor a revalidation request.
 *
 * The memo's file is authenticated as a whole (HMAC-SHA256) with a secret of this user kept outside the cache
 * directory (`memo-key` in the state directory). A cache that comes from elsewhere — a CI cache restored from another
 * job, a shared or world-writable folder — cannot vouch for anything: its file fails the check and the
 * version is decided from its packument as if nothing were remembered. Code running as the user can read
 * the secret; that is the same user who can rewrite node_modules (docs/threat-model.md).
 */
import { AuthenticatedMemo } from './authenticated-memo.js';
import { INSTALL_SCRIPTS } from '../model.js';

// v2: v1 could hold "no scripts" for versions whose full document listed scripts that were not read.
// v3: the same facts, kept by the shared authenticated memo (cache/authenticated-memo.ts).
// v4: and the install scripts' command lines, when the metadata listed them (script drift compares them).
// v5: and whether the version names bundled dependencies (its tarball is read for them: a v4 entry does not say).
const FORMAT = 'verified-v5';

export { defaultStateDir, memoSecret, refusedMemoKey } from './dirs.js';

/** Which version, checked against which keys: the lookup key of one entry. */
export interface VersionQuery {
  /** The trusted key set's id (`Keyring.forRegistry(registry).id`): other keys, other entries. */
  keySetId: string;
  registry: string;
  name: string;
  version: string;
  /** The lockfile's integrity; undefined for lockfiles without one (Yarn), when the verified integrity is remembered too. */
  integrity: string | undefined;
}

/** What is remembered about a verified version. */
export interface VersionFacts {
  /** The integrity the signature verified over. */
  integrity: string;
  keyid: string;
  hasInstallScript: boolean;
  gypfile: boolean;
  /** Install lifecycle scripts the metadata names (full documents only). */
  scripts: string[];
  /** Their command lines, when the metadata listed them (full documents); undefined when it did not. */
  commands?: Record<string, string>;
  /** Whether the metadata names bundled dependencies (`bundleDependencies`): copies its tarball ships. */
  bundles?: boolean;
}

/** Longest command line remembered (a longer one is not remembered: the version is read from its packument again). */
const MAX_COMMAND = 16 * 1024;

type Stored = [integrity: string, keyid: string, hasInstallScript: 0 | 1, gypfile: 0 | 1, scripts: string, commands: string[] | null, bundles: 0 | 1];

export class VerifiedVersions {
  readonly #memo: AuthenticatedMemo<Stored>;

  private constructor(memo: AuthenticatedMemo<Stored>) {
    this.#memo = memo;
  }

  /** A memo that remembers nothing (no secret, or no file). */
  static disabled(): VerifiedVersions {
    return new VerifiedVersions(AuthenticatedMemo.open(FORMAT, '', '', null, isStored));
  }

  /**
   * Opens the memo of one project (`scope`: its directory) in `cacheDir` (`verified-v5/`); entries whose tag does
   * not verify with this user's secret are dropped unread. Never throws: a missing, torn or hostile file is an empty memo.
   */
  static open(cacheDir: string, scope: string, secret: Buffer | null): VerifiedVersions {
    return new VerifiedVersions(AuthenticatedMemo.open(FORMAT, cacheDir, scope, secret, isStored));
  }

  get enabled(): boolean {
    return this.#memo.enabled;
  }

  get(query: VersionQuery): VersionFacts | undefined {
    const hit = this.#memo.get(keyOf(query));
    if (hit === undefined) return undefined;
    const [integrity, keyid, hasInstallScript, gypfile, scripts, commands, bundles] = hit;
    // The lockfile names an integrity: only that one counts (the key covers it; checked again for clarity).
    if (query.integrity !== undefined && query.integrity !== integrity) return undefined;
    const names = scripts === '' ? [] : scripts.split(',');
    const facts: VersionFacts = { integrity, keyid, hasInstallScript: hasInstallScript === 1, gypfile: gypfile === 1, scripts: names };
    if (bundles === 1) facts.bundles = true;
    if (commands !== null) {
      const byName: Record<string, string> = Object.create(null);
      names.forEach((name, i) => (byName[name] = commands[i]!));
      facts.commands = byName;
    }
    return facts;
  }

  set(query: VersionQuery, facts: VersionFacts): void {
    const commands = facts.commands === undefined ? null : facts.scripts.map((name) => facts.commands![name] ?? '');
    // A command line too long to remember: remember none, so the next decision reads them from the packument again.
    const kept = commands !== null && commands.every((c) => c.length <= MAX_COMMAND) ? commands : null;
    this.#memo.set(keyOf(query), [facts.integrity, facts.keyid, facts.hasInstallScript ? 1 : 0, facts.gypfile ? 1 : 0, facts.scripts.join(','), kept, facts.bundles === true ? 1 : 0]);
  }

  /** Writes the memo back atomically (see AuthenticatedMemo.save). */
  save(): void {
    this.#memo.save();
  }
}

/** Which version, checked against which keys: other keys or another integrity, another entry. */
function keyOf(query: VersionQuery): string {
  return `${query.keySetId}\0${query.registry}\0${query.name}@${query.version}\0${query.integrity ?? ''}`;
}

function isStored(value: unknown): value is Stored {
  if (!Array.isArray(value) || value.length !== 7) return false;
  const [integrity, keyid, hasInstallScript, gypfile, scripts, commands, bundles] = value as unknown[];
  return (
    (bundles === 0 || bundles === 1) &&
    (commands === null || (Array.isArray(commands) && typeof scripts === 'string' && commands.length === (scripts === '' ? 0 : scripts.split(',').length) && commands.every((c) => typeof c === 'string' && c.length <= MAX_COMMAND))) &&
    typeof integrity === 'string' &&
    integrity.length > 0 &&
    integrity.length <= 1024 &&
    typeof keyid === 'string' &&
    keyid.length <= 1024 &&
    (hasInstallScript === 0 || hasInstallScript === 1) &&
    (gypfile === 0 || gypfile === 1) &&
    typeof scripts === 'string' &&
    scripts.split(',').every((s) => s === '' || (INSTALL_SCRIPTS as readonly string[]).includes(s))
  );
}
