/**
 * The registry metadata client: packuments and signing keys over HTTP, with bounded concurrency,
 * retries, in-flight de-duplication and the on-disk cache. Every failure to obtain metadata is a
 * METADATA_UNAVAILABLE error: Portcullis fails closed, it never guesses "allowed".
 */
import { defaultFetch } from './connections.js';
import { PortcullisError } from '../errors.js';
import { createMetadataCache, type CacheEntry, type CacheKind, type MetadataCache } from '../cache/metadata.js';
import type { RegistryConfig } from './config.js';
import { keysFromJson, parseKeys, MAX_KEYS_BYTES, type ServedKeys } from './keys.js';
import { MAX_ATTESTATIONS_BYTES, MAX_PACKUMENT_BYTES } from '../limits.js';
import { packumentFromJson, packumentToJson, parsePackument, servedKindOf, type Packument, type PackumentKind } from './packument.js';
import { isValidPackageName } from '../package-name.js';
import { attestationsUrl, keysUrl, nerfDart, normalizeRegistryUrl, packumentUrl, redactUrl } from '../registry-url.js';

/**
 * A response as the client reads it: fetch's own, or one from a surface's HTTP stack, which may hand over the body it
 * already holds as bytes (no stream is made for it).
 */
export interface RegistryResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array> | Uint8Array | null;
}

/** How the client makes a request: `fetch` itself, or a surface's HTTP stack (the Yarn plugin's: Yarn's). */
export type RegistryFetch = (url: string, init: { headers: Record<string, string>; signal: AbortSignal; redirect: 'manual' }) => Promise<RegistryResponse>;

/** How the client talks to registries; every field but `config` has a default. */
export interface RegistryClientOptions {
  config: RegistryConfig;
  /** Directory of the on-disk cache; without one nothing is cached between runs. */
  cacheDir?: string;
  /** Use only the cache; a miss is METADATA_UNAVAILABLE. */
  offline?: boolean;
  /**
   * Whether what is fetched is written to the cache (default true). False: the cache is still read (offline, fresh
   * entries), and each document is kept in memory for this client only (a surface whose HTTP stack cannot revalidate
   * an entry, so that a write would pay off only within the freshness window).
   */
  writeCache?: boolean;
  /** Requests in flight at once. Default 50 (as Yarn's networkConcurrency): hooks that wait on metadata wait less. */
  concurrency?: number;
  /** Per attempt, headers and body together. Default 30 000 ms. */
  timeoutMs?: number;
  /** Extra attempts after a network error, 429 or 5xx. Default 2. */
  retries?: number;
  /** First backoff; doubles per retry, with jitter. Default 250 ms. */
  backoffMs?: number;
  /** Cap on one backoff, including a server's Retry-After. Default 10 000 ms. */
  maxBackoffMs?: number;
  /** A cached entry younger than this is used without asking the registry. Default 5 minutes. */
  maxAgeMs?: number;
  /**
   * A cached packument younger than this that lists the version its caller names (GetPackumentOptions.version) is used
   * without asking the registry: a published version never changes. Default a day (as a remembered lockfile verdict).
   */
  versionMaxAgeMs?: number;
  /** Largest packument accepted. Default 64 MiB. */
  maxBytes?: number;
  fetch?: RegistryFetch;
  /** Clock, for tests. */
  now?: () => number;
  /** Receives one line per request and cache decision; lines are already redacted. */
  log?: (message: string) => void;
}

/** What getPackument may be told. */
export interface GetPackumentOptions {
  /** The full document (scripts, publish times) instead of the abbreviated install document. */
  full?: boolean;
  /** The registry the lockfile names; default: the configured one for the name. */
  registry?: string;
  /**
   * The one version the caller reads (a lockfile's pinned version: its document, its publish time, its release line
   * before it). A cached packument that lists it is used for up to `versionMaxAgeMs` without a revalidation request
   * (a fresh CI runner that restored the cache, a decision the next day): its document is the one published, and
   * what the caller reads of it is verified as always. Anything else, and a caller naming no version, gets a
   * packument no older than `maxAgeMs`, revalidated otherwise.
   */
  version?: string;
}

