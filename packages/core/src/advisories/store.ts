/**
 * The compact advisory index, one byte layout whether it was just built or read from the cache:
 *
 *   magic | HMAC-SHA256 tag (32 bytes) | header length (u32 LE) | header (JSON) | body
 *   body = hash table (u32 LE × slots: 0 = empty, else name number + 1)
 *        | name offsets (u32 LE × (names + 1), into the data)
 *        | data: per name, sorted, `name\n` + the JSON list of its advisories
 *
 * Loading is reading the file and checking its tag: nothing is parsed until a name is looked up, then only that
 * name's entry (open addressing on FNV-1a of the name: O(1)). The tag covers everything after it, with the
 * sources' key inside the header, so a cache file is trusted only if this user's secret made it for exactly
 * these source files — a file from elsewhere, a tampered one, or an older authentic index put in the place of
 * a newer one is not used.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import semver from 'semver';
import { PortcullisError } from '../errors.js';
import { fnv1a } from '../fnv.js';
import { isValidPackageName } from '../package-name.js';
import { inInterval, normalizeVersion, type Advisory, type AffectedInterval } from './osv.js';

export const INDEX_FORMAT = 'portcullis-advisories-v1';
const MAGIC = Buffer.from(`${INDEX_FORMAT}\n`, 'latin1');
const TAG_BYTES = 32;
const MAX_PROBLEMS_KEPT = 100;

/** A record file that was skipped, or a part of one that was read as "every version". */
export interface AdvisoryProblem {
  source: string;
  reason: string;
}

interface Header {
  format: string;
  key: string;
  id: string;
  records: number;
  names: number;
  slots: number;
  dataBytes: number;
  problems: AdvisoryProblem[];
  problemCount: number;
}

/** What the index says about the data it was built from. */
export interface IndexSummary {
  /** The content hash of the index body: equal data, equal id, wherever and whenever it was built. */
  readonly id: string;
  /** npm records indexed (withdrawn and other ecosystems' records are not counted). */
  readonly records: number;
  /** The first 100 problems met while building. */
  readonly problems: readonly AdvisoryProblem[];
  readonly problemCount: number;
}

type Row = [id: string, summary: string, modified: string | null, versions: string[], ranges: Array<[string | null, string | null, string | null, string | null]>];

/** FNV-1a over the name's UTF-16 code units (names are ASCII: see isValidPackageName). */
const hashName = (name: string): number => fnv1a(name);

function slotCount(names: number): number {
  let slots = 2;
  while (slots < names * 2) slots *= 2;
  return slots;
}

/** One row as the index keeps it: id, summary, modified, exact versions, intervals. */
function rowOf(advisory: Advisory, versions: readonly string[], ranges: readonly AffectedInterval[]): Row {
  return [advisory.id, advisory.summary, advisory.modified ?? null, [...versions], rangeRows(ranges)];
}

function rangeRows(ranges: readonly AffectedInterval[]): Row[4] {
  return ranges.map((r) => [r.introduced ?? null, r.fixed ?? null, r.lastAffected ?? null, r.limit ?? null]);
}

/**
 * Collects advisories by package name and encodes them into the index layout. Each name keeps only the text of its
 * rows (measured: a map of parsed advisories per name was most of what a 100,000-record build held at its peak);
 * the same advisory id met again for a name (two entries, or the record in two sources) is merged into its row:
 * the union of the exact versions, the intervals of both.
 */
export class IndexBuilder {
  /** Each name's rows: their JSON texts joined by commas (the list without its brackets), in the order first met. */
  readonly #rows = new Map<string, string>();

  add(name: string, advisory: Advisory, versions: readonly string[], ranges: readonly AffectedInterval[]): void {
    const known = this.#rows.get(name);
    if (known === undefined) {
      this.#rows.set(name, JSON.stringify(rowOf(advisory, versions, ranges)));
      return;
    }
    // A row's id is written as JSON.stringify writes it: absent from the text, absent from the rows.
    if (!known.includes(JSON.stringify(advisory.id))) {
      this.#rows.set(name, `${known},${JSON.stringify(rowOf(advisory, versions, ranges))}`);
      return;
    }
    // Possibly the same id again: read this name's rows back and merge (rows are ours, written just above).
    const rows = JSON.parse(`[${known}]`) as Row[];
    const same = rows.find((row) => row[0] === advisory.id);
    if (same === undefined) rows.push(rowOf(advisory, versions, ranges));
    else {
      same[3] = [...new Set([...same[3], ...versions])];
      same[4].push(...rangeRows(ranges));
    }
    this.#rows.set(name, JSON.stringify(rows).slice(1, -1));
  }

