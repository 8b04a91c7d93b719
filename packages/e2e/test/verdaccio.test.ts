/**
 * The Verdaccio plugin pair (issue 19) end to end: a real Verdaccio 6.8.0 on 127.0.0.1, storage in a temporary
 * folder, the test registry as its uplink, `packages/verdaccio`'s built plugin under `filters:` and `middlewares:`.
 * An upstream version with a bad signature, one too new for the cooldown and one listed in an OSV advisory are never
 * served (packument and tarball); a vetted one installs through pnpm 12, Yarn 4.18 and npm (portcullis-npm), fresh
 * and frozen, with a portcullis.json that trusts only the organisation's key; two instances sharing storage and key
 * serve the same versions; with the upstream down, an instance that cannot complete a check serves nothing.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyring, createRegistrySigner, verifyRegistrySignatures, type RegistryKey } from '@portcullis/core/internal';
import { cleanPackage, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCheckout, npmDrivers, output, pnpmDrivers, yarnDrivers, type Driver } from '../src/corpus/drivers.js';
import { startVerdaccio, type Verdaccio } from '../src/verdaccio.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

let registry: TestRegistry;
let work: string;
let a: Verdaccio;
let b: Verdaccio;
const instances: Verdaccio[] = [];
let orgKey: RegistryKey;
let retiredKey: RegistryKey;
let signingPem: string;
const started = Date.now();

function pem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

function pluginBlock(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { policy: join(work, 'org', 'portcullis.json'), upstream: registry.url, signingKey: { env: 'ORG_SIGNING_KEY' }, retiredKeys: [{ key: retiredKey.key, expires: '2026-06-01T00:00:00.000Z' }], cacheDir: join(work, 'cache'), stateDir: join(work, 'state'), ...over };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'portcullis-verdaccio-'));
  registry = await startRegistry({
    packages: [
      cleanPackage('vetted-lib', '1.0.0', { publishedAt: ago(30 * DAY) }),
      cleanPackage('vetted-lib', '1.1.0', { publishedAt: ago(20 * DAY), signature: 'corrupt' }),
      cleanPackage('fresh-lib', '1.0.0', { publishedAt: ago(HOUR) }),
      cleanPackage('listed-lib', '1.0.0', { publishedAt: ago(30 * DAY) }),
      cleanPackage('outage-lib', '1.0.0', { publishedAt: ago(30 * DAY) }),
    ],
  });
  signingPem = pem();
  orgKey = createRegistrySigner(signingPem).publicKey;
  retiredKey = { ...createRegistrySigner(pem()).publicKey, expires: '2026-06-01T00:00:00.000Z' };
  const osv = join(work, 'org', 'osv', 'malicious', 'npm', 'listed-lib');
  mkdirSync(osv, { recursive: true });
  writeFileSync(
    join(osv, 'MAL-2026-0100.json'),
    JSON.stringify({ schema_version: '1.5.0', id: 'MAL-2026-0100', modified: '2026-11-30T00:00:00Z', published: '2026-11-30T00:00:00Z', summary: 'Malicious code in listed-lib (npm)', affected: [{ package: { ecosystem: 'npm', name: 'listed-lib' }, versions: ['1.0.0'] }] }),
  );
  writeFileSync(
    join(work, 'org', 'portcullis.json'),
    JSON.stringify({ registries: { [registry.url]: { keys: registry.keys.keys } }, cooldown: { minimumReleaseAge: '3d' }, advisories: { osv: ['./osv'] } }, null, 2),
  );
  const env = { ORG_SIGNING_KEY: signingPem };
  // Two instances behind one imagined load balancer: shared storage, shared key, nothing else shared.
  a = await startVerdaccio({ dir: join(work, 'a'), storage: join(work, 'storage'), uplink: registry.url, plugin: pluginBlock({ cacheDir: join(work, 'a', 'cache'), stateDir: join(work, 'a', 'state') }), env });
  b = await startVerdaccio({ dir: join(work, 'b'), storage: join(work, 'storage'), uplink: registry.url, plugin: pluginBlock({ cacheDir: join(work, 'b', 'cache'), stateDir: join(work, 'b', 'state') }), env });
  instances.push(a, b);
}, 120_000);

afterAll(async () => {
  for (const v of instances) await v.close();
  await registry?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  process.stdout.write(`\nverdaccio.test.ts wall time: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
});

type Packument = { versions: Record<string, { dist: { integrity: string; tarball: string; signatures?: Array<{ keyid: string; sig: string }> } }>; 'dist-tags': Record<string, string>; time?: Record<string, string> };
type Verdicts = { name: string; served: string[]; signedBy: string; removed: Record<string, { code: string; reason: string }> };

/** What the plugin says it removed and why (`GET /-/portcullis/v1/verdicts/<name>`). */
async function verdicts(v: Verdaccio, name: string): Promise<Verdicts> {
  const res = await fetch(`${v.url}-/portcullis/v1/verdicts/${encodeURIComponent(name)}`);
  expect(res.status, v.log()).toBe(200);
  return (await res.json()) as Verdicts;
}

