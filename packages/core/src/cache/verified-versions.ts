/**
 * Verified versions: what a decision learnt about a registry version whose signature verified — the
 * integrity that was verified, by which key, and the script facts of its metadata. A published version
 * never changes, so the next decision on the same version, with the same trusted keys, needs neither its
 * packument nor a revalidation request.
 *
 * Every entry is authenticated (HMAC-SHA256) with a secret of this user kept outside the cache directory
 * (`memo-key` in the state directory). A cache that comes from elsewhere — a CI cache restored from another
 * job, a shared or world-writable folder — cannot vouch for anything: its entries fail the check and the
 * version is decided from its packument as if nothing were remembered. Code running as the user can read
 * the secret; that is the same user who can rewrite node_modules (docs/threat-model.md).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import type { Env } from '../env.js';
import { INSTALL_SCRIPTS } from '../model.js';

// v2: v1 could hold "no scripts" for versions whose full document listed scripts that were not read.
const FORMAT = 'portcullis-verified-v2';
const MAX_FILE_BYTES = 16 * 1024 * 1024;
const MAX_ENTRIES = 100_000;
const TAG_BYTES = 16;

/** The state directory: `PORTCULLIS_STATE_DIR`, else the platform's per-user state folder (never the cache). */
export function defaultStateDir(env: Env = process.env, home: string = homedir(), platform: NodeJS.Platform = process.platform): string {
  if (env.PORTCULLIS_STATE_DIR) return env.PORTCULLIS_STATE_DIR;
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'portcullis', 'State');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'portcullis');
  return join(env.XDG_STATE_HOME || join(home, '.local', 'state'), 'portcullis');
}

const secrets = new Map<string, Buffer | null>();

/**
 * This user's memo secret (32 random bytes, hex, mode 0600), created on first use; null when it cannot be
 * read or created, and then nothing is remembered.
 */
export function memoSecret(stateDir: string): Buffer | null {
  const known = secrets.get(stateDir);
  if (known !== undefined) return known;
  const file = join(stateDir, 'memo-key');
  const read = (): Buffer | null => {
    try {
      if (statSync(file).size !== 64) return null;
      const text = readFileSync(file, 'utf8');
      return /^[0-9a-f]{64}$/.test(text) ? Buffer.from(text, 'hex') : null;
    } catch {
      return null;
    }
  };
  let secret = read();
  if (secret === null) {
    try {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      // Exclusive create: two processes starting at once agree on one secret.
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, randomBytes(32).toString('hex'));
      } finally {
        closeSync(fd);
      }
    } catch {
      // Exists already (another process won, or it is malformed and left alone), or not writable.
    }
    secret = read();
  }
  secrets.set(stateDir, secret);
  return secret;
}

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
}

type Stored = [integrity: string, keyid: string, hasInstallScript: 0 | 1, gypfile: 0 | 1, scripts: string];

export class VerifiedVersions {
  readonly #secret: Buffer | null;
  readonly #file: string | null;
  readonly #stored = new Map<string, { value: Stored; tag: string }>();
  /** Entries looked up or added by this process: written back last, so they outlive the others. */
  readonly #used = new Set<string>();
  #changed = false;

  private constructor(secret: Buffer | null, file: string | null) {
    this.#secret = secret;
    this.#file = file;
  }

  /** A memo that remembers nothing (no secret, or no file). */
  static disabled(): VerifiedVersions {
    return new VerifiedVersions(null, null);
  }

