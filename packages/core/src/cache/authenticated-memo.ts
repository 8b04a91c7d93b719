/**
 * A small authenticated memo: facts learnt about immutable things (a published version's provenance), kept in
 * the cache directory, the file tagged as a whole (HMAC-SHA256) with this user's secret (`memoSecret`, kept outside
 * the cache directory, as for the verified-versions memo). A file from elsewhere — a restored CI cache, a shared
 * folder — or one edited or torn cannot vouch for anything: its tag fails, it is read as empty and everything is
 * decided again. Never throws: a missing, torn or hostile file is an empty memo, and a failed write only costs time
 * next run.
 *
 * Entries carry no tag of their own (an HMAC per entry was ~5–17 µs each, thousands per cold install, all of it in
 * pnpm 12's hook worker while pnpm waits on readPackage): the file-wide tag over their exact text is what is checked.
 */
import * as crypto from 'node:crypto';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** `crypto.hash` (Node 20.12+), absent from older types. */
const oneShotHash = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';

const MAX_FILE_BYTES = 16 * 1024 * 1024;
const MAX_ENTRIES = 100_000;
/** What separates a saved file's header (format, file-wide tag) from its entries. */
const ENTRIES_MARKER = ',"entries":';

export class AuthenticatedMemo<T> {
  readonly #secret: Buffer | null;
  readonly #file: string | null;
  readonly #format: string;
  readonly #keepUnused: number;
  readonly #stored = new Map<string, T>();
  readonly #used = new Set<string>();
  /** Ids worked out in this process, by key: a key asked for is mostly set right after (a verdict, then what was learnt). */
  readonly #ids = new Map<string, string>();
  #changed = false;

  private constructor(format: string, secret: Buffer | null, file: string | null, keepUnused: number) {
    this.#format = format;
    this.#keepUnused = keepUnused;
    this.#secret = secret;
    this.#file = file;
  }

  /**
   * Opens the memo `format` (also its folder name, e.g. `provenance-v1`) of one project (`scope`) in `cacheDir`.
   * `isValue` validates every stored value (hostile input), once the file's tag verified. `keepUnused`: how many
   * entries this process did not use are kept when it saves (default: the file stays within twice what was used,
   * at least 5,000); a memo of large entries keeps few.
   */
  static open<T>(format: string, cacheDir: string, scope: string, secret: Buffer | null, isValue: (value: unknown) => value is T, options: { keepUnused?: number } = {}): AuthenticatedMemo<T> {
    const keepUnused = options.keepUnused ?? -1;
    if (secret === null) return new AuthenticatedMemo<T>(format, null, null, keepUnused);
    const file = join(cacheDir, format, `${createHash('sha256').update(scope).digest('hex')}.json`);
    const memo = new AuthenticatedMemo<T>(format, secret, file, keepUnused);
    try {
      if (statSync(file).size > MAX_FILE_BYTES) return memo;
      const text = readFileSync(file, 'utf8');
      // Written by save() as one file-wide tag over the entries' exact text. A file whose tag does not verify
      // (edited, torn, another user's) is an empty memo. Entries an earlier build wrote with a tag of their own
      // (`[id, value, tag]`) are vouched for by the file's tag like the others.
      const parsed = memo.#wholeFile(text);
      if (parsed === undefined) return memo;
      const { format: stored, entries } = parsed;
      if (stored !== format || !Array.isArray(entries)) return memo;
      for (const entry of entries.slice(-MAX_ENTRIES)) {
        if (!Array.isArray(entry) || (entry.length !== 2 && entry.length !== 3)) continue;
        const [id, value] = entry as unknown[];
        if (typeof id !== 'string' || !isValue(value)) continue;
        memo.#stored.set(id, value);
      }
    } catch {
      // Absent or unreadable: nothing remembered.
    }
    return memo;
  }

  get enabled(): boolean {
    return this.#secret !== null;
  }

