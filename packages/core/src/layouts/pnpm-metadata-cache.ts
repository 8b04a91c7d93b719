/**
 * pnpm 12 keeps the registry metadata it fetched — `dist.signatures` included — in its own cache
 * (`<cacheDir>/v12/metadata/<registry>/<name>.jsonl`), but hands readPackage manifests without the signatures.
 * Reading the version's document from that cache saves fetching the packument a second time. What is read
 * there is hostile input like any registry document: bounded, parsed defensively, and only ever *supplied* to
 * the gate, which verifies its signatures against the policy's keys and the integrity pnpm will install. A
 * missing, torn or unfamiliar file just means the packument is fetched as before.
 *
 * Layout (observed on pnpm 12.21): a first line `pnpm-meta-v1 <header bytes> <index bytes>`, then the header
 * (etag, modified), the index (`{"name", "distTags", "versions": [[version, offset, length], …]}`), then each
 * version's document at its offset (bytes, from the end of the index).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import type { Env } from '../env.js';
import { packumentFromJson, packumentVersionFromJson, type Packument, type PackumentVersion } from '../registry/packument.js';
import { isValidPackageName } from '../package-name.js';

/** A cached document larger than this is not read (the packument is fetched instead). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const FIRST_LINE = /^pnpm-meta-v1 (\d{1,9}) (\d{1,9})$/;

/** pnpm 12's folder name for a registry URL (`http://127.0.0.1:4873/` → `http%3A+127.0.0.1+4873`). */
export function registryFolder(registry: string): string | undefined {
  let url: URL;
  try {
    url = new URL(registry);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const rest = `${url.host}${url.pathname}`.replace(/\/+$/, '').split(/[/:]/).filter(Boolean);
  if (rest.some((part) => part === '.' || part === '..' || part.includes('\\'))) return undefined;
  return [encodeURIComponent(url.protocol), ...rest].join('+');
}

function readAll(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const { size } = fstatSync(fd);
    if (size > MAX_FILE_BYTES) return undefined;
    const buffer = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buffer, read, size - read, read);
      if (n === 0) return undefined;
      read += n;
    }
    return buffer;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function parse(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** pnpm 12's cache file for `name` from `registry`: its bytes, where the documents start, and the index's versions. */
function cachedFile(cacheDir: string, registry: string, name: string): { bytes: Buffer; indexEnd: number; versions: unknown[] } | undefined {
  if (!isValidPackageName(name)) return undefined;
  const folder = registryFolder(registry);
  if (folder === undefined) return undefined;
  const bytes = readAll(join(cacheDir, 'v12', 'metadata', folder, ...name.split('/')) + '.jsonl');
  if (bytes === undefined) return undefined;
  const newline = bytes.indexOf(0x0a);
  if (newline < 0 || newline > 64) return undefined;
  const first = FIRST_LINE.exec(bytes.subarray(0, newline).toString('latin1'));
  if (first === null) return undefined;
  const headerEnd = newline + 1 + Number(first[1]);
  const indexEnd = headerEnd + Number(first[2]);
  if (indexEnd > bytes.length) return undefined;
  const index = parse(bytes.subarray(headerEnd, indexEnd));
  if (typeof index !== 'object' || index === null || (index as { name?: unknown }).name !== name) return undefined;
  const versions = (index as { versions?: unknown }).versions;
  return Array.isArray(versions) ? { bytes, indexEnd, versions } : undefined;
}

/** One version's document from a cache file (undefined for a malformed entry or document). */
function documentAt(file: { bytes: Buffer; indexEnd: number }, entry: unknown, name: string): { version: string; doc: object } | undefined {
  if (!Array.isArray(entry)) return undefined;
  const [version, offset, length] = entry as unknown[];
  if (typeof version !== 'string' || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || (offset as number) < 0 || (length as number) <= 0) return undefined;
  const start = file.indexEnd + (offset as number);
  const end = start + (length as number);
  if (end > file.bytes.length) return undefined;
  const doc = parse(file.bytes.subarray(start, end));
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const { name: docName, version: docVersion } = doc as { name?: unknown; version?: unknown };
  return docName === name && docVersion === version ? { version, doc } : undefined;
}

/**
 * The document pnpm 12 cached for `name@version` from `registry`, or undefined. Never throws. The caller still
 * has the gate verify it (signature, integrity): this only saves a request.
 */
export function pnpmCachedVersion(cacheDir: string, registry: string, name: string, version: string): unknown {
  const file = cachedFile(cacheDir, registry, name);
  if (file === undefined) return undefined;
  for (const entry of file.versions) {
    if (!Array.isArray(entry) || entry[0] !== version) continue;
    return documentAt(file, entry, name)?.doc;
  }
  return undefined;
}

/**
 * Every version pnpm 12 cached for `name` from `registry`, as an abbreviated packument holding `version` — for a
 * check that reads the release line (provenance no-downgrade: which earlier versions claim attestations, each
 * then verified on its own). Undefined when there is none, any entry is malformed, or `version` is not in it (an
 * older copy than the one pnpm resolved from): the caller then fetches the packument. Hostile input like any
 * registry document, and no more trusted than Portcullis' own metadata cache.
 */
export function pnpmCachedPackument(cacheDirs: readonly string[], registry: string, name: string, version: string): Packument | undefined {
  for (const dir of cacheDirs) {
    const file = cachedFile(dir, registry, name);
    if (file === undefined) continue;
    const versions: Record<string, object> = Object.create(null) as Record<string, object>;
    for (const entry of file.versions) {
      const found = documentAt(file, entry, name);
      if (found === undefined || Object.prototype.hasOwnProperty.call(versions, found.version)) return undefined;
      versions[found.version] = found.doc;
    }
    if (!Object.prototype.hasOwnProperty.call(versions, version)) continue;
    try {
      return packumentFromJson({ name, versions }, { name, kind: 'abbreviated', served: 'abbreviated' });
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The version's document from pnpm 12's cache as registry metadata to *supply* to a judgement (verified there like
 * any registry document), when its integrity is the one that is installed; undefined otherwise.
 */
export function pnpmCachedMetadata(cacheDirs: readonly string[], registry: string, name: string, version: string, integrity: string | undefined): PackumentVersion | undefined {
  if (integrity === undefined) return undefined;
  for (const dir of cacheDirs) {
    const doc = pnpmCachedVersion(dir, registry, name, version);
    if (doc === undefined) continue;
    const parsed = packumentVersionFromJson(doc, name, version);
    if (typeof parsed !== 'string' && parsed.dist.integrity === integrity) return parsed;
  }
  return undefined;
}

/**
 * Where pnpm keeps its cache when nothing else says: `pnpm_config_cache_dir` / `npm_config_cache_dir` in the
 * environment, else the platform's default (`$XDG_CACHE_HOME/pnpm`, `~/.cache/pnpm`, `~/Library/Caches/pnpm`,
 * `%LOCALAPPDATA%\pnpm-cache`). A project's own `cacheDir` setting is added by the caller that reads it.
 */
export function defaultPnpmCacheDirs(env: Env = process.env, home: string = homedir(), platform: NodeJS.Platform = process.platform): string[] {
  const told = [env.pnpm_config_cache_dir, env.PNPM_CONFIG_CACHE_DIR, env.npm_config_cache_dir, env.NPM_CONFIG_CACHE_DIR].filter((dir): dir is string => typeof dir === 'string' && dir !== '');
  const fallback =
    platform === 'win32' ? join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'pnpm-cache') : platform === 'darwin' ? join(home, 'Library', 'Caches', 'pnpm') : join(env.XDG_CACHE_HOME || join(home, '.cache'), 'pnpm');
  return [...new Set([...told, fallback])];
}