async function packument(v: Verdaccio, name: string, abbreviated = false): Promise<Packument> {
  const res = await fetch(`${v.url}${name}`, abbreviated ? { headers: { accept: 'application/vnd.npm.install-v1+json' } } : {});
  expect(res.status, `${name} from ${v.url}: ${v.log()}`).toBe(200);
  return (await res.json()) as Packument;
}

/** Whether a served version carries a valid signature by the organisation's key, checked by core's verifier. */
function orgSigned(name: string, version: string, doc: Packument['versions'][string], keys: RegistryKey[] = [orgKey]): string {
  const url = 'http://org.invalid/';
  return verifyRegistrySignatures({ name, version, integrity: doc.dist.integrity, signatures: doc.dist.signatures, registry: url, keyring: createKeyring({ [url]: { keys } }) }).status;
}

describe('the filter', () => {
  it('serves only versions that pass the organisation policy, each signed by the organisation key; the verdicts endpoint says why', async () => {
    const vetted = await packument(a, 'vetted-lib');
    expect(Object.keys(vetted.versions)).toEqual(['1.0.0']);
    expect(vetted['dist-tags']).toEqual({ latest: '1.0.0' });
    expect(Object.keys(vetted.time ?? {})).not.toContain('1.1.0');
    expect((await verdicts(a, 'vetted-lib')).removed['1.1.0']?.code).toBe('BAD_SIGNATURE');
    expect((await verdicts(a, 'vetted-lib')).signedBy).toBe(orgKey.keyid);
    expect(orgSigned('vetted-lib', '1.0.0', vetted.versions['1.0.0']!)).toBe('verified');
    // The upstream's own signature is still there (its keyid is not the organisation's).
    expect(vetted.versions['1.0.0']!.dist.signatures!.map((s) => s.keyid)).toEqual([registry.keys.keys.find((k) => k.expires === null)!.keyid, orgKey.keyid]);

    const fresh = await packument(a, 'fresh-lib');
    expect(Object.keys(fresh.versions)).toEqual([]);
    expect(fresh['dist-tags']).toEqual({});
    expect((await verdicts(a, 'fresh-lib')).removed['1.0.0']?.code).toBe('RELEASE_TOO_NEW');

    const listed = await packument(a, 'listed-lib');
    expect(Object.keys(listed.versions)).toEqual([]);
    const why = (await verdicts(a, 'listed-lib')).removed['1.0.0'];
    expect(why?.code).toBe('KNOWN_MALICIOUS');
    expect(why?.reason).toContain('MAL-2026-0100');

    // The abbreviated document (what installers ask for) is filtered and signed the same way.
    const short = await packument(a, 'vetted-lib', true);
    expect(Object.keys(short.versions)).toEqual(['1.0.0']);
    expect(orgSigned('vetted-lib', '1.0.0', short.versions['1.0.0']!)).toBe('verified');
  });

  it('never serves the tarball of a removed version; serves the vetted one', async () => {
    await packument(a, 'vetted-lib');
    expect((await fetch(`${a.url}vetted-lib/-/vetted-lib-1.1.0.tgz`)).status).toBe(404);
    expect((await fetch(`${a.url}fresh-lib/-/fresh-lib-1.0.0.tgz`)).status).toBe(404);
    expect((await fetch(`${a.url}listed-lib/-/listed-lib-1.0.0.tgz`)).status).toBe(404);
    expect((await fetch(`${a.url}vetted-lib/-/vetted-lib-1.0.0.tgz`)).status).toBe(200);
  });

  it('two instances sharing storage and key serve the same versions, signatures verifying against the same keys', async () => {
    for (const name of ['vetted-lib', 'fresh-lib', 'listed-lib']) {
      const [fromA, fromB] = [await packument(a, name), await packument(b, name)];
      expect(Object.keys(fromB.versions), name).toEqual(Object.keys(fromA.versions));
      expect(fromB['dist-tags'], name).toEqual(fromA['dist-tags']);
      const codes = async (v: Verdaccio) => Object.fromEntries(Object.entries((await verdicts(v, name)).removed).map(([version, r]) => [version, r.code]));
      expect(await codes(b), name).toEqual(await codes(a));
      for (const [version, doc] of Object.entries(fromB.versions)) expect(orgSigned(name, version, doc)).toBe('verified');
    }
  });

  it('with the upstream down, a version whose check cannot complete is not served (fail closed)', async () => {
    expect(Object.keys((await packument(a, 'outage-lib')).versions)).toEqual(['1.0.0']);
    registry.setFault('/outage-lib', { kind: 'status', status: 503 });
    try {
      // A new instance over the same storage, remembering nothing: the publish time (cooldown) cannot be read.
      const c = await startVerdaccio({ dir: join(work, 'c'), storage: join(work, 'storage'), uplink: registry.url, plugin: pluginBlock({ cacheDir: join(work, 'c', 'cache'), stateDir: join(work, 'c', 'state') }), env: { ORG_SIGNING_KEY: signingPem } });
      instances.push(c);
      const served = await packument(c, 'outage-lib');
      expect(Object.keys(served.versions)).toEqual([]);
      expect((await verdicts(c, 'outage-lib')).removed['1.0.0']?.code).toBe('METADATA_UNAVAILABLE');
      expect((await fetch(`${c.url}outage-lib/-/outage-lib-1.0.0.tgz`)).status).toBe(404);
      expect(c.log()).not.toContain('PRIVATE KEY');
    } finally {
      registry.setFault('/outage-lib', null);
    }
  });
});