  /**
   * Opens the memo of one project (`scope`: its directory) in `cacheDir`; entries whose tag does not
   * verify with this user's secret are dropped unread. Never throws: a missing, torn or hostile file is an empty memo.
   */
  static open(cacheDir: string, scope: string, secret: Buffer | null): VerifiedVersions {
    if (secret === null) return VerifiedVersions.disabled();
    const file = join(cacheDir, 'verified-v2', `${createHash('sha256').update(scope).digest('hex')}.json`);
    const memo = new VerifiedVersions(secret, file);
    try {
      if (statSync(file).size > MAX_FILE_BYTES) return memo;
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null) return memo;
      const { format, entries } = parsed as Record<string, unknown>;
      if (format !== FORMAT || !Array.isArray(entries)) return memo;
      for (const entry of entries.slice(-MAX_ENTRIES)) {
        if (!Array.isArray(entry) || entry.length !== 3) continue;
        const [id, value, tag] = entry as unknown[];
        if (typeof id !== 'string' || typeof tag !== 'string' || !isStored(value)) continue;
        if (!memo.#authentic(id, value, tag)) continue;
        memo.#stored.set(id, { value, tag });
      }
    } catch {
      // Absent or unreadable: nothing remembered.
    }
    return memo;
  }

  get enabled(): boolean {
    return this.#secret !== null;
  }

  /** Whether this process learnt anything worth writing back. */
  get changed(): boolean {
    return this.#changed;
  }

  get(query: VersionQuery): VersionFacts | undefined {
    if (this.#secret === null) return undefined;
    const id = this.#idOf(query);
    const hit = this.#stored.get(id);
    if (hit === undefined) return undefined;
    const [integrity, keyid, hasInstallScript, gypfile, scripts] = hit.value;
    // The lockfile names an integrity: only that one counts (the id covers it; checked again for clarity).
    if (query.integrity !== undefined && query.integrity !== integrity) return undefined;
    this.#used.add(id);
    return { integrity, keyid, hasInstallScript: hasInstallScript === 1, gypfile: gypfile === 1, scripts: scripts === '' ? [] : scripts.split(',') };
  }

  set(query: VersionQuery, facts: VersionFacts): void {
    if (this.#secret === null) return;
    const id = this.#idOf(query);
    const value: Stored = [facts.integrity, facts.keyid, facts.hasInstallScript ? 1 : 0, facts.gypfile ? 1 : 0, facts.scripts.join(',')];
    const previous = this.#stored.get(id);
    this.#used.add(id);
    if (previous !== undefined && JSON.stringify(previous.value) === JSON.stringify(value)) return;
    this.#stored.set(id, { value, tag: this.#tagOf(id, value) });
    this.#changed = true;
  }

  /**
   * Writes the memo back atomically: the entries this process used or added last (newest), and older ones
   * while the file stays within twice that (at least 5,000), so switching branches does not start over.
   * Failures only cost time next run.
   */
  save(): void {
    if (this.#file === null || (!this.#changed && this.#used.size === this.#stored.size)) return;
    const keep = Math.max(5_000, 2 * this.#used.size);
    const unused: Array<[string, Stored, string]> = [];
    const used: Array<[string, Stored, string]> = [];
    for (const [id, entry] of this.#stored) (this.#used.has(id) ? used : unused).push([id, entry.value, entry.tag]);
    const entries = [...unused.slice(Math.max(0, unused.length - Math.max(0, keep - used.length))), ...used].slice(-MAX_ENTRIES);
    try {
      mkdirSync(join(this.#file, '..'), { recursive: true, mode: 0o700 });
      writeFileAtomic(this.#file, JSON.stringify({ format: FORMAT, entries }), 0o600);
    } catch {
      // The memo only saves time.
    }
  }

  #idOf(query: VersionQuery): string {
    const input = `${FORMAT}\0id\0${query.keySetId}\0${query.registry}\0${query.name}@${query.version}\0${query.integrity ?? ''}`;
    return createHmac('sha256', this.#secret!).update(input).digest('base64');
  }

  #tagOf(id: string, value: Stored): string {
    return createHmac('sha256', this.#secret!).update(`${FORMAT}\0tag\0${id}\0${JSON.stringify(value)}`).digest().subarray(0, TAG_BYTES).toString('base64');
  }

  #authentic(id: string, value: Stored, tag: string): boolean {
    const expected = Buffer.from(this.#tagOf(id, value), 'base64');
    const given = Buffer.from(tag, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

function isStored(value: unknown): value is Stored {
  if (!Array.isArray(value) || value.length !== 5) return false;
  const [integrity, keyid, hasInstallScript, gypfile, scripts] = value as unknown[];
  return (
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
