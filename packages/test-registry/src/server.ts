/**
 * A real HTTP npm registry on 127.0.0.1: packuments (full and abbreviated), tarballs, signing keys,
 * provenance attestations, `npm publish`, conditional requests, optional Bearer auth, and switchable
 * faults for the failure paths (errors, delays, cut connections, broken JSON, stripped signatures or
 * attestations, oversized bodies).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ATTESTATIONS_PREFIX, attestationsFor, attestationsPath, distAttestations, parseAttestationsPath } from './attestations.js';
import {
  FIXTURE_PUBLISHED_AT,
  basenameOf,
  hasInstallScript,
  isPackageName,
  packFixture,
  packedFrom,
  signaturesFor,
  type FixtureSpec,
  type PackedVersion,
} from './fixtures.js';
import { servedKeys, type RegistryKey } from './keys.js';
import { compareVersions, isPrerelease, isVersion } from './semver.js';
import { packTarball, readTarball, type TarballEntry } from './tarball.js';

/** A failure to inject on requests whose path matches. */
export type Fault =
  /** Answer with this HTTP status and a JSON error body. */
  | { kind: 'status'; status: number }
  /** Wait, then answer normally. */
  | { kind: 'delay'; ms: number }
  /** Promise the full Content-Length, send half the body, cut the connection. */
  | { kind: 'truncate' }
  /** Reset the connection before any response. */
  | { kind: 'reset' }
  /** Answer 200 with a body that is not valid JSON. */
  | { kind: 'invalid-json' }
  /** Serve packuments without `dist.signatures` (and 404 for the keys), as a stripping mirror does. */
  | { kind: 'drop-signatures' }
  /** Serve packuments without `dist.attestations` (and 404 on the attestations endpoint), as a stripping mirror does. */
  | { kind: 'drop-attestations' }
  /** Serve packuments without their `versions` object (a broken mirror). */
  | { kind: 'drop-versions' }
  /** Serve full packuments without the publish time of these versions, or without any `time` object (a mirror that drops it). */
  | { kind: 'drop-time'; versions?: string[] }
  /** Pad the body (JSON: with a `_padding` string; tarballs: with zero bytes) to at least `bytes`. */
  | { kind: 'oversize'; bytes: number };

/** Options of `startRegistry`. */
export interface RegistryOptions {
  packages?: FixtureSpec[];
  /** Default 0: any free port. */
  port?: number;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Mirror mode: no `dist.signatures` anywhere and 404 on `/-/npm/v1/keys`. */
  stripSignatures?: boolean;
  /** Mirror mode for provenance: no `dist.attestations` anywhere and 404 on `/-/npm/v1/attestations/*`. */
  stripAttestations?: boolean;
  /**
   * Answers the abbreviated-metadata request with the full document as `application/json`, whose versions carry
   * `scripts` but no `hasInstallScript` (what the npm registry mirror on the development machines does).
   */
  fullDocumentsOnly?: boolean;
}

/** One logged request; status 0 means the connection was cut before a response. */
export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
}

/** A running test registry. */
export interface TestRegistry {
  /** `http://127.0.0.1:PORT/`, with the trailing slash package managers expect. */
  url: string;
  /** Exactly what `/-/npm/v1/keys` serves (empty in mirror mode, which serves 404). */
  keys: { keys: RegistryKey[] };
  /** Adds a version, or replaces it (and undoes any tarball swap). */
  add(spec: FixtureSpec): void;
  /** `dist.integrity` as published for a version. */
  integrity(name: string, version: string): string;
  /** The attestations endpoint's URL for a version (`dist.attestations.url`), whether or not it has provenance. */
  attestationsUrl(name: string, version: string): string;
  /** What `/-/npm/v1/attestations/<name>@<version>` serves (same bundles each call), or undefined when it has no provenance. */
  attestations(name: string, version: string): { attestations: Array<{ predicateType: string; bundle: Record<string, unknown> }> } | undefined;
  /** Serves different tarball bytes (these files over the originals) while metadata stays unchanged. */
  swapTarball(name: string, version: string, files: Record<string, string | Buffer>): void;
  /** Sets (or with null removes) a fault; a string matches the exact request path, raw or decoded. */
  setFault(match: string | RegExp, fault: Fault | null): void;
  clearFaults(): void;
  /** Every request served, in order. */
  requests: LoggedRequest[];
  /** The User-Agent header of each request in `requests`, at the same index ('' when it sent none). */
  userAgents: string[];
  /** The Accept header of each request in `requests`, at the same index ('' when it sent none). */
  accepts: string[];
  close(): Promise<void>;
}

