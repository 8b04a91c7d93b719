/**
 * Packuments (a package's registry metadata document), read defensively: the registry, a mirror or
 * whoever answers in between may send anything. Only the fields Portcullis uses are kept, every one
 * read as an own property and copied into fresh Maps or null-prototype objects, never merged.
 */
import { PortcullisError } from '../errors.js';

/** Which document: the abbreviated install document (`application/vnd.npm.install-v1+json`) or the full one. */
export type PackumentKind = 'abbreviated' | 'full';

/** One registry signature over `name@version:integrity`. */
export interface DistSignature {
  keyid: string;
  sig: string;
}

/** The parts of a version's `dist` that Portcullis uses. */
export interface PackumentDist {
  integrity?: string;
  shasum?: string;
  tarball?: string;
  /** Empty when the registry sent none. */
  signatures: DistSignature[];
  /**
   * The registry's claim that it serves attestations for this version (`dist.attestations`), and the provenance
   * predicate type it names. Only a hint of where to look: provenance counts only once its bundle verifies.
   */
  attestations?: { provenance?: string };
}

/** The parts of one version entry that Portcullis uses. */
export interface PackumentVersion {
  name: string;
  version: string;
  dist: PackumentDist;
  /**
   * The registry's claim that the version has install scripts. Abbreviated documents carry it only when true;
   * the parser makes their "none" explicit (`false`). Undefined together with `scripts` means unknown.
   */
  hasInstallScript?: boolean;
  /**
   * Lifecycle scripts, wherever the entry lists them (full documents, and full documents served for an
   * abbreviated request); a null-prototype record. Empty when a full manifest lists none.
   */
  scripts?: Readonly<Record<string, string>>;
  /** Set by npm when the package has a `binding.gyp`. */
  gypfile?: boolean;
  /** Dependency names the version's tarball ships (`bundleDependencies`; `true` read as every dependency). */
  bundleDependencies?: readonly string[];
}

/** A parsed packument. */
export interface Packument {
  kind: PackumentKind;
  name: string;
  versions: ReadonlyMap<string, PackumentVersion>;
  /**
   * Versions whose entries are malformed, with why. Kept apart so that one broken old version does
   * not make the whole package unknowable, yet using it fails closed.
   */
  invalidVersions: ReadonlyMap<string, string>;
  /** Publish time per version (full documents only). */
  time: ReadonlyMap<string, string>;
}

import { MAX_PACKUMENT_BYTES } from '../limits.js';

/**
 * What the registry actually sent, which decides what a version entry that says nothing about scripts
 * means: `abbreviated` (served as `application/vnd.npm.install-v1+json`: no `hasInstallScript` is the
 * registry's "none"), `full` (any other document: a manifest entry without `scripts` lists none) or
 * `stored` (our own cache projection, where every known answer is explicit: silence stays unknown).
 */
export type PackumentServed = PackumentKind | 'stored';

/** What was served, or `infer` when no Content-Type came with it (Yarn's HTTP stack hands over bodies only). */
export type PackumentServedHint = PackumentServed | 'infer';

/** What parsePackument checks the document against. */
export interface ParsePackumentOptions {
  /** The package that was asked for; a document for another name is refused. */
  name: string;
  /** What was asked for: only a full document's `time` is read. */
  kind: PackumentKind;
  /**
   * What was sent (see PackumentServed); defaults to `kind`. `infer` reads it from the document: one with a
   * `time` object is a full document (the abbreviated one never carries it), any other the abbreviated one.
   */
  served?: PackumentServedHint;
  maxBytes?: number;
}

/** The media type of the abbreviated install document. */
export const ABBREVIATED_MEDIA_TYPE = 'application/vnd.npm.install-v1+json';

/**
 * What a response's Content-Type says was served: only the install media type is an abbreviated document;
 * `infer` when there is no Content-Type to go by.
 */
export function servedKindOf(contentType: string | null): PackumentServedHint {
  if (contentType === null || contentType.trim() === '') return 'infer';
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  return type === ABBREVIATED_MEDIA_TYPE ? 'abbreviated' : 'full';
}

/**
 * What a version entry says about install-time scripts: the named install scripts and whether anything
 * runs, or `unknown` when the entry neither lists scripts nor says "none" — never read as "no scripts".
 */
export function installScriptsOf(entry: PackumentVersion, lifecycle: readonly string[]): { known: false } | { known: true; hasInstallScript: boolean; scripts: string[] } {
  if (entry.hasInstallScript === undefined && entry.scripts === undefined) return { known: false };
  const scripts = entry.scripts ? lifecycle.filter((name) => entry.scripts?.[name] !== undefined) : [];
  return { known: true, hasInstallScript: entry.hasInstallScript === true || scripts.length > 0, scripts };
}