/** Fetches registry metadata. */
export interface RegistryClient {
  /** A package's packument; the same request is made once however many callers ask. */
  getPackument(name: string, options?: GetPackumentOptions): Promise<Packument>;
  /**
   * A version's attestations document (`/-/npm/v1/attestations/<name>@<version>` on `registry`) as JSON, for the
   * provenance verifier to validate; null when the registry has none for it (404).
   */
  getAttestations(name: string, version: string, registry: string): Promise<unknown>;
  /** A registry's `/-/npm/v1/keys`, validated (registry/keys.ts), or null when it serves none (404). */
  getKeys(registry: string): Promise<ServedKeys | null>;
  /**
   * The bytes at a tarball URL (with the credentials configured for its host), at most `limit` bytes; never
   * cached here and never trusted: the caller compares them with a pinned integrity.
   */
  getTarball(url: string, limit: number): Promise<Uint8Array>;
  /**
   * Resolves once every request started so far has finished, its cache entry written (or failed); a request started
   * after that writes no cache entry. Called when the process is about to end (a refusal): a write it would cut off
   * between the temp file and its rename would leave the temp file behind.
   */
  settle(): Promise<void>;
}

const ACCEPT: Record<CacheKind, string> = {
  abbreviated: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8',
  full: 'application/json',
  keys: 'application/json',
  attestations: 'application/json',
};
const MAX_REDIRECTS = 5;
const USER_AGENT = `portcullis (node ${process.version})`;

/** A reason metadata could not be obtained; becomes the tail of the METADATA_UNAVAILABLE message. */
class Unavailable extends Error {}

interface Response_ {
  status: number;
  body: Uint8Array | null;
  etag: string | null;
  lastModified: string | null;
  contentType: string | null;
  /** Whether credentials went with the final request. */
  authSent: boolean;
  retryAfterMs: number | null;
}