const ABBREVIATED_TYPE = 'application/vnd.npm.install-v1+json';
/** Fields of a version kept in an abbreviated packument (npm's "corgi" document). */
const ABBREVIATED_FIELDS = [
  'name', 'version', 'dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta',
  'bundleDependencies', 'bin', 'engines', 'os', 'cpu', 'directories', 'deprecated', 'dist', 'hasInstallScript', '_hasShrinkwrap',
] as const;
const MAX_PUBLISH_BYTES = 64 * 1024 * 1024;
const MINUTE = 60_000;

/** A response before faults: status, headers, body, and whether the body is JSON (for faults that care). */
interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  json: boolean;
}

function jsonReply(status: number, value: unknown, contentType = 'application/json'): Reply {
  return { status, headers: { 'content-type': contentType }, body: Buffer.from(JSON.stringify(value)), json: true };
}

const notFound = (): Reply => jsonReply(404, { error: 'Not found' });

/** Starts a registry on 127.0.0.1 serving the given fixtures. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const packages = new Map<string, Map<string, PackedVersion>>();
  const swapped = new Map<string, Buffer>();
  const signatures = new Map<string, Array<{ keyid: string; sig: string }> | undefined>();
  /** Bundles made on first request, per version, with the publish time they were made for. */
  const bundles = new Map<string, { signedAt: string; body: ReturnType<typeof attestationsFor> }>();
  const faults: Array<{ match: string | RegExp; fault: Fault }> = [];
  const requests: LoggedRequest[] = [];
  const userAgents: string[] = [];
  const accepts: string[] = [];
  const logRequest = (req: IncomingMessage, entry: LoggedRequest) => {
    requests.push(entry);
    userAgents.push(req.headers['user-agent'] ?? '');
    accepts.push(req.headers.accept ?? '');
  };
  const stripAll = opts.stripSignatures === true;
  const stripAttestations = opts.stripAttestations === true;
  let url = '';

  const versionKey = (name: string, version: string) => `${name}@${version}`;

  function store(packed: PackedVersion): void {
    let versions = packages.get(packed.name);
    if (!versions) packages.set(packed.name, (versions = new Map()));
    versions.set(packed.version, packed);
    const key = versionKey(packed.name, packed.version);
    swapped.delete(key);
    bundles.delete(key);
    // Signed once per version: signing is the slow part of serving a big graph.
    signatures.set(key, signaturesFor(packed.signature, packed.name, packed.version, packed.integrity));
  }

  function lookup(name: string, version: string): PackedVersion {
    const packed = packages.get(name)?.get(version);
    if (!packed) throw new Error(`no such fixture: ${name}@${version}`);
    return packed;
  }

  for (const spec of opts.packages ?? []) store(packFixture(spec));

  function sortedVersions(name: string): PackedVersion[] {
    return [...(packages.get(name)?.values() ?? [])].sort((a, b) => compareVersions(a.version, b.version));
  }

  /** Publish times: explicit, or the fixed default plus one minute per version rank (distinct, ordered). */
  function times(versions: PackedVersion[]): Record<string, string> {
    const base = Date.parse(FIXTURE_PUBLISHED_AT);
    const time: Record<string, string> = {};
    versions.forEach((packed, rank) => {
      time[packed.version] = packed.publishedAt ?? new Date(base + rank * MINUTE).toISOString();
    });
    return time;
  }

  function distTags(versions: PackedVersion[]): Record<string, string> {
    const tags: Record<string, string> = {};
    const releases = versions.filter((packed) => !isPrerelease(packed.version));
    const highest = (releases.length ? releases : versions).at(-1);
    if (highest) tags.latest = highest.version;
    for (const packed of versions) for (const tag of packed.tags) tags[tag] = packed.version;
    return tags;
  }

  /** The attestations of a version, signed at its publish time (made once, again only if that time moves). */
  function attestationsOf(name: string, version: string): ReturnType<typeof attestationsFor> {
    const packed = packages.get(name)?.get(version);
    if (!packed?.provenance) return undefined;
    const signedAt = times(sortedVersions(name))[version]!;
    const key = versionKey(name, version);
    const cached = bundles.get(key);
    if (cached && cached.signedAt === signedAt) return cached.body;
    const body = attestationsFor(packed, signedAt);
    bundles.set(key, { signedAt, body });
    return body;
  }

  function tarballUrl(name: string, version: string): string {
    return `${url}${name}/-/${basenameOf(name)}-${version}.tgz`;
  }

  /** The full packument of a package, signatures and attestations included unless stripped. */
  function packument(name: string, dropSignatures: boolean, dropAttestations: boolean): Record<string, unknown> | undefined {
    const versions = sortedVersions(name);
    if (versions.length === 0) return undefined;
    const time = times(versions);
    const stamps = Object.values(time).map((iso) => Date.parse(iso));
    const out: Record<string, Record<string, unknown>> = {};
    for (const packed of versions) {
      const dist: Record<string, unknown> = {
        integrity: packed.integrity,
        shasum: packed.shasum,
        tarball: tarballUrl(name, packed.version),
        fileCount: packed.fileCount,
        unpackedSize: packed.unpackedSize,
      };
      const sigs = signatures.get(versionKey(name, packed.version));
      if (sigs && !dropSignatures) dist.signatures = sigs.map((sig) => ({ ...sig }));
      if (packed.provenance && !dropAttestations) dist.attestations = distAttestations(url, name, packed.version);
      out[packed.version] = { ...packed.manifest, dist };
    }
    return {
      _id: name,
      name,
      'dist-tags': distTags(versions),
      versions: out,
      time: {
        created: new Date(Math.min(...stamps)).toISOString(),
        modified: new Date(Math.max(...stamps)).toISOString(),
        ...time,
      },
      readme: '',
      readmeFilename: '',
    };
  }

  function abbreviate(full: Record<string, unknown>): Record<string, unknown> {
    const versions: Record<string, Record<string, unknown>> = {};
    for (const [version, manifest] of Object.entries(full.versions as Record<string, Record<string, unknown>>)) {
      const slim: Record<string, unknown> = {};
      for (const field of ABBREVIATED_FIELDS) if (manifest[field] !== undefined) slim[field] = manifest[field];
      versions[version] = slim;
    }
    return { name: full.name, modified: (full.time as Record<string, string>).modified, 'dist-tags': full['dist-tags'], versions };
  }

  function findFault(rawPath: string, path: string): Fault | undefined {
    for (const { match, fault } of faults) {
      if (typeof match === 'string' ? match === rawPath || match === path : match.test(rawPath) || match.test(path)) return fault;
    }
    return undefined;
  }

  function publish(name: string, body: unknown): Reply {
    if (!body || typeof body !== 'object') return jsonReply(400, { error: 'publish body must be a JSON object' });
    const doc = body as { name?: unknown; versions?: unknown; _attachments?: unknown; 'dist-tags'?: unknown };
    if (doc.name !== undefined && doc.name !== name) return jsonReply(400, { error: 'package name does not match the URL' });
    const versions = doc.versions && typeof doc.versions === 'object' ? Object.entries(doc.versions as Record<string, unknown>) : [];
    const attachments = doc._attachments && typeof doc._attachments === 'object' ? Object.values(doc._attachments as Record<string, unknown>) : [];
    const [entry] = versions;
    const [attachment] = attachments as Array<{ data?: unknown; length?: unknown } | undefined>;
    if (versions.length !== 1 || !entry || !attachment || typeof attachment.data !== 'string') {
      return jsonReply(400, { error: 'publish needs exactly one version and its tarball attachment' });
    }
    const [version, raw] = entry;
    if (!isVersion(version) || !raw || typeof raw !== 'object') return jsonReply(400, { error: `invalid version: ${version}` });
    if (packages.get(name)?.has(version)) return jsonReply(403, { error: `cannot publish over the previously published version ${version}` });
    const tarball = Buffer.from(attachment.data, 'base64');
    if (typeof attachment.length === 'number' && attachment.length !== tarball.length) {
      return jsonReply(400, { error: 'attachment length does not match its data' });
    }
    let entries: TarballEntry[];
    try {
      entries = readTarball(tarball);
    } catch (error) {
      return jsonReply(400, { error: `unreadable tarball: ${(error as Error).message}` });
    }
    if (!entries.some((e) => e.path === 'package.json')) return jsonReply(400, { error: 'tarball has no package/package.json' });
    // The client's `dist` is a claim; the registry computes digests from the bytes it received.
    const { dist: _claimed, ...manifest } = raw as Record<string, unknown>;
    manifest.name = name;
    manifest.version = version;
    manifest._id = versionKey(name, version);
    const scripts = manifest.scripts && typeof manifest.scripts === 'object' ? (manifest.scripts as Record<string, unknown>) : undefined;
    if (hasInstallScript(scripts, entries.map((e) => e.path))) manifest.hasInstallScript = true;
    const tags = doc['dist-tags'] && typeof doc['dist-tags'] === 'object'
      ? Object.entries(doc['dist-tags'] as Record<string, unknown>).filter(([, v]) => v === version).map(([tag]) => tag)
      : [];
    store(packedFrom(name, version, manifest, entries, { publishedAt: new Date().toISOString(), signature: 'valid', tags }, tarball));
    return jsonReply(201, { ok: true, id: name, success: true });
  }

  /** Resolves a request to a reply (before faults that alter bodies). */
  async function route(req: IncomingMessage, path: string, dropSignatures: boolean, dropAttestations: boolean): Promise<Reply> {
    const method = req.method ?? 'GET';
    if (path.startsWith(ATTESTATIONS_PREFIX)) {
      if (method !== 'GET' && method !== 'HEAD') return jsonReply(405, { error: 'Method not allowed' });
      const wanted = parseAttestationsPath(path);
      const body = wanted && !dropAttestations ? attestationsOf(wanted.name, wanted.version) : undefined;
      return body ? jsonReply(200, body) : notFound();
    }
    if (path === '/-/npm/v1/keys') {
      if (method !== 'GET' && method !== 'HEAD') return jsonReply(405, { error: 'Method not allowed' });
      return dropSignatures ? notFound() : jsonReply(200, servedKeys());
    }
    if (path === '/-/ping') return jsonReply(200, {});
    // npm audits after every install: answer "no advisories" so its output stays clean.
    if (path === '/-/npm/v1/security/advisories/bulk' && method === 'POST') {
      req.resume();
      return jsonReply(200, {});
    }

    const tarball = /^\/((?:@[^/]+\/)?[^/@][^/]*)\/-\/([^/]+)\.tgz$/.exec(path);
    if (tarball && (method === 'GET' || method === 'HEAD')) {
      const name = tarball[1]!;
      const prefix = `${basenameOf(name)}-`;
      const version = tarball[2]!.startsWith(prefix) ? tarball[2]!.slice(prefix.length) : '';
      const packed = packages.get(name)?.get(version);
      if (!packed) return notFound();
      const bytes = swapped.get(versionKey(name, version)) ?? packed.tarball;
      const published = times(sortedVersions(name))[version]!;
      return {
        status: 200,
        headers: { 'content-type': 'application/octet-stream', etag: `"${createHash('sha1').update(bytes).digest('hex')}"`, 'last-modified': httpDate(published) },
        body: bytes,
        json: false,
      };
    }

    const doc = /^\/((?:@[^/]+\/)?[^/@][^/]*)(?:\/([^/]+))?$/.exec(path);
    if (!doc || !isPackageName(doc[1]!)) return notFound();
    const name = doc[1]!;
    if (method === 'PUT' && doc[2] === undefined) {
      let body: unknown;
      try {
        body = JSON.parse((await readBody(req, MAX_PUBLISH_BYTES)).toString('utf8'));
      } catch (error) {
        return jsonReply(400, { error: `bad publish body: ${(error as Error).message}` });
      }
      return publish(name, body);
    }
    if (method !== 'GET' && method !== 'HEAD') return jsonReply(405, { error: 'Method not allowed' });
    const full = packument(name, dropSignatures, dropAttestations);
    if (!full) return notFound();
    const lastModified = httpDate((full.time as { modified: string }).modified);
    if (doc[2] !== undefined) {
      // `/<name>/<version-or-tag>`: one version document, as `npm view name@version` asks for it.
      const wanted = (full['dist-tags'] as Record<string, string>)[doc[2]] ?? doc[2];
      const manifest = (full.versions as Record<string, unknown>)[wanted];
      return manifest ? withValidators(jsonReply(200, manifest), lastModified) : notFound();
    }
    const accept = req.headers.accept ?? '';
    if (opts.fullDocumentsOnly === true) {
      for (const manifest of Object.values(full.versions as Record<string, Record<string, unknown>>)) delete manifest.hasInstallScript;
      return withValidators(jsonReply(200, full), lastModified);
    }
    if (accept.includes(ABBREVIATED_TYPE)) return withValidators(jsonReply(200, abbreviate(full), ABBREVIATED_TYPE), lastModified);
    return withValidators(jsonReply(200, full), lastModified);
  }

  function authorized(req: IncomingMessage): boolean {
    if (opts.token === undefined) return true;
    return req.headers.authorization === `Bearer ${opts.token}`;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const log = (status: number) => logRequest(req, { method, path: rawPath, status });
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return send(req, res, jsonReply(400, { error: 'Bad request path' }), log);
    }
    const fault = findFault(rawPath, path);
    if (fault?.kind === 'reset') {
      log(0);
      return resetConnection(req.socket);
    }
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, Math.max(0, fault.ms)));
    if (fault?.kind === 'status') return send(req, res, jsonReply(fault.status, { error: `Injected fault: HTTP ${fault.status}` }), log);
    if (!authorized(req)) {
      const reply = jsonReply(401, { error: 'Unauthorized' });
      reply.headers['www-authenticate'] = 'Bearer realm="portcullis-test-registry"';
      return send(req, res, reply, log);
    }
    let reply = await route(req, path, stripAll || fault?.kind === 'drop-signatures', stripAttestations || fault?.kind === 'drop-attestations');
    if (fault?.kind === 'invalid-json') {
      reply = { status: 200, headers: { 'content-type': reply.headers['content-type'] ?? 'application/json' }, body: Buffer.from('{"name": "broken", "versions": {'), json: false };
    }
    if (fault?.kind === 'drop-versions' && reply.json && reply.status === 200) {
      const { versions: _dropped, ...rest } = JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>;
      reply = { ...reply, body: Buffer.from(JSON.stringify(rest)) };
    }
    if (fault?.kind === 'drop-time' && reply.json && reply.status === 200) {
      const { time, ...rest } = JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>;
      const kept = fault.versions === undefined || typeof time !== 'object' || time === null ? undefined : Object.fromEntries(Object.entries(time).filter(([key]) => !fault.versions!.includes(key)));
      reply = { ...reply, body: Buffer.from(JSON.stringify(kept === undefined ? rest : { ...rest, time: kept })) };
    }
    if (reply.status === 200 && isNotModified(req, reply)) {
      return send(req, res, { status: 304, headers: pick(reply.headers, ['etag', 'last-modified']), body: Buffer.alloc(0), json: false }, log);
    }
    if (fault?.kind === 'truncate') {
      log(reply.status);
      res.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
      res.write(reply.body.subarray(0, Math.floor(reply.body.length / 2)), () => req.socket.destroy());
      return;
    }
    if (fault?.kind === 'oversize') return sendOversized(res, reply, fault.bytes, log);
    return send(req, res, reply, log);
  }

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(req, res, jsonReply(500, { error: `Internal error: ${(error as Error).message}` }), (status) => logRequest(req, { method: req.method ?? 'GET', path: req.url ?? '/', status }));
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  return {
    url,
    keys: stripAll ? { keys: [] } : servedKeys(),
    add(spec) {
      store(packFixture(spec));
    },
    attestationsUrl(name, version) {
      return `${url.replace(/\/$/, '')}${attestationsPath(name, version)}`;
    },
    attestations(name, version) {
      lookup(name, version);
      return attestationsOf(name, version);
    },
    integrity(name, version) {
      return lookup(name, version).integrity;
    },
    swapTarball(name, version, files) {
      const packed = lookup(name, version);
      const merged = new Map<string, TarballEntry>(packed.entries.map((entry) => [entry.path, entry]));
      for (const [path, content] of Object.entries(files)) {
        const previous = merged.get(path);
        merged.set(path, { path, content: Buffer.isBuffer(content) ? content : Buffer.from(content), mode: previous?.mode ?? 0o644 });
      }
      swapped.set(versionKey(name, version), packTarball([...merged.values()]));
    },
    setFault(match, fault) {
      const index = faults.findIndex((f) => String(f.match) === String(match) && typeof f.match === typeof match);
      if (index !== -1) faults.splice(index, 1);
      if (fault) faults.push({ match, fault });
    },
    clearFaults() {
      faults.length = 0;
    },
    requests,
    userAgents,
    accepts,
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy(); // keep-alive clients would hold close() open
      });
    },
  };
}