  /**
   * The index layout of what was added (names already valid), tagged with `secret` for the sources of `key`. The
   * file is allocated once and each name's text written straight into it: the header's length is known before the
   * body (its id is 64 hex digits whatever the body), so the body is never copied. Once: it empties the builder.
   */
  encode(meta: { key: string; records: number; problems: readonly AdvisoryProblem[] }, secret: Buffer): Buffer {
    const rows = this.#rows;
    const names = [...rows.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const sizes = new Float64Array(names.length);
    let dataBytes = 0;
    names.forEach((name, i) => {
      // `name\n[rows]`: names are ASCII (isValidPackageName).
      sizes[i] = name.length + 3 + Buffer.byteLength(rows.get(name)!, 'utf8');
      dataBytes += sizes[i]!;
    });
    if (dataBytes > 0xffff_ffff) throw new PortcullisError('INPUT_TOO_LARGE', 'The advisory index would be larger than 4 GiB.');
    const slots = slotCount(names.length);
    const header = (id: string): Buffer =>
      Buffer.from(
        JSON.stringify({
          format: INDEX_FORMAT,
          key: meta.key,
          id,
          records: meta.records,
          names: names.length,
          slots,
          dataBytes,
          problems: meta.problems.slice(0, MAX_PROBLEMS_KEPT).map((p) => ({ source: p.source, reason: p.reason })),
          problemCount: meta.problems.length,
        } satisfies Header),
        'utf8',
      );
    const headerLength = header('0'.repeat(64)).length;
    const lengthAt = MAGIC.length + TAG_BYTES;
    const bodyAt = lengthAt + 4 + headerLength;
    const offsetsAt = bodyAt + 4 * slots;
    const dataAt = offsetsAt + 4 * (names.length + 1);
    const out = Buffer.alloc(dataAt + dataBytes);
    MAGIC.copy(out, 0);
    out.writeUInt32LE(headerLength, lengthAt);
    names.forEach((name, i) => {
      let slot = hashName(name) & (slots - 1);
      while (out.readUInt32LE(bodyAt + 4 * slot) !== 0) slot = (slot + 1) & (slots - 1);
      out.writeUInt32LE(i + 1, bodyAt + 4 * slot);
    });
    let written = 0;
    names.forEach((name, i) => {
      out.writeUInt32LE(written, offsetsAt + 4 * i);
      const at = dataAt + written;
      let end = at + out.write(name, at, 'latin1');
      end += out.write('\n[', end, 'latin1');
      end += out.write(rows.get(name)!, end, 'utf8');
      end += out.write(']', end, 'latin1');
      if (end - at !== sizes[i]) throw new Error('the advisory index entry of a name was not written whole');
      written += sizes[i]!;
      rows.delete(name);
    });
    out.writeUInt32LE(written, offsetsAt + 4 * names.length);
    const body = out.subarray(bodyAt);
    const filled = header(createHash('sha256').update(body).digest('hex'));
    if (filled.length !== headerLength) throw new Error('the advisory index header changed length');
    filled.copy(out, lengthAt + 4);
    tagOf(secret, [out.subarray(lengthAt)]).copy(out, MAGIC.length);
    return out;
  }
}

function tagOf(secret: Buffer, parts: readonly Uint8Array[]): Buffer {
  const hmac = createHmac('sha256', secret).update(`${INDEX_FORMAT}\0index\0`);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

/** The compact index over an encoded buffer. */
export class EncodedIndex implements IndexSummary {
  readonly id: string;
  readonly records: number;
  readonly problems: readonly AdvisoryProblem[];
  readonly problemCount: number;
  readonly #bytes: Buffer;
  readonly #slots: number;
  readonly #names: number;
  readonly #tableAt: number;
  readonly #offsetsAt: number;
  readonly #dataAt: number;
  readonly #dataBytes: number;
  /** Entries of the names looked up so far, parsed once. */
  readonly #parsed = new Map<string, CompiledAdvisory[]>();

  private constructor(bytes: Buffer, header: Header, bodyAt: number) {
    this.#bytes = bytes;
    this.id = header.id;
    this.records = header.records;
    this.problems = Object.freeze(header.problems.map((p) => Object.freeze({ ...p })));
    this.problemCount = header.problemCount;
    this.#slots = header.slots;
    this.#names = header.names;
    this.#tableAt = bodyAt;
    this.#offsetsAt = bodyAt + 4 * header.slots;
    this.#dataAt = this.#offsetsAt + 4 * (header.names + 1);
    this.#dataBytes = header.dataBytes;
  }

  /**
   * Opens an encoded index if its tag verifies with `secret` and it was made for the sources of `key`;
   * undefined otherwise (never throws on hostile bytes).
   */
  static open(bytes: Buffer, key: string, secret: Buffer): EncodedIndex | undefined {
    const lengthAt = MAGIC.length + TAG_BYTES;
    if (bytes.length < lengthAt + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const expected = tagOf(secret, [bytes.subarray(lengthAt)]);
    if (!timingSafeEqual(expected, bytes.subarray(MAGIC.length, lengthAt))) return undefined;
    const headerLength = bytes.readUInt32LE(lengthAt);
    const bodyAt = lengthAt + 4 + headerLength;
    if (bodyAt > bytes.length) return undefined;
    let header: unknown;
    try {
      header = JSON.parse(bytes.toString('utf8', lengthAt + 4, bodyAt));
    } catch {
      return undefined;
    }
    // Authentic, yet checked: a layout that does not add up is never read past its end.
    if (!isHeader(header) || header.format !== INDEX_FORMAT || header.key !== key) return undefined;
    if (bodyAt + 4 * header.slots + 4 * (header.names + 1) + header.dataBytes !== bytes.length) return undefined;
    return new EncodedIndex(bytes, header, bodyAt);
  }

  /** The advisories that affect `name@version` (an exact `versions` entry, or inside an interval). */
  lookup(name: string, version: string): Advisory[] {
    const entries = this.#entriesOf(name);
    if (entries.length === 0) return [];
    const normalized = normalizeVersion(version);
    const parsed = semver.parse(version);
    const found: Advisory[] = [];
    for (const entry of entries) {
      if (found.some((a) => a.id === entry.advisory.id)) continue;
      if (entry.versions.has(normalized) || entry.ranges.some((range) => inInterval(parsed, range))) found.push(entry.advisory);
    }
    return found;
  }

  #entriesOf(name: string): CompiledAdvisory[] {
    const known = this.#parsed.get(name);
    if (known !== undefined) return known;
    if (!isValidPackageName(name)) return [];
    const entries = this.#find(name);
    this.#parsed.set(name, entries);
    return entries;
  }

  #find(name: string): CompiledAdvisory[] {
    const bytes = this.#bytes;
    const mask = this.#slots - 1;
    for (let slot = hashName(name) & mask, probes = 0; probes < this.#slots; slot = (slot + 1) & mask, probes++) {
      const index = bytes.readUInt32LE(this.#tableAt + 4 * slot);
      if (index === 0) return [];
      if (index > this.#names) throw corrupt();
      const start = bytes.readUInt32LE(this.#offsetsAt + 4 * (index - 1));
      const end = bytes.readUInt32LE(this.#offsetsAt + 4 * index);
      if (start > end || end > this.#dataBytes) throw corrupt();
      const at = this.#dataAt + start;
      if (end - start <= name.length || bytes[at + name.length] !== 0x0a || bytes.toString('latin1', at, at + name.length) !== name) continue;
      return compile(bytes.toString('utf8', at + name.length + 1, this.#dataAt + end));
    }
    return [];
  }
}

interface CompiledAdvisory {
  advisory: Advisory;
  versions: ReadonlySet<string>;
  ranges: Array<{ introduced?: semver.SemVer; fixed?: semver.SemVer; lastAffected?: semver.SemVer; limit?: semver.SemVer }>;
}

function corrupt(): PortcullisError {
  return new PortcullisError('ADVISORIES_UNAVAILABLE', 'The advisory index is inconsistent; delete the advisories-v1 folder of the cache to rebuild it.');
}

function compile(text: string): CompiledAdvisory[] {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch {
    throw corrupt();
  }
  if (!Array.isArray(rows)) throw corrupt();
  const str = (v: unknown) => typeof v === 'string';
  const bound = (v: unknown): semver.SemVer | undefined => {
    if (v === null) return undefined;
    const parsed = typeof v === 'string' ? semver.parse(v) : null;
    if (parsed === null) throw corrupt();
    return parsed;
  };
  return rows.map((row: unknown): CompiledAdvisory => {
    if (!Array.isArray(row) || row.length !== 5) throw corrupt();
    const [id, summary, modified, versions, ranges] = row as unknown[];
    if (!str(id) || !str(summary) || !(modified === null || str(modified)) || !Array.isArray(versions) || !versions.every(str) || !Array.isArray(ranges)) throw corrupt();
    const advisory: Advisory = { id: id as string, summary: summary as string };
    if (modified !== null) advisory.modified = modified as string;
    return {
      advisory: Object.freeze(advisory),
      versions: new Set(versions as string[]),
      ranges: ranges.map((range: unknown) => {
        if (!Array.isArray(range) || range.length !== 4) throw corrupt();
        const [introduced, fixed, lastAffected, limit] = range.map(bound);
        return { introduced, fixed, lastAffected, limit };
      }),
    };
  });
}

function isHeader(value: unknown): value is Header {
  if (typeof value !== 'object' || value === null) return false;
  const h = value as Record<string, unknown>;
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  return (
    typeof h.format === 'string' &&
    typeof h.key === 'string' &&
    typeof h.id === 'string' &&
    /^[0-9a-f]{64}$/.test(h.id) &&
    count(h.records) &&
    count(h.names) &&
    count(h.slots) &&
    (h.slots as number) >= 2 &&
    ((h.slots as number) & ((h.slots as number) - 1)) === 0 &&
    (h.slots as number) >= (h.names as number) &&
    count(h.dataBytes) &&
    count(h.problemCount) &&
    Array.isArray(h.problems) &&
    h.problems.length <= MAX_PROBLEMS_KEPT &&
    h.problems.every((p: unknown) => typeof p === 'object' && p !== null && typeof (p as AdvisoryProblem).source === 'string' && typeof (p as AdvisoryProblem).reason === 'string')
  );
}