/** Creates a client; see RegistryClientOptions for the defaults. */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const config = options.config;
  const fetchImpl: RegistryFetch = options.fetch ?? defaultFetch();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const retries = Math.max(0, options.retries ?? 2);
  const backoffMs = options.backoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
  const versionMaxAgeMs = Math.max(maxAgeMs, options.versionMaxAgeMs ?? 24 * 60 * 60_000);
  /** Packuments a call took from a cache entry older than `maxAgeMs` because they list its version (getPackument). */
  const servedForVersion = new WeakSet<Packument>();
  const maxBytes = options.maxBytes ?? MAX_PACKUMENT_BYTES;
  const now = options.now ?? Date.now;
  // Messages are made only when someone reads them: redacting each request's URL took ~12 ms of a cold Yarn install of
  // 1,000 packages (its profile), for messages nobody logged.
  const log = (message: () => string): void => {
    if (options.log !== undefined) options.log(config.redact(message()));
  };
  const cache: MetadataCache | null =
    options.cacheDir === undefined ? null : createMetadataCache(options.cacheDir, { onError: (message) => log(() => message) });
  const slots = createLimit(Math.max(1, options.concurrency ?? 50));
  const inFlight = new Map<string, Promise<unknown>>();
  /** Set once settle() returned: the process is ending, and nothing more is written to the cache. */
  let settled = false;

  /**
   * One promise per key while it runs and, unless `keep` is false, after it succeeds; a failure is forgotten so a
   * later call tries again. Documents read once per decision (a version's attestations: verified once, the outcome
   * kept by the caller) are not kept: measured, 1,000 parsed attestation documents kept alive until the decision
   * ended were a large part of the memory a cold decision with provenance required took.
   */
  function once<T>(key: string, load: () => Promise<T>, keep = true): Promise<T> {
    const existing = inFlight.get(key);
    if (existing !== undefined) return existing as Promise<T>;
    const promise = load();
    inFlight.set(key, promise);
    const forget = () => {
      if (inFlight.get(key) === promise) inFlight.delete(key);
    };
    if (keep) promise.catch(forget);
    else promise.then(forget, forget);
    return promise;
  }

  /** One HTTP exchange, following redirects itself so credentials are chosen per host at every hop. */
  async function exchange(url: string, headers: Record<string, string>, limit: number): Promise<Response_> {
    // Made when the fetch reads it (fetch does at once; the Yarn plugin's, which Yarn times out itself, never does: a
    // timer per request was ~10 ms of a cold Yarn install of 3,000 packages). One for the whole exchange, every hop.
    let timeout: AbortSignal | undefined;
    const init = (requestHeaders: Record<string, string>) => ({
      headers: requestHeaders,
      get signal() {
        return (timeout ??= AbortSignal.timeout(timeoutMs));
      },
      redirect: 'manual' as const,
    });
    let current = url;
    for (let hop = 0; ; hop++) {
      const credentials = config.authFor(current);
      const requestHeaders = { ...headers };
      if (credentials !== null) requestHeaders.authorization = credentials.authorization();
      const res = await fetchImpl(current, init(requestHeaders));
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && res.status !== 304 && location !== null) {
        await discard(res);
        if (hop >= MAX_REDIRECTS) throw new Unavailable(`more than ${MAX_REDIRECTS} redirects`);
        let next: URL;
        try {
          next = new URL(location, current);
        } catch {
          throw new Unavailable(`redirected to an invalid URL`);
        }
        if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new Unavailable(`redirected to a ${next.protocol} URL`);
        if (new URL(current).protocol === 'https:' && next.protocol === 'http:') {
          throw new Unavailable(`redirected from https to plain http (${redactUrl(next.href)})`);
        }
        log(() => `${redactUrl(current)} redirects to ${redactUrl(next.href)}`);
        current = next.href;
        continue;
      }
      const retryAfter = res.headers.get('retry-after');
      const result: Response_ = {
        status: res.status,
        body: null,
        etag: res.headers.get('etag'),
        lastModified: res.headers.get('last-modified'),
        contentType: res.headers.get('content-type'),
        authSent: credentials !== null,
        retryAfterMs: retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) * 1000 : null,
      };
      if (res.status === 200) result.body = await readBody(res, limit);
      else await discard(res);
      return result;
    }
  }

  /** An exchange with retries on network errors, timeouts, 429 and 5xx; other statuses are returned as they are. */
  async function request(url: string, headers: Record<string, string>, limit: number): Promise<Response_> {
    for (let attempt = 0; ; attempt++) {
      let reason: string;
      let retryAfterMs: number | null = null;
      let final: Response_ | null = null;
      const started = now();
      await slots.acquire();
      try {
        const res = await exchange(url, headers, limit);
        log(() => `GET ${redactUrl(url)} ${res.status} (${now() - started} ms)`);
        if (res.status === 429 || res.status >= 500) {
          reason = `HTTP ${res.status}`;
          retryAfterMs = res.retryAfterMs;
        } else {
          final = res;
        }
      } catch (error) {
        if (error instanceof Unavailable) throw error;
        reason = describeNetworkError(error, timeoutMs);
        log(() => `GET ${redactUrl(url)} failed: ${reason}`);
      } finally {
        slots.release();
      }
      if (final !== null) return final;
      if (attempt >= retries) {
        throw new Unavailable(attempt === 0 ? reason! : `${reason!} (after ${attempt + 1} attempts)`);
      }
      const exponential = Math.min(maxBackoffMs, backoffMs * 2 ** attempt);
      const delay = Math.max(exponential * (0.5 + Math.random() / 2), Math.min(retryAfterMs ?? 0, maxBackoffMs));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /** Cache → freshness → conditional request → cache, shared by packuments and keys. */
  async function load<T>(spec: {
    registry: string;
    name: string;
    kind: CacheKind;
    url: string;
    limit: number;
    /** Validates a cached or fetched JSON body; throws (with a reason) when it is not usable. */
    fromJson: (value: unknown) => T;
    fromBytes: (bytes: Uint8Array, contentType: string | null) => { value: T; json: unknown };
    /** What a 404 means: a value (keys: none), or a reason. */
    notFound: (authSent: boolean) => T | Unavailable;
    /** Whether a cached value older than `maxAgeMs` (but not `versionMaxAgeMs`) serves the caller as it is. */
    servesAsCached?: (value: T) => boolean;
  }): Promise<{ value: T; cachedForVersion: boolean }> {
    const { registry, name, kind, url } = spec;
    let cached: { entry: CacheEntry; value: T } | null = null;
    if (cache !== null) {
      const entry = await cache.get(registry, name, kind);
      if (entry !== null) {
        try {
          const value = entry.status === 404 ? spec.notFound(false) : spec.fromJson(entry.body);
          // A cached 404 that now reads as an error (packuments never cache one) is a miss.
          if (!(value instanceof Unavailable)) cached = { entry, value: value as T };
        } catch {
          log(() => `ignoring a malformed cache entry for ${redactUrl(url)}`);
        }
      }
    }
    if (options.offline) {
      if (cached !== null) return { value: cached.value, cachedForVersion: false };
      throw new Unavailable(
        cache === null
          ? 'offline mode has no cache directory to read; run once online to fill the cache'
          : 'offline mode and nothing is cached for it; run once online to fill the cache',
      );
    }
    if (cached !== null && now() - cached.entry.fetchedAt < maxAgeMs) {
      log(() => `${redactUrl(url)} from cache (fresh)`);
      return { value: cached.value, cachedForVersion: false };
    }
    const age = cached === null ? Infinity : now() - cached.entry.fetchedAt;
    if (cached !== null && age >= 0 && age < versionMaxAgeMs && spec.servesAsCached?.(cached.value) === true) {
      log(() => `${redactUrl(url)} from cache (it lists the version asked for)`);
      return { value: cached.value, cachedForVersion: true };
    }

    const headers: Record<string, string> = { accept: ACCEPT[kind], 'user-agent': USER_AGENT };
    if (cached?.entry.etag) headers['if-none-match'] = cached.entry.etag;
    if (cached?.entry.lastModified) headers['if-modified-since'] = cached.entry.lastModified;
    const res = await request(url, headers, spec.limit);
    const store = (entry: Omit<CacheEntry, 'url' | 'fetchedAt'>): Promise<void> =>
      options.writeCache === false || settled ? Promise.resolve() : cache?.set(registry, name, kind, { url: redactUrl(url), fetchedAt: now(), ...entry }) ?? Promise.resolve();

    if (res.status === 304) {
      if (cached === null) throw new Unavailable('the registry answered 304 Not Modified to an unconditional request');
      await store({ etag: res.etag ?? cached.entry.etag, lastModified: res.lastModified ?? cached.entry.lastModified, status: cached.entry.status, body: cached.entry.body });
      return { value: cached.value, cachedForVersion: false };
    }
    if (res.status === 200 && res.body !== null) {
      let parsed: { value: T; json: unknown };
      try {
        parsed = spec.fromBytes(res.body, res.contentType);
      } catch (error) {
        throw new Unavailable(error instanceof Error ? error.message : String(error));
      }
      await store({ etag: res.etag, lastModified: res.lastModified, status: 200, body: parsed.json });
      return { value: parsed.value, cachedForVersion: false };
    }
    if (res.status === 404) {
      const outcome = spec.notFound(res.authSent);
      if (outcome instanceof Unavailable) throw outcome;
      await store({ etag: res.etag, lastModified: res.lastModified, status: 404, body: null });
      return { value: outcome, cachedForVersion: false };
    }
    if (res.status === 401 || res.status === 403) {
      const prefix = nerfDart(registry) ?? registry;
      throw new Unavailable(
        res.authSent
          ? `the registry refused the credentials configured for ${prefix} (HTTP ${res.status}); renew the token in .npmrc`
          : `the registry requires authentication (HTTP ${res.status}) and no credentials are configured for ${prefix}; add "${prefix}:_authToken=…" to .npmrc`,
      );
    }
    throw new Unavailable(`unexpected HTTP ${res.status}`);
  }

  /** Turns a reason into the user-facing error, redacted. */
  function fail(error: unknown, what: string, registry: string): never {
    const reason =
      error instanceof Unavailable || error instanceof PortcullisError ? error.message : `unexpected error: ${String(error)}`;
    throw new PortcullisError('METADATA_UNAVAILABLE', config.redact(`could not fetch ${what} from ${redactUrl(registry)}: ${reason}`));
  }

  return {
    getPackument(name, getOptions = {}) {
      const kind: PackumentKind = getOptions.full ? 'full' : 'abbreviated';
      let registry: string;
      try {
        registry = normalizeRegistryUrl(getOptions.registry ?? config.registryFor(name));
      } catch (error) {
        return Promise.reject(
          new PortcullisError('METADATA_UNAVAILABLE', `could not fetch metadata for ${name}: ${error instanceof Error ? error.message : String(error)}`),
        );
      }
      if (!isValidPackageName(name)) {
        return Promise.reject(
          new PortcullisError('METADATA_UNAVAILABLE', `could not fetch metadata for ${JSON.stringify(name)} from ${redactUrl(registry)}: it is not a valid package name`),
        );
      }
      const spec = {
        registry,
        name,
        kind,
        url: packumentUrl(registry, name),
        limit: maxBytes,
        fromJson: (value: unknown) => packumentFromJson(value, { name, kind, served: 'stored' }),
        fromBytes: (bytes: Uint8Array, contentType: string | null) => {
          const value = parsePackument(bytes, { name, kind, served: servedKindOf(contentType), maxBytes });
          const raw: unknown = value.invalidVersions.size > 0 ? JSON.parse(Buffer.from(bytes).toString('utf8')) : undefined;
          return { value, json: packumentToJson(value, raw) };
        },
        notFound: (authSent: boolean) =>
          new Unavailable(
            `the registry has no package named ${name} (HTTP 404), yet the lockfile says it was installed from there` +
              (authSent ? '' : '; if it is private, configure credentials for it in .npmrc'),
          ),
      };
      const key = `${kind}\0${registry}\0${name}`;
      const version = getOptions.version;
      // The first call for a name decides how it is loaded (one request however many ask): by its version when it names
      // one. A packument taken from an older cache entry because it lists that version serves only callers whose version
      // it lists; any other caller gets it revalidated, as without a version (once more per name at most).
      const revalidated = () =>
        once(`${key}\0revalidated`, () => load<Packument>(spec).then(({ value }) => value)).catch((error: unknown) => fail(error, `metadata for ${name}`, registry));
      const first = once(key, () =>
        load<Packument>({ ...spec, ...(version !== undefined ? { servesAsCached: (packument: Packument) => packument.versions.has(version) } : {}) })
          .then(({ value, cachedForVersion }) => {
            if (cachedForVersion) servedForVersion.add(value);
            return value;
          })
          .catch((error: unknown) => fail(error, `metadata for ${name}`, registry)),
      );
      return first.then((packument) => (!servedForVersion.has(packument) || (version !== undefined && packument.versions.has(version)) ? packument : revalidated()));
    },

    async settle() {
      // Requests started while waiting (a retry, a redirect) are awaited too.
      for (let seen = -1; seen !== inFlight.size; ) {
        seen = inFlight.size;
        await Promise.allSettled([...inFlight.values()]);
      }
      settled = true;
    },

    getAttestations(name, version, registryUrl) {
      let registry: string;
      try {
        registry = normalizeRegistryUrl(registryUrl);
      } catch (error) {
        return Promise.reject(new PortcullisError('METADATA_UNAVAILABLE', `could not fetch the attestations of ${name}@${version}: ${error instanceof Error ? error.message : String(error)}`));
      }
      if (!isValidPackageName(name) || version.length === 0 || version.length > 256) {
        return Promise.reject(new PortcullisError('METADATA_UNAVAILABLE', `could not fetch attestations for ${JSON.stringify(`${name}@${version}`).slice(0, 300)}: not a valid package and version`));
      }
      return once(`attestations\0${registry}\0${name}@${version}`, () =>
        load<unknown>({
          registry,
          name: `${name}@${version}`,
          kind: 'attestations',
          url: attestationsUrl(registry, name, version),
          limit: MAX_ATTESTATIONS_BYTES,
          // The document is validated by the provenance verifier; here it only has to be JSON.
          fromJson: (value) => value,
          fromBytes: (bytes) => {
            let json: unknown;
            try {
              json = JSON.parse(Buffer.from(bytes).toString('utf8'));
            } catch {
              throw new Unavailable('the attestations response is not valid JSON');
            }
            return { value: json, json };
          },
          // "No attestations for this version": the policy decides what that means.
          notFound: () => null,
        })
          .then(({ value }) => value)
          .catch((error: unknown) => fail(error, `the attestations of ${name}@${version}`, registry)),
        false,
      );
    },

    async getTarball(url, limit) {
      let parsed: URL;
      try {
        parsed = new URL(url);
        if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`a ${parsed.protocol} URL`);
      } catch (error) {
        throw new PortcullisError('METADATA_UNAVAILABLE', `could not fetch the tarball ${JSON.stringify(url.slice(0, 300))}: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (options.offline === true) throw new PortcullisError('METADATA_UNAVAILABLE', `could not fetch ${redactUrl(parsed.href)}: offline, and it is not in the cache`);
      try {
        const res = await request(parsed.href, { accept: 'application/octet-stream' }, limit);
        if (res.status !== 200 || res.body === null) throw new Unavailable(`HTTP ${res.status}`);
        return res.body;
      } catch (error) {
        return fail(error, 'the tarball', parsed.href);
      }
    },

    getKeys(registryUrl) {
      let registry: string;
      try {
        registry = normalizeRegistryUrl(registryUrl);
      } catch (error) {
        return Promise.reject(new PortcullisError('METADATA_UNAVAILABLE', `could not fetch signing keys: ${error instanceof Error ? error.message : String(error)}`));
      }
      return once(`keys\0${registry}`, () =>
        load<ServedKeys | null>({
          registry,
          name: '',
          kind: 'keys',
          url: keysUrl(registry),
          limit: MAX_KEYS_BYTES,
          fromJson: (value) => keysFromJson(value),
          fromBytes: (bytes) => {
            const keys = parseKeys(bytes);
            return { value: keys, json: { keys } };
          },
          // "This registry serves no keys": the policy decides what that means.
          notFound: () => null,
        })
          .then(({ value }) => value)
          .catch((error: unknown) => fail(error, 'the signing keys', registry)),
      );
    },
  };
}

/** Lets go of a response's body unread. */
async function discard(res: RegistryResponse): Promise<void> {
  if (res.body !== null && !(res.body instanceof Uint8Array)) await res.body.cancel().catch(() => undefined);
}

/** Reads a body up to `limit` bytes; stops reading (and fails) as soon as it is exceeded. */
async function readBody(res: RegistryResponse, limit: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await discard(res);
    throw new Unavailable(`the response is larger than the ${limit}-byte limit`);
  }
  const body = res.body;
  if (body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) {
    if (body.byteLength > limit) throw new Unavailable(`the response is larger than the ${limit}-byte limit`);
    return body;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > limit) {
      await body.cancel().catch(() => undefined);
      throw new Unavailable(`the response is larger than the ${limit}-byte limit`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return 'the connection was reset';
  if (code === 'ECONNREFUSED') return 'the connection was refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name does not resolve';
  if (error instanceof Error && error.message === 'terminated') return 'the response was cut off';
  const causeText = typeof cause?.message === 'string' && cause.message !== '' ? cause.message : code;
  const message = error instanceof Error ? error.message : String(error);
  return `network error: ${message}${causeText ? ` (${causeText})` : ''}`;
}

/** A counting semaphore: at most `size` holders at once, waiters served in order. */
function createLimit(size: number): { acquire(): Promise<void>; release(): void } {
  let active = 0;
  const waiting: Array<() => void> = [];
  return {
    acquire() {
      if (active < size) {
        active++;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    release() {
      const next = waiting.shift();
      // Hand the slot straight to the next waiter; `active` stays the same.
      if (next !== undefined) next();
      else active--;
    },
  };
}