/** RFC 7231 date for Last-Modified. */
function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}

function withValidators(reply: Reply, lastModified: string): Reply {
  reply.headers.etag = `"${createHash('sha1').update(reply.body).digest('hex')}"`;
  reply.headers['last-modified'] = lastModified;
  return reply;
}

/** If-None-Match wins over If-Modified-Since, as RFC 7232 says. */
function isNotModified(req: IncomingMessage, reply: Reply): boolean {
  const etag = reply.headers.etag;
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (!etag) return false;
    return ifNoneMatch.split(',').map((tag) => tag.trim().replace(/^W\//, '')).some((tag) => tag === etag || tag === '*');
  }
  const since = req.headers['if-modified-since'];
  const lastModified = reply.headers['last-modified'];
  if (!since || !lastModified) return false;
  const sinceTime = Date.parse(since);
  return !Number.isNaN(sinceTime) && Date.parse(lastModified) <= sinceTime;
}

function pick(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((name) => headers[name] !== undefined).map((name) => [name, headers[name]!]));
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply, log: (status: number) => void): void {
  log(reply.status);
  // Drain an unread request body so keep-alive connections stay usable.
  if (!req.complete) req.resume();
  res.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
  res.end(reply.body);
}

/** Sends the reply padded to `bytes`, in chunks, so a huge fault body never sits in memory. */
async function sendOversized(res: ServerResponse, reply: Reply, bytes: number, log: (status: number) => void): Promise<void> {
  const chunk = 64 * 1024;
  let head: Buffer;
  let tail: Buffer;
  if (reply.json && reply.body[0] === 0x7b /* { */ && reply.body.length > 2) {
    // Keep it valid JSON, so the client fails on size and not on syntax.
    head = Buffer.from('{"_padding":"');
    tail = Buffer.concat([Buffer.from('",'), reply.body.subarray(1)]);
  } else {
    head = reply.body;
    tail = Buffer.alloc(0);
  }
  const fill = Math.max(0, bytes - head.length - tail.length);
  log(reply.status);
  res.writeHead(reply.status, { ...reply.headers, 'content-length': String(head.length + fill + tail.length) });
  res.write(head);
  const filler = Buffer.alloc(chunk, reply.json ? 0x20 /* space inside the string */ : 0);
  for (let left = fill; left > 0; left -= chunk) {
    if (res.destroyed) return;
    if (!res.write(left >= chunk ? filler : filler.subarray(0, left))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  res.end(tail);
}

/** Cuts the connection with a TCP reset where Node supports it (`resetAndDestroy`, Node 16.17+). */
function resetConnection(socket: Socket): void {
  const resettable = socket as Socket & { resetAndDestroy?: () => void };
  if (typeof resettable.resetAndDestroy === 'function') resettable.resetAndDestroy();
  else socket.destroy();
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