  /** The value remembered under `key` (any string: it is filed under its digest), if the file's tag verified. */
  get(key: string): T | undefined {
    if (this.#secret === null) return undefined;
    const id = this.#idOf(key);
    const hit = this.#stored.get(id);
    if (hit === undefined) return undefined;
    this.#used.add(id);
    return hit;
  }

  set(key: string, value: T): void {
    if (this.#secret === null) return;
    const id = this.#idOf(key);
    this.#used.add(id);
    const previous = this.#stored.get(id);
    if (previous !== undefined && JSON.stringify(previous) === JSON.stringify(value)) return;
    this.#stored.set(id, value);
    this.#changed = true;
  }

  /** Forgets every entry this process neither used nor added (a memo that keeps only its latest answers). */
  forgetUnused(): void {
    for (const id of [...this.#stored.keys()]) {
      if (this.#used.has(id)) continue;
      this.#stored.delete(id);
      this.#changed = true;
    }
  }

  /** Writes the memo back atomically: what this process used or added last, and the most recent other entries (see `open`). */
  save(): void {
    if (this.#file === null || (!this.#changed && this.#used.size === this.#stored.size)) return;
    const keep = this.#keepUnused >= 0 ? this.#used.size + this.#keepUnused : Math.max(5_000, 2 * this.#used.size);
    const unused: Array<[string, T]> = [];
    const used: Array<[string, T]> = [];
    for (const [id, value] of this.#stored) (this.#used.has(id) ? used : unused).push([id, value]);
    const entries = [...unused.slice(Math.max(0, unused.length - Math.max(0, keep - used.length))), ...used].slice(-MAX_ENTRIES);
    try {
      mkdirSync(join(this.#file, '..'), { recursive: true, mode: 0o700 });
      const entriesText = JSON.stringify(entries);
      writeFileAtomic(this.#file, `{"format":${JSON.stringify(this.#format)},"mac":"${this.#fileTagOf(entriesText)}"${ENTRIES_MARKER}${entriesText}}`, 0o600);
      this.#changed = false;
    } catch {
      // The memo only saves time.
    }
  }

  /**
   * The document of a file whose file-wide tag verifies: `{format, entries}` parsed from exactly the bytes the tag
   * covers (the header is parsed on its own), or undefined.
   */
  #wholeFile(text: string): { format: unknown; entries: unknown } | undefined {
    const at = text.indexOf(ENTRIES_MARKER);
    if (at < 0 || !text.endsWith('}')) return undefined;
    let header: unknown;
    try {
      header = JSON.parse(`${text.slice(0, at)}}`);
    } catch {
      return undefined;
    }
    if (typeof header !== 'object' || header === null) return undefined;
    const { format, mac } = header as Record<string, unknown>;
    if (format !== this.#format || typeof mac !== 'string') return undefined;
    const entriesText = text.slice(at + ENTRIES_MARKER.length, -1);
    const expected = Buffer.from(this.#fileTagOf(entriesText), 'latin1');
    const given = Buffer.from(mac, 'latin1');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return { format, entries: JSON.parse(entriesText) as unknown };
  }

  #fileTagOf(entriesText: string): string {
    return createHmac('sha256', this.#secret!).update(`${this.#format}\0file\0`).update(entriesText).digest('base64');
  }

  /**
   * Where a key's entry is filed: a plain digest (what an entry says is vouched for by the file's tag, not by its id).
   * One-shot `crypto.hash` where Node has it (20.12+): thousands of lookups per install.
   */
  #idOf(key: string): string {
    const known = this.#ids.get(key);
    if (known !== undefined) return known;
    const text = `${this.#format}\0id\0${key}`;
    const id = typeof oneShotHash === 'function' ? oneShotHash('sha256', text, 'base64') : createHash('sha256').update(text).digest('base64');
    if (this.#ids.size >= 20_000) this.#ids.clear();
    this.#ids.set(key, id);
    return id;
  }
}