type JsonObject = { readonly [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

const SEMVER = /^\d{1,16}\.\d{1,16}\.\d{1,16}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Parses a packument from the registry's bytes or text. Throws PortcullisError: `INPUT_TOO_LARGE`
 * over the size limit, `METADATA_UNAVAILABLE` for anything that is not a packument of `name`.
 * Messages are reasons ("… is not valid JSON"), meant to follow "could not fetch metadata for x: ".
 */
export function parsePackument(input: string | Uint8Array, options: ParsePackumentOptions): Packument {
  const maxBytes = options.maxBytes ?? MAX_PACKUMENT_BYTES;
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (size > maxBytes) {
    throw new PortcullisError('INPUT_TOO_LARGE', `the metadata is ${size} bytes, over the ${maxBytes}-byte limit`);
  }
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw invalid('the response is not valid UTF-8');
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(text.length === 0 ? 'the response is empty' : 'the response is not valid JSON (truncated or not a packument)');
  }
  return packumentFromJson(value, options);
}

/** Validates an already-parsed JSON value as a packument of `options.name` (see parsePackument). */
export function packumentFromJson(value: unknown, options: ParsePackumentOptions): Packument {
  if (!isObject(value)) throw invalid(`the response is ${describe(value)}, not a packument object`);
  const name = own(value, 'name');
  if (typeof name !== 'string') throw invalid('the packument has no "name"');
  if (name !== options.name) throw invalid(`the registry answered with the packument of "${truncate(name)}"`);
  const versionsValue = own(value, 'versions');
  if (!isObject(versionsValue)) throw invalid(`the packument's "versions" is ${describe(versionsValue)}, not an object`);

  const timeValue = options.kind === 'full' ? own(value, 'time') : undefined;
  if (timeValue !== undefined && !isObject(timeValue)) throw invalid(`the packument's "time" is ${describe(timeValue)}, not an object`);

  const hint = options.served ?? options.kind;
  const served: PackumentServed = hint !== 'infer' ? hint : isObject(own(value, 'time')) ? 'full' : 'abbreviated';
  const versions = new Map<string, PackumentVersion>();
  const invalidVersions = new Map<string, string>();
  const time = new Map<string, string>();
  for (const version of Object.keys(versionsValue)) {
    if (!SEMVER.test(version)) {
      // A key that is not a version (say `__proto__`) can never be what a lockfile installed.
      continue;
    }
    const parsed = versionFromJson(versionsValue[version], name, version, served);
    if (typeof parsed === 'string') invalidVersions.set(version, parsed);
    else versions.set(version, parsed);
    const published = timeValue === undefined ? undefined : own(timeValue, version);
    if (typeof published === 'string') time.set(version, published);
  }
  return { kind: options.kind, name, versions, invalidVersions, time };
}

/**
 * One version's entry as a package manager hands it over (pnpm's `readPackage`: the entry of whichever
 * document pnpm fetched), validated like any packument entry; a string says why it is unusable. Its `scripts`
 * count when listed; silence is read as the abbreviated document's "none" — an abbreviated entry omits
 * `hasInstallScript` when there are none, and a full one lists its scripts.
 */
export function packumentVersionFromJson(entry: unknown, name: string, version: string): PackumentVersion | string {
  return versionFromJson(entry, name, version, 'abbreviated');
}

/** A version entry, or the reason it is unusable. */
function versionFromJson(entry: unknown, name: string, version: string, served: PackumentServed): PackumentVersion | string {
  if (!isObject(entry)) return `its entry is ${describe(entry)}, not an object`;
  const entryVersion = own(entry, 'version');
  if (entryVersion !== version) return `its entry says version ${typeof entryVersion === 'string' ? truncate(entryVersion) : describe(entryVersion)}`;
  const entryName = own(entry, 'name');
  if (entryName !== undefined && entryName !== name) return `its entry names another package`;

  const distValue = own(entry, 'dist');
  if (!isObject(distValue)) return `its "dist" is ${describe(distValue)}, not an object`;
  const dist: PackumentDist = { signatures: [] };
  for (const field of ['integrity', 'shasum', 'tarball'] as const) {
    const fieldValue = own(distValue, field);
    if (fieldValue === undefined) continue;
    if (typeof fieldValue !== 'string') return `its "dist.${field}" is ${describe(fieldValue)}, not a string`;
    dist[field] = fieldValue;
  }
  const signatures = own(distValue, 'signatures');
  if (signatures !== undefined) {
    if (!Array.isArray(signatures)) return `its "dist.signatures" is ${describe(signatures)}, not an array`;
    for (const signature of signatures as unknown[]) {
      if (!isObject(signature)) return `a signature is ${describe(signature)}, not an object`;
      const keyid = own(signature, 'keyid');
      const sig = own(signature, 'sig');
      if (typeof keyid !== 'string' || typeof sig !== 'string') return 'a signature lacks a string "keyid" or "sig"';
      dist.signatures.push({ keyid, sig });
    }
  }
  const attestations = own(distValue, 'attestations');
  if (isObject(attestations)) {
    // A claim that cannot be read is still a claim (an earlier version may have had provenance): verification decides.
    const provenance = own(attestations, 'provenance');
    const predicateType = isObject(provenance) ? own(provenance, 'predicateType') : undefined;
    dist.attestations = typeof predicateType === 'string' && predicateType.length <= 200 ? { provenance: predicateType } : {};
  }
  const result: PackumentVersion = { name, version, dist };

  for (const flag of ['hasInstallScript', 'gypfile'] as const) {
    const flagValue = own(entry, flag);
    if (flagValue === undefined) continue;
    if (typeof flagValue !== 'boolean') return `its "${flag}" is ${describe(flagValue)}, not a boolean`;
    result[flag] = flagValue;
  }

  // Scripts count wherever they are listed: a registry may answer the abbreviated request with the full document.
  const bundled = own(entry, 'bundleDependencies') ?? own(entry, 'bundledDependencies');
  if (bundled === true) {
    result.bundleDependencies = [...['dependencies', 'optionalDependencies'].flatMap((group) => { const deps = own(entry, group); return isObject(deps) ? Object.keys(deps) : []; })];
  } else if (Array.isArray(bundled)) {
    if (!bundled.every((item): item is string => typeof item === 'string')) return 'its "bundleDependencies" lists something that is not a name';
    result.bundleDependencies = [...bundled];
  }

  const scriptsValue = own(entry, 'scripts');
  if (scriptsValue !== undefined) {
    if (!isObject(scriptsValue)) return `its "scripts" is ${describe(scriptsValue)}, not an object`;
    const scripts: Record<string, string> = Object.create(null);
    for (const script of Object.keys(scriptsValue)) {
      const command = scriptsValue[script];
      // A non-string script cannot be run by any package manager; any other value is a forgery.
      if (typeof command !== 'string') return `its script "${truncate(script)}" is ${describe(command)}, not a string`;
      scripts[script] = command;
    }
    result.scripts = Object.freeze(scripts);
  } else if (result.hasInstallScript === undefined) {
    // Silence means "none" only where the document's format says so; anything else stays unknown.
    if (served === 'abbreviated') result.hasInstallScript = false;
    else if (served === 'full' && typeof own(entry, '_id') === 'string') result.scripts = Object.freeze(Object.create(null) as Record<string, string>);
  }
  return result;
}

/**
 * The smallest packument-shaped JSON that parses back to the same Packument: what the cache
 * stores, so a warm run parses kilobytes instead of the registry's megabytes. Invalid entries
 * are kept verbatim so they stay invalid for the same reason.
 */
export function packumentToJson(packument: Packument, raw?: unknown): unknown {
  const versions: Record<string, unknown> = Object.create(null);
  const rawVersions = isObject(raw) ? own(raw, 'versions') : undefined;
  for (const [version, entry] of packument.versions) {
    const out: Record<string, unknown> = { name: entry.name, version: entry.version, dist: entry.dist };
    if (entry.hasInstallScript !== undefined) out.hasInstallScript = entry.hasInstallScript;
    if (entry.gypfile !== undefined) out.gypfile = entry.gypfile;
    // Every known answer is written explicitly: the projection is read back as `stored`, where silence is unknown.
    if (entry.scripts !== undefined) out.scripts = { ...entry.scripts };
    if (entry.bundleDependencies !== undefined) out.bundleDependencies = [...entry.bundleDependencies];
    versions[version] = out;
  }
  for (const version of packument.invalidVersions.keys()) {
    versions[version] = isObject(rawVersions) ? own(rawVersions, version) : null;
  }
  const out: Record<string, unknown> = { name: packument.name, versions };
  if (packument.kind === 'full') out.time = Object.fromEntries(packument.time);
  return out;
}

function invalid(reason: string): PortcullisError {
  return new PortcullisError('METADATA_UNAVAILABLE', reason);
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
