/**
 * npm keeps every registry document it fetched in its cache (`<cache>/_cacache`, the `cache` setting, `~/.npm` by
 * default): the packuments with `dist.signatures` and `dist.attestations`. After the wrapper's lock-only resolution
 * every packument of the new lockfile is there, so the gate reads them instead of fetching each one a second time.
 * Hostile input like any registry document (see kept-metadata.ts): only ever supplied to the gate, which verifies it.
 *
 * Layout (cacache, as npm 10, 11 and 12 write it; observed on npm 11.21 and 12.2): the index entry for a key is a line
 * `<sha1 of the JSON>\t<JSON>` in `index-v5/<h[0:2]>/<h[2:4]>/<h[4:]>`, `h` the sha256 (hex) of the key
 * `make-fetch-happen:request-cache:<url>`; the last valid line for the key wins, one with no integrity deletes it.
 * The body is at `content-v2/sha512/<d[0:2]>/<d[2:4]>/<d[4:]>`, `d` the hex of the entry's sha512 integrity, and is
 * checked against it.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isValidPackageName } from '../package-name.js';
import { httpUrl } from '../registry-url.js';
import { keptVersion, packumentFile, readAll, type CachedFile, type KeptVersion } from './kept-metadata.js';

/** An index bucket larger than this is not read (the packument is fetched instead). */
const MAX_BUCKET_BYTES = 1024 * 1024;
const SHA512 = /^sha512-([A-Za-z0-9+/]{86}==)$/;

/** The URL npm fetches a packument from (pacote: the registry, then the name with its `/` escaped), as cacache keys it. */
export function npmPackumentKey(registry: string, name: string): string | undefined {
  const url = httpUrl(`${registry.replace(/\/+$/, '')}/${name.replace('/', '%2f')}`);
  if (url === undefined) return undefined;
  return `make-fetch-happen:request-cache:${url.protocol}//${url.host}${url.pathname}${url.search}`;
}

/** The body cacache holds for `key`, checked against its integrity; undefined for anything else. */
function cachedBody(cacache: string, key: string): Buffer | undefined {
  const hash = createHash('sha256').update(key).digest('hex');
  const bucket = readAll(join(cacache, 'index-v5', hash.slice(0, 2), hash.slice(2, 4), hash.slice(4)));
  if (bucket === undefined || bucket.length > MAX_BUCKET_BYTES) return undefined;
  let integrity: string | undefined;
  for (const line of bucket.toString('utf8').split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const json = line.slice(tab + 1);
    if (createHash('sha1').update(json).digest('hex') !== line.slice(0, tab)) continue;
    let entry: unknown;
    try {
      entry = JSON.parse(json);
    } catch {
      continue;
    }
    if (typeof entry !== 'object' || entry === null || (entry as { key?: unknown }).key !== key) continue;
    const found = (entry as { integrity?: unknown }).integrity;
    integrity = typeof found === 'string' ? found : undefined;
  }
  const digest = integrity === undefined ? null : SHA512.exec(integrity);
  if (digest === null || digest === undefined) return undefined;
  const hex = Buffer.from(digest[1]!, 'base64').toString('hex');
  const body = readAll(join(cacache, 'content-v2', 'sha512', hex.slice(0, 2), hex.slice(2, 4), hex.slice(4)));
  return body !== undefined && createHash('sha512').update(body).digest('hex') === hex ? body : undefined;
}

function* cachedFiles(cacaches: readonly string[], registry: string, name: string): Generator<CachedFile> {
  const key = isValidPackageName(name) ? npmPackumentKey(registry, name) : undefined;
  if (key === undefined) return;
  for (const cacache of cacaches) {
    const body = cachedBody(cacache, key);
    const file = body === undefined ? undefined : packumentFile(body, name);
    if (file !== undefined) yield file;
  }
}

/**
 * What npm's cache (`_cacache` folders) holds for `name@version` from `registry`, when the version's document there has
 * the integrity that is installed (and, with `wanted`, the version's past from the same packument: see `keptVersion`);
 * undefined otherwise. Never throws.
 */
export function npmCached(cacaches: readonly string[], registry: string, name: string, version: string, integrity: string | undefined, wanted?: (candidate: string) => boolean): KeptVersion | undefined {
  if (integrity === undefined) return undefined;
  try {
    return keptVersion(cachedFiles(cacaches, registry, name), name, version, integrity, wanted);
  } catch {
    return undefined;
  }
}