describe('configuration', () => {
  it('a plugin that cannot sign makes Verdaccio serve nothing (its loader would run on without a filter that throws), quoting no key', async () => {
    const broken = signingPem.replace(/\n[A-Za-z0-9+/=]+\n/, '\nAAAA\n');
    const v = await startVerdaccio({ dir: join(work, 'broken'), storage: join(work, 'storage-broken'), uplink: registry.url, plugin: pluginBlock(), env: { ORG_SIGNING_KEY: broken } });
    instances.push(v);
    for (const path of ['vetted-lib', 'vetted-lib/-/vetted-lib-1.0.0.tgz', '-/npm/v1/keys', '-/ping']) {
      const res = await fetch(`${v.url}${path}`);
      const text = await res.text();
      expect(res.status, path).toBe(503);
      expect(text).toContain('portcullis (Verdaccio plugin)');
      expect(text).toContain('ORG_SIGNING_KEY');
      expect(text).not.toContain(signingPem.split('\n')[1]!.slice(0, 16));
    }
    expect(v.log()).not.toContain(signingPem.split('\n')[1]!.slice(0, 16));
  });
});

describe('the keys endpoint', () => {
  it('GET /-/npm/v1/keys lists the signing key (no expiry) and the retired key with its expiry', async () => {
    const res = await fetch(`${a.url}-/npm/v1/keys`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ keys: [orgKey, retiredKey] });
  });
});

const clients = (): Driver[] => [pnpmDrivers()[2]!, yarnDrivers()[0]!, npmDrivers()[1]!];

describe.each(clients().map((d) => [d.label, d] as const))('%s through Verdaccio, trusting only the organisation key', (_label, driver: Driver) => {
  const trustOrgOnly = () => ({ registries: { [a.url]: { keys: [orgKey] } } });
  const installedVersion = (dir: string, name: string) => {
    try {
      return (JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'none';
    }
  };

  it('a range installs the vetted version, fresh and frozen', async () => {
    const project = await driver.project(a.url, { 'vetted-lib': '^1.0.0' }, trustOrgOnly());
    const fresh = await driver.install(project);
    expect(fresh.code, output(fresh)).toBe(0);
    expect(installedVersion(project.dir, 'vetted-lib')).toBe('1.0.0');
    freshCheckout(project);
    driver.coldCache(project);
    const frozen = await driver.frozen(project);
    expect(frozen.code, output(frozen)).toBe(0);
    expect(installedVersion(project.dir, 'vetted-lib')).toBe('1.0.0');
  });

  it('an exact pin of a removed version does not install', async () => {
    const project = await driver.project(a.url, { 'vetted-lib': '1.1.0' }, trustOrgOnly());
    const r = await driver.install(project);
    expect(r.code, output(r)).not.toBe(0);
    expect(installedVersion(project.dir, 'vetted-lib')).toBe('none');
  });
});
