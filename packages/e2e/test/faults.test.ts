/**
 * Faults: `portcullis check` (the built CLI) on a project installed by the real npm 11, while the registry
 * misbehaves — HTTP errors, timeouts, resets, truncated, oversized and invalid responses, packuments that
 * lack what was installed, a keys endpoint that disappears, a corrupt or concurrently written cache.
 * Each case must end in a clear error (exit 3 naming the package, or 2) or the correct result: never
 * exit 0 while a package was not decided, and never a modified lockfile, package.json or policy.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { cleanPackage, startRegistry, withPostinstall, type Fault, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProject, install, portcullis, type Project } from '../src/project.js';
import { npm } from '../src/toolbox.js';

interface Report {
  findings: Array<{ package: string; version: string; code: string; message: string; fix: string }>;
  notices: string[];
  exitCode: number;
}

const INSTALLED = ['@acme/logger@2.1.0', 'evil-postinstall@1.0.0', 'left-pad-lite@1.1.0', 'tiny-colors@0.4.2'];
const FILES = ['package.json', 'package-lock.json', 'portcullis.json', '.npmrc'];

let registry: TestRegistry;
let project: Project;
let proxy: Proxy;
let viaProxy: Project;

/** One line per case, for docs/security.md. */
const results: string[] = [];

beforeAll(async () => {
  registry = await startRegistry({
    packages: [
      cleanPackage('left-pad-lite', '1.0.0'),
      cleanPackage('left-pad-lite', '1.1.0'),
      cleanPackage('tiny-colors', '0.4.2'),
      cleanPackage('@acme/logger', '2.1.0', { dependencies: { 'left-pad-lite': '1.1.0', 'tiny-colors': '^0.4.0' } }),
      withPostinstall('evil-postinstall', '1.0.0'),
    ],
  });
  proxy = await startProxy(registry.url);
  const trust = { keys: registry.keys.keys };
  const policy = { scripts: { allow: ['evil-postinstall@1.0.0'] }, registries: { [registry.url]: trust, [proxy.url]: trust } };
  project = createProject('npm', registry.url, { '@acme/logger': '2.1.0', 'evil-postinstall': '1.0.0' }, { policy });
  const installed = await install(npm(11), 'npm', project);
  expect(installed.code, installed.stderr).toBe(0);
  viaProxy = copyThrough(project, proxy.url);
});

afterEach(() => {
  registry.clearFaults();
  proxy.rewrites.clear();
});

afterAll(async () => {
  await proxy?.close();
  await registry?.close();
  if (results.length > 0) process.stdout.write(`\nfault results:\n${results.join('\n')}\n`);
});

function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of FILES) out[file] = existsSync(join(dir, file)) ? createHash('sha256').update(readFileSync(join(dir, file))).digest('hex') : '-';
  return out;
}

const freshCache = () => mkdtempSync(join(tmpdir(), 'portcullis-fault-cache-'));

