/**
 * Registry metadata a package manager already fetched and kept on disk (pnpm's and npm's caches), read for the gate
 * instead of fetching the same documents again. Everything here is hostile input like any registry document:
 * bounded, parsed defensively, and only ever *supplied* to the gate, which verifies its signatures against the
 * policy's keys and the integrity that is installed. Anything missing, torn or unfamiliar is a miss (the document
 * is fetched as before), never a throw.
 */
import { outsideCheckout } from './checkout.js';
import { readBounded, readFront, readRange, type FileFront } from '../read-bounded.js';
import { packumentVersionFromJson, type Packument, type PackumentVersion } from '../registry/packument.js';

/**
 * Whether a package manager's cache folder may be read for the gate: only when it is **outside the project's
 * checkout** (checkout.ts: the nearest folder up from `projectDir` with `.git`, else `projectDir` itself), by real path.
 * What is read there is verified, but a release line's *missing* attestation claims cannot be: a cache the project's own
 * files could have filled (a committed folder, a project `.npmrc` or `pnpm-workspace.yaml` pointing into the checkout)
 * could hide the earlier provenance a downgrade check looks for. Such a folder is not read; the registry is asked.
 */
export function keptCacheTrusted(cacheDir: string, projectDir: string): boolean {
  return outsideCheckout(cacheDir, projectDir);
}

/** A kept file larger than this is not read (the packument is fetched instead). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

/**
 * A kept file's bytes (core's readBounded). Many paths asked for are not there (another layout, a file the package
 * manager has not written yet): looked up first. Dropping that check and the fstat for files expected to be there was
 * measured and not kept: the profile's ~13 ms for them was the sampler's, the worker's CPU the same
 * (docs/benchmarks.md, "Thirty-first round").
 */
export function readAll(file: string): Buffer | undefined {
  return readBounded(file, MAX_FILE_BYTES, { oftenMissing: true });
}

/** The front of a kept file (core's readFront: `firstBytes`, then as many from its start as `through` asks for), or undefined. */
export function readFrontOf(file: string, firstBytes: number, through: (first: Buffer, size: number) => number | undefined): FileFront | undefined {
  return readFront(file, MAX_FILE_BYTES, firstBytes, through, { oftenMissing: true });
}

/** Bytes `start` to `end` of a kept file whose front was read (readFrontOf), while it is still that file; else undefined. */
export function readRangeOf(file: string, front: FileFront, start: number, end: number): Buffer | undefined {
  return readRange(file, front.identity, start, end);
}