/** Runs `check --format json`, proving the project files are untouched. */
async function check(label: string, p: Project, options: { cacheDir?: string; args?: string[]; env?: NodeJS.ProcessEnv } = {}) {
  const before = fingerprint(p.dir);
  const started = performance.now();
  const r = await portcullis(p, ['check', '--format', 'json', ...(options.args ?? [])], {
    PORTCULLIS_CACHE_DIR: options.cacheDir ?? freshCache(),
    PORTCULLIS_FETCH_TIMEOUT_MS: '2000',
    ...options.env,
  });
  const ms = Math.round(performance.now() - started);
  expect(fingerprint(p.dir), `${label}: project files changed`).toEqual(before);
  let report: Report | undefined;
  if (r.stdout.trim() !== '') {
    try {
      report = JSON.parse(r.stdout) as Report;
    } catch {
      throw new Error(`${label}: check did not print JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
  }
  const codes = (report?.findings ?? []).map((f) => `${f.code} ${f.package}@${f.version}`);
  results.push(`${label} | exit ${r.code} | ${codes.join(', ') || r.stderr.trim().split('\n')[0] || 'no findings'} | ${ms} ms`);
  // The contract: exit 0 only with no findings at all, and every finding names its package.
  if (r.code === 0) expect(report?.findings).toEqual([]);
  for (const f of report?.findings ?? []) expect(f.message).toContain(`${f.package}@${f.version}`);
  return { code: r.code, report, stderr: r.stderr, codes };
}

/** Asserts exit 3 with METADATA_UNAVAILABLE for exactly `packages`, each message naming the package and the reason. */
function expectUndecided(result: Awaited<ReturnType<typeof check>>, packages: string[], reason: RegExp): void {
  expect(result.code).toBe(3);
  expect(result.codes).toEqual(packages.map((p) => `METADATA_UNAVAILABLE ${p}`));
  for (const f of result.report!.findings) expect(f.message).toMatch(reason);
}

describe('check while the registry fails', () => {
  it('baseline: the healthy registry allows everything (exit 0)', async () => {
    const r = await check('baseline', project);
    expect(r.code).toBe(0);
    expect((await check('baseline via proxy', viaProxy)).code).toBe(0);
  });

  const faults: Array<[string, string | RegExp, Fault, string[], RegExp]> = [
    ['HTTP 500 on one packument', '/left-pad-lite', { kind: 'status', status: 500 }, ['left-pad-lite@1.1.0'], /HTTP 500 \(after 3 attempts\)/],
    ['HTTP 503 on every request (registry down)', /.*/, { kind: 'status', status: 503 }, INSTALLED, /HTTP 503/],
    ['HTTP 429 on one packument', '/tiny-colors', { kind: 'status', status: 429 }, ['tiny-colors@0.4.2'], /HTTP 429/],
    ['HTTP 404 for an installed package', '/tiny-colors', { kind: 'status', status: 404 }, ['tiny-colors@0.4.2'], /no package named tiny-colors/],
    ['HTTP 401 (auth required)', '/@acme/logger', { kind: 'status', status: 401 }, ['@acme/logger@2.1.0'], /requires authentication/],
    ['HTTP 418 (a status the client does not expect)', '/left-pad-lite', { kind: 'status', status: 418 }, ['left-pad-lite@1.1.0'], /unexpected HTTP 418/],
    ['timeout (5 s delay, 300 ms timeout)', '/left-pad-lite', { kind: 'delay', ms: 5_000 }, ['left-pad-lite@1.1.0'], /timed out after 300 ms/],
    ['connection reset', '/@acme/logger', { kind: 'reset' }, ['@acme/logger@2.1.0'], /connection was reset|network error/],
    ['truncated body', '/left-pad-lite', { kind: 'truncate' }, ['left-pad-lite@1.1.0'], /cut off|reset|network error|not valid JSON/],
    ['invalid JSON', '/evil-postinstall', { kind: 'invalid-json' }, ['evil-postinstall@1.0.0'], /not valid JSON|not a packument|packument of "broken"/],
    ['oversized packument (65 MiB)', '/tiny-colors', { kind: 'oversize', bytes: 65 * 1024 * 1024 }, ['tiny-colors@0.4.2'], /larger than the 67108864-byte limit/],
  ];

  it.each(faults)('%s → exit 3, METADATA_UNAVAILABLE naming the package', async (label, match, fault, packages, reason) => {
    registry.setFault(match, fault);
    const env = fault.kind === 'delay' ? { PORTCULLIS_FETCH_TIMEOUT_MS: '300' } : {};
    const seen = registry.requests.length;
    const result = await check(label, project, { env });
    expectUndecided(result, packages, reason);
    // Bounded, counted rather than timed: retries never turn a dead registry into a hang. No document is asked for
    // more than the client's 3 attempts (1 + 2 retries; a delayed request is logged only when the registry answers,
    // after the check), and a fault the client retries ends after exactly those 3, each attempt ended by the fetch
    // timeout at the latest, the waits between them capped (core/src/registry/client.test.ts counts both).
    const perPath = new Map<string, number>();
    for (const r of registry.requests.slice(seen)) perPath.set(r.path, (perPath.get(r.path) ?? 0) + 1);
    expect(Math.max(0, ...perPath.values()), JSON.stringify([...perPath])).toBeLessThanOrEqual(3);
    const retried = (fault.kind === 'status' && (fault.status >= 500 || fault.status === 429)) || fault.kind === 'delay';
    if (retried) for (const f of result.report!.findings) expect(f.message).toMatch(/\(after 3 attempts\)/);
    if (retried && fault.kind === 'status' && typeof match === 'string') expect(perPath.get(match), JSON.stringify([...perPath])).toBe(3);
  });

  it('a stripped signature on one package is UNSIGNED (exit 1), not an allow', async () => {
    registry.setFault('/left-pad-lite', { kind: 'drop-signatures' });
    const r = await check('signatures stripped from one packument', project);
    expect(r.codes).toEqual(['UNSIGNED left-pad-lite@1.1.0']);
    expect(r.code).toBe(1);
  });

  it('an unreachable registry (connection refused) → exit 3 for every package', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const p = copyThrough(project, dead, { [dead]: { keys: registry.keys.keys } });
    expectUndecided(await check('connection refused', p), INSTALLED, /connection was refused/);
  });

  it('an invalid PORTCULLIS_FETCH_TIMEOUT_MS is a configuration error (exit 2)', async () => {
    const r = await check('PORTCULLIS_FETCH_TIMEOUT_MS=soon', project, { env: { PORTCULLIS_FETCH_TIMEOUT_MS: 'soon' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PORTCULLIS_FETCH_TIMEOUT_MS');
  });
});

describe('check while a proxy alters packuments', () => {
  type Doc = { name?: unknown; versions?: Record<string, Record<string, unknown>> } & Record<string, unknown>;
  const cases: Array<[string, string, (doc: Doc) => unknown, number, string[], RegExp?]> = [
    ['packument without "versions"', '/left-pad-lite', ({ versions, ...rest }) => rest, 3, ['METADATA_UNAVAILABLE left-pad-lite@1.1.0'], /"versions" is missing/],
    ['"versions" is null', '/left-pad-lite', (doc) => ({ ...doc, versions: null }), 3, ['METADATA_UNAVAILABLE left-pad-lite@1.1.0'], /"versions" is null/],
    ['installed version missing', '/left-pad-lite', (doc) => ({ ...doc, versions: { '1.0.0': doc.versions!['1.0.0'] } }), 3, ['METADATA_UNAVAILABLE left-pad-lite@1.1.0'], /has no version 1\.1\.0 of left-pad-lite/],
    ['packument of another package', '/tiny-colors', (doc) => ({ ...doc, name: 'left-pad-lite' }), 3, ['METADATA_UNAVAILABLE tiny-colors@0.4.2'], /packument of "left-pad-lite"/],
    ['version entry without dist', '/tiny-colors', (doc) => ({ ...doc, versions: { '0.4.2': { name: 'tiny-colors', version: '0.4.2' } } }), 3, ['METADATA_UNAVAILABLE tiny-colors@0.4.2'], /malformed/],
    ['dist.signatures is a string', '/tiny-colors', (doc) => withDist(doc, '0.4.2', { signatures: 'MEUCIQ' }), 3, ['METADATA_UNAVAILABLE tiny-colors@0.4.2'], /malformed/],
    ['empty 200 body', '/tiny-colors', () => '', 3, ['METADATA_UNAVAILABLE tiny-colors@0.4.2'], /empty/],
    ['JSON array instead of a packument', '/tiny-colors', () => [], 3, ['METADATA_UNAVAILABLE tiny-colors@0.4.2'], /an array/],
    ['__proto__ keys in versions and dist', '/left-pad-lite', (doc) => JSON.parse(JSON.stringify(doc).replace('"versions":{', '"versions":{"__proto__":{"polluted":true},').replace('"dist":{', '"dist":{"__proto__":{"signatures":[]},')), 0, []],
    ['signature copied from another version', '/left-pad-lite', (doc) => withDist(doc, '1.1.0', { signatures: (doc.versions!['1.0.0']!.dist as { signatures: unknown }).signatures }), 1, ['BAD_SIGNATURE left-pad-lite@1.1.0']],
    ['integrity and signature swapped to another version', '/left-pad-lite', (doc) => withDist(doc, '1.1.0', doc.versions!['1.0.0']!.dist as Record<string, unknown>), 1, ['BAD_SIGNATURE left-pad-lite@1.1.0']],
  ];

  it.each(cases)('%s', async (label, path, rewrite, exit, codes, reason) => {
    proxy.rewrites.set(path, rewrite as (doc: unknown) => unknown);
    const r = await check(label, viaProxy);
    expect(r.codes).toEqual(codes);
    if (reason) for (const f of r.report!.findings) expect(f.message).toMatch(reason);
    expect(r.code).toBe(exit);
  });
});

describe('check --refresh-keys while the keys endpoint misbehaves', () => {
  const expiredOnly = () => registry.keys.keys.filter((k) => k.expires !== null);
  const policyFile = (keys: unknown) => {
    const file = join(mkdtempSync(join(tmpdir(), 'portcullis-policy-')), 'portcullis.json');
    writeFileSync(file, JSON.stringify({ scripts: { allow: ['evil-postinstall@1.0.0'] }, registries: { [registry.url]: { keys } } }));
    return file;
  };

  const endpointFaults: Array<[string, Fault]> = [
    ['404', { kind: 'status', status: 404 }],
    ['500', { kind: 'status', status: 500 }],
    ['reset', { kind: 'reset' }],
    ['invalid JSON', { kind: 'invalid-json' }],
    ['oversized', { kind: 'oversize', bytes: 2 * 1024 * 1024 }],
  ];

  it.each(endpointFaults)('keys endpoint %s: the configured keys still decide (exit 0 with them, never trust without them)', async (label, fault) => {
    registry.setFault('/-/npm/v1/keys', fault);
    const withKeys = await check(`--refresh-keys, keys endpoint ${label}, policy has the keys`, project, { args: ['--refresh-keys'] });
    expect(withKeys.code).toBe(0);
    // Only the retired key configured: the refresh would have been needed, so nothing verifies.
    const r = await check(`--refresh-keys, keys endpoint ${label}, policy has only the retired key`, project, {
      args: ['--refresh-keys'],
      env: { PORTCULLIS_POLICY: policyFile(expiredOnly()) },
    });
    expect(r.codes).toEqual(INSTALLED.map((p) => `UNKNOWN_KEY ${p}`));
    expect(r.code).toBe(1);
  });

  it('the keys endpoint disappears after a refresh: cached keys are used for a day, the policy keys always', async () => {
    const cacheDir = freshCache();
    const policy = policyFile(expiredOnly());
    const first = await check('--refresh-keys, endpoint up (fills the key cache)', project, { cacheDir, args: ['--refresh-keys'], env: { PORTCULLIS_POLICY: policy } });
    expect(first.code).toBe(0);
    registry.setFault('/-/npm/v1/keys', { kind: 'status', status: 404 });
    const second = await check('--refresh-keys, endpoint gone, key cache fresh', project, { cacheDir, args: ['--refresh-keys'], env: { PORTCULLIS_POLICY: policy } });
    expect(second.code).toBe(0);
    const without = await check('no --refresh-keys, endpoint gone', project, { cacheDir, env: { PORTCULLIS_POLICY: policy } });
    expect(without.code).toBe(1);
  });
});

describe('check with a damaged or shared cache', () => {
  /** A cache filled by one successful run. */
  async function filledCache(): Promise<string> {
    const cacheDir = freshCache();
    expect((await check('fill cache', project, { cacheDir, args: ['--refresh-keys'] })).code).toBe(0);
    return cacheDir;
  }
  const cacheFiles = (dir: string): string[] =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .map((f) => join(dir, f))
      .filter((f) => statSync(f).isFile());

  const damages: Array<[string, (file: string, text: string) => string | Buffer]> = [
    ['every cache file cut in half', (_f, text) => text.slice(0, Math.floor(text.length / 2))],
    ['every cache file replaced by binary garbage', () => Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22])],
    ['every cache file emptied', () => ''],
    ['every cache file valid JSON of the wrong shape', () => '{"__proto__":{"polluted":true},"format":"portcullis-metadata-cache","version":1,"entries":[[1,2]],"keys":7}'],
    ['every cached packument lost its versions', (_f, text) => text.replace(/"versions":\{/, '"versions_":{')],
  ];

  it.each(damages)('%s → the correct result (exit 0), cache repaired', async (label, damage) => {
    const cacheDir = await filledCache();
    for (const file of cacheFiles(cacheDir)) writeFileSync(file, damage(file, readFileSync(file, 'utf8')));
    const r = await check(`cache: ${label}`, project, { cacheDir, args: ['--refresh-keys'] });
    expect(r.code).toBe(0);
    for (const file of cacheFiles(cacheDir)) if (file.endsWith('.json')) expect(() => JSON.parse(readFileSync(file, 'utf8')), file).not.toThrow();
  });

  it('a corrupt cache offline → exit 3 for every package, never exit 0', async () => {
    const cacheDir = await filledCache();
    for (const file of cacheFiles(cacheDir)) writeFileSync(file, '{');
    expectUndecided(await check('cache corrupt, --offline', project, { cacheDir, args: ['--offline'] }), INSTALLED, /offline mode and nothing is cached/);
  });

  it('a cached packument with a forged signature → BAD_SIGNATURE (exit 1): the cache cannot vouch for bytes', async () => {
    const cacheDir = await filledCache();
    let forged = 0;
    for (const file of cacheFiles(cacheDir)) {
      const text = readFileSync(file, 'utf8');
      if (!text.includes('"name":"left-pad-lite"')) continue;
      const entry = JSON.parse(text) as { body: { versions: Record<string, { dist: { signatures: Array<{ sig: string }> } }> } };
      const sig = entry.body.versions['1.0.0']!.dist.signatures[0]!.sig;
      entry.body.versions['1.1.0']!.dist.signatures[0]!.sig = sig;
      writeFileSync(file, JSON.stringify(entry));
      forged++;
    }
    expect(forged).toBeGreaterThan(0);
    // The user who verified left-pad-lite@1.1.0 has it in their authenticated memo: the packument is not read
    // again, and the lockfile's integrity is the one that verified.
    const own = await check('cache: forged signature in a fresh cached packument (own memo)', project, { cacheDir });
    expect(own.codes).toEqual([]);
    expect(own.code).toBe(0);
    // The cache reaches a job (or a user) whose memo secret did not write it — a restored CI cache, a
    // shared folder: its verified-versions memo is ignored and the forged packument is what gets judged.
    const r = await check('cache: forged signature in a fresh cached packument (memo of another secret)', project, { cacheDir, env: { PORTCULLIS_STATE_DIR: freshCache() } });
    expect(r.codes).toEqual(['BAD_SIGNATURE left-pad-lite@1.1.0']);
    expect(r.code).toBe(1);
  });

  it('three checks at once on one cold cache: each gives the right result, every cache file parses, no temp files remain', async () => {
    const cacheDir = freshCache();
    const runs = await Promise.all([
      check('concurrent cold #1', project, { cacheDir }),
      check('concurrent cold #2', project, { cacheDir, args: ['--refresh-keys'] }),
      check('concurrent cold #3', viaProxy, { cacheDir }),
    ]);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    // Once more, warm, with one package failing: the failure is reported by both, the cache stays whole.
    registry.setFault('/tiny-colors', { kind: 'status', status: 500 });
    proxy.rewrites.set('/tiny-colors', () => '');
    const warm = await Promise.all([check('concurrent warm #1', project, { cacheDir }), check('concurrent warm #2', viaProxy, { cacheDir })]);
    // The cached packuments are fresh (5 minutes), so the fault is not even seen: the right answer either way.
    expect(warm.map((r) => r.code)).toEqual([0, 0]);
    const files = cacheFiles(cacheDir);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // The CLI's own engine, kept by the runs (content-addressed: named by the sha256 of its bytes), and its V8 code
    // caches (binary, tag first: docs/threat-model.md); everything else is JSON.
    const engines = files.filter((f) => basename(dirname(f)) === 'engine-v1');
    const codeCaches = files.filter((f) => basename(dirname(f)) === 'code-v1');
    expect(engines.length).toBeGreaterThan(0);
    for (const file of engines) expect(basename(file, '.js').length >= 32 && createHash('sha256').update(readFileSync(file)).digest('hex').startsWith(basename(file, '.js')), file).toBe(true);
    for (const file of codeCaches) expect(statSync(file).size, file).toBeGreaterThan(32);
    for (const file of files.filter((f) => !engines.includes(f) && !codeCaches.includes(f))) expect(() => JSON.parse(readFileSync(file, 'utf8')), file).not.toThrow();
    expect(files.length - engines.length - codeCaches.length).toBeGreaterThanOrEqual(INSTALLED.length);
  });
});

// ---------------------------------------------------------------------------------------------

function withDist(doc: { versions?: Record<string, Record<string, unknown>> }, version: string, dist: Record<string, unknown>) {
  const entry = doc.versions![version]!;
  entry.dist = { ...(entry.dist as Record<string, unknown>), ...dist };
  return doc;
}

/** A copy of a project whose lockfile and .npmrc point at another registry URL (a proxy, or nothing at all). */
function copyThrough(from: Project, url: string, registries?: Record<string, unknown>): Project {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-via-'));
  const dir = join(root, 'project');
  cpSync(from.dir, dir, { recursive: true });
  for (const file of ['package-lock.json', '.npmrc']) writeFileSync(join(dir, file), readFileSync(join(dir, file), 'utf8').replaceAll(registry.url, url));
  if (registries) {
    const policy = JSON.parse(readFileSync(join(dir, 'portcullis.json'), 'utf8')) as { registries: unknown };
    policy.registries = registries;
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify(policy));
  }
  return { ...from, dir };
}

interface Proxy {
  url: string;
  /** Decoded request path → how to rewrite the upstream JSON (a string is sent as the body as is). */
  rewrites: Map<string, (doc: unknown) => unknown>;
  close(): Promise<void>;
}

/** A pass-through proxy in front of the test registry that can alter packuments: a tampering mirror. */
async function startProxy(upstream: string): Promise<Proxy> {
  const rewrites = new Map<string, (doc: unknown) => unknown>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = req.url ?? '/';
      const reply = await fetch(`${upstream}${path.slice(1)}`, { headers: { accept: req.headers.accept ?? '*/*' } });
      let body = Buffer.from(await reply.arrayBuffer());
      const rewrite = rewrites.get(decodeURIComponent(path));
      if (rewrite !== undefined && reply.status === 200) {
        const out = rewrite(JSON.parse(body.toString('utf8')));
        body = Buffer.from(typeof out === 'string' ? out : JSON.stringify(out));
      }
      res.writeHead(reply.status, { 'content-type': reply.headers.get('content-type') ?? 'application/json' });
      res.end(body);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    rewrites,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