export function parse(bytes: Buffer | string): unknown {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** One package's cache file, its list of versions read: each version's document is parsed only when asked for. */
export interface CachedFile {
  /** One entry per version the file lists, `[version, …]` (validated when read). */
  versions: unknown[];
  /** The document of one entry, when it is that version's own; undefined for anything else. */
  documentAt(entry: unknown[], name: string, version: string): Record<string, unknown> | undefined;
  /**
   * True when an entry's bytes, not parsed, are a whole document of `version` that cannot claim attestations: a claim is
   * the key `attestations` in `dist`, which JSON can only spell with those letters or with `\u` escapes, and the bytes
   * hold neither. False when they may, or do not look like that version's whole document. Absent: every document is parsed.
   */
  cannotClaimAttestations?(entry: unknown[], version: string): boolean;
  /**
   * The same file with the bytes of `entries` read at once (one read of the part of the file that holds them all), for
   * the questions about them that follow. Absent, or the file itself when they are at hand: nothing to read.
   */
  reading?(entries: readonly unknown[][]): CachedFile;
}

/** A document that is `name@version`'s own, or undefined. */
export function ownDocument(doc: unknown, name: string, version: string): Record<string, unknown> | undefined {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const { name: docName, version: docVersion } = doc as { name?: unknown; version?: unknown };
  return docName === name && docVersion === version ? (doc as Record<string, unknown>) : undefined;
}

/** A file holding one JSON packument (`{"name", "versions": {version: document}}`), its documents read when asked for. */
export function packumentFile(bytes: Buffer, name: string): CachedFile | undefined {
  const packument = parse(bytes);
  if (typeof packument !== 'object' || packument === null || (packument as { name?: unknown }).name !== name) return undefined;
  const documents = (packument as { versions?: unknown }).versions;
  if (typeof documents !== 'object' || documents === null || Array.isArray(documents)) return undefined;
  return {
    versions: Object.keys(documents).map((version) => [version]),
    documentAt: (entry, name, version) => (entry[0] === version && Object.hasOwn(documents, version) ? ownDocument((documents as Record<string, unknown>)[version], name, version) : undefined),
  };
}

export function versionIn(file: CachedFile, name: string, version: string): unknown {
  const entry = entryOf(file, version);
  return entry === undefined ? undefined : file.documentAt(entry, name, version);
}

/** The file's first entry for `version`. */
function entryOf(file: CachedFile, version: string): unknown[] | undefined {
  for (const entry of file.versions) if (Array.isArray(entry) && entry[0] === version) return entry;
  return undefined;
}

/** What a kept file holds for one version: its document, and the packument of its past when asked for. */
export interface KeptVersion {
  /** The version's registry metadata, only ever *supplied* to a judgement (verified there like any registry document). */
  metadata: PackumentVersion;
  /** A packument holding exactly the versions `wanted` accepted (see `keptVersion`); absent when not asked or not readable. */
  past?: Packument;
}

/**
 * The first of `files` whose document for `name@version` has the integrity that is installed; undefined otherwise.
 *
 * With `wanted`, also a packument of the other versions `wanted` accepts that claim attestations, for a question about
 * the version's past (the provenance downgrade check: which earlier versions of its release line claim attestations).
 * It comes from the same file, which holds this version with the installed integrity — a document fetched after this
 * version was published, so it lists every version published before it, as a fetch would. A wanted version whose
 * document claims no attestations is left out unvalidated, as the packument of a fetch leaves out a malformed entry
 * (`invalidVersions`): it claims nothing either way. Its document is not even parsed when its bytes show that it
 * cannot claim any (`cannotClaimAttestations`): a release line holds up to thousands of versions (nightly builds), and
 * parsing each was most of the cost of reading it. Every wanted version that may claim attestations must read
 * cleanly, and every wanted version's entry must be found: one torn, malformed or unexpected entry, or a repeated
 * version, and `past` is absent (the caller fetches the packument as before).
 */
export function keptVersion(files: Iterable<CachedFile>, name: string, version: string, integrity: string, wanted?: (candidate: string) => boolean): KeptVersion | undefined {
  for (const file of files) {
    const own = entryOf(file, version);
    if (own === undefined) continue;
    const pastEntries = wanted === undefined ? undefined : wantedEntries(file, version, wanted);
    // The version's document and its past's, read together (a large file's front holds its index, not them).
    const at = file.reading?.(pastEntries === undefined ? [own] : [own, ...pastEntries]) ?? file;
    const doc = at.documentAt(own, name, version);
    if (doc === undefined) continue;
    const metadata = packumentVersionFromJson(doc, name, version);
    if (typeof metadata === 'string' || metadata.dist.integrity !== integrity) continue;
    const past = pastEntries === undefined ? undefined : pastOf(at, name, pastEntries);
    return { metadata, ...(past !== undefined ? { past } : {}) };
  }
  return undefined;
}

/** The file's entries of the other versions `wanted` accepts; undefined (no past) when any entry is malformed or a version repeats. */
function wantedEntries(file: CachedFile, version: string, wanted: (candidate: string) => boolean): unknown[][] | undefined {
  const entries: unknown[][] = [];
  const seen = new Set<string>();
  for (const entry of file.versions) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') return undefined;
    const candidate = entry[0];
    if (candidate === version || !wanted(candidate)) continue;
    if (seen.has(candidate)) return undefined;
    seen.add(candidate);
    entries.push(entry);
  }
  return entries;
}

/** A packument of those of `entries` that claim attestations (see keptVersion); undefined when one may and does not read cleanly. */
function pastOf(file: CachedFile, name: string, entries: readonly unknown[][]): Packument | undefined {
  const versions = new Map<string, PackumentVersion>();
  for (const entry of entries) {
    const candidate = entry[0] as string;
    if (file.cannotClaimAttestations?.(entry, candidate) === true) continue;
    const doc = file.documentAt(entry, name, candidate);
    if (doc === undefined) return undefined;
    if (!claimsAttestations(doc)) continue;
    const parsed = packumentVersionFromJson(doc, name, candidate);
    if (typeof parsed === 'string') return undefined;
    versions.set(candidate, parsed);
  }
  return { kind: 'abbreviated', name, versions, invalidVersions: new Map(), time: new Map() };
}

/** Whether a version's document claims attestations: an object under `dist.attestations` (own properties only), as the packument reader takes one. */
function claimsAttestations(doc: Record<string, unknown>): boolean {
  const dist = Object.hasOwn(doc, 'dist') ? doc.dist : undefined;
  if (typeof dist !== 'object' || dist === null || Array.isArray(dist)) return false;
  const attestations = Object.hasOwn(dist, 'attestations') ? (dist as Record<string, unknown>).attestations : undefined;
  return typeof attestations === 'object' && attestations !== null && !Array.isArray(attestations);
}

