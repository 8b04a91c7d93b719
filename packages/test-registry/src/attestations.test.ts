import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// The verifier the product uses; a dev dependency of core only, so imported from there (test-only).
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { attestationsPath, parseAttestationsPath } from './attestations.js';
import { cleanPackage, markerFileName, packFixture, withPostinstall } from './fixtures.js';
import { startRegistry, type TestRegistry } from './server.js';
import { acmeWidgetProvenance, provenanceSet } from './sets.js';
import { SLSA_PROVENANCE_V1, staleTrustedRoot, testTrustedRoot } from './sigstore.js';

const ABBREVIATED = 'application/vnd.npm.install-v1+json';
type Json = Record<string, any>; // free-form JSON under test

const running: TestRegistry[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((registry) => registry.close()));
});

async function start(...args: Parameters<typeof startRegistry>): Promise<TestRegistry> {
  const registry = await startRegistry(...args);
  running.push(registry);
  return registry;
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Json };
}

function verifyBundle(bundle: unknown, root: unknown = testTrustedRoot()) {
  return new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root))).verify(toSignedEntity(bundleFromJSON(bundle)));
}

const statementOf = (bundle: Json): Json => JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
const sha512Hex = (integrity: string) => Buffer.from(integrity.slice('sha512-'.length), 'base64').toString('hex');

describe('attestations endpoint', () => {
  it('serves a bundle that verifies and names this version and its tarball digest', async () => {
    const registry = await start({ packages: provenanceSet });
    const { status, body } = await getJson(`${registry.url}-/npm/v1/attestations/acme-widget@1.0.0`);
    expect(status).toBe(200);
    expect(body.attestations).toHaveLength(1);
    expect(body.attestations[0].predicateType).toBe(SLSA_PROVENANCE_V1);
    const { bundle } = body.attestations[0];
    const signer = verifyBundle(bundle);
    expect(signer.identity?.subjectAlternativeName).toBe('https://github.com/acme/widget/.github/workflows/release.yml@refs/tags/v1.0.0');
    expect(statementOf(bundle).subject).toEqual([{ name: 'pkg:npm/acme-widget@1.0.0', digest: { sha512: sha512Hex(registry.integrity('acme-widget', '1.0.0')) } }]);
    // Signed when the version was published (the packument's time).
    const { body: packument } = await getJson(`${registry.url}acme-widget`);
    expect(Number(bundle.verificationMaterial.tlogEntries[0].integratedTime) * 1000).toBe(Date.parse(packument.time['1.0.0']));
    // The same bundle on every request (made once per version).
    expect((await getJson(`${registry.url}-/npm/v1/attestations/acme-widget@1.0.0`)).body).toEqual(body);
    expect(registry.attestations('acme-widget', '1.0.0')).toEqual(body);
  });

  it('answers the scoped name escaped (as in dist.attestations.url) and unescaped (as npm may ask)', async () => {
    const registry = await start({ packages: provenanceSet });
    for (const path of ['@acme%2fwidget@1.0.0', '@acme%2Fwidget@1.0.0', '@acme/widget@1.0.0']) {
      const { status, body } = await getJson(`${registry.url}-/npm/v1/attestations/${path}`);
      expect(status, path).toBe(200);
      expect(statementOf(body.attestations[0].bundle).subject[0].name).toBe('pkg:npm/%40acme/widget@1.0.0');
      verifyBundle(body.attestations[0].bundle);
    }
  });

  it('answers 404 for a version without provenance, an unknown version or package, and a malformed path; 405 for writes', async () => {
    const registry = await start({ packages: provenanceSet });
    for (const path of ['acme-widget@1.2.0', 'acme-widget@0.9.0', 'acme-widget@9.9.9', 'nope@1.0.0', 'acme-widget', '@acme%2fwidget', '']) {
      expect((await fetch(`${registry.url}-/npm/v1/attestations/${path}`)).status, path).toBe(404);
    }
    expect((await fetch(`${registry.url}-/npm/v1/attestations/acme-widget@1.0.0`, { method: 'POST' })).status).toBe(405);
    expect(registry.attestations('acme-widget', '1.2.0')).toBeUndefined();
    expect(() => registry.attestations('acme-widget', '9.9.9')).toThrow(/no such fixture/);
  });

  it('keeps the attestation of the published tarball when the tarball is swapped (digest no longer matches)', async () => {
    const registry = await start({ packages: provenanceSet });
    const before = registry.attestations('acme-widget', '1.1.0')!;
    registry.swapTarball('acme-widget', '1.1.0', { 'index.js': 'evil()' });
    const tarball = Buffer.from(await (await fetch(`${registry.url}acme-widget/-/acme-widget-1.1.0.tgz`)).arrayBuffer());
    const { createHash } = await import('node:crypto');
    const served = (await getJson(`${registry.url}-/npm/v1/attestations/acme-widget@1.1.0`)).body;
    expect(served).toEqual(before);
    expect(statementOf(served.attestations[0].bundle).subject[0].digest.sha512).not.toBe(createHash('sha512').update(tarball).digest('hex'));
  });

  it('follows a version replaced with registry.add(), and its publish time when that moves', async () => {
    const registry = await start({ packages: [cleanPackage('redo', '1.0.0', { provenance: acmeWidgetProvenance('1.0.0') })] });
    const first = registry.attestations('redo', '1.0.0')!;
    registry.add(cleanPackage('redo', '1.0.0', { provenance: acmeWidgetProvenance('1.0.0'), files: { 'index.js': 'changed()' } }));
    const second = (await getJson(`${registry.url}-/npm/v1/attestations/redo@1.0.0`)).body;
    expect(statementOf(second.attestations[0].bundle).subject[0].digest.sha512).not.toBe(statementOf(first.attestations[0]!.bundle).subject[0].digest.sha512);
    expect(statementOf(second.attestations[0].bundle).subject[0].digest.sha512).toBe(sha512Hex(registry.integrity('redo', '1.0.0')));
    // A lower version added later shifts default publish times by rank; the bundle follows the packument's time.
    registry.add(cleanPackage('redo', '0.1.0'));
    const time = (await getJson(`${registry.url}redo`)).body.time['1.0.0'];
    const third = registry.attestations('redo', '1.0.0')!.attestations[0]!.bundle as Json;
    expect(Number(third.verificationMaterial.tlogEntries[0].integratedTime) * 1000).toBe(Date.parse(time));
    verifyBundle(third);
  });

  it('bundles verify against the test root and fail against the stale root', async () => {
    const registry = await start({ packages: provenanceSet });
    const { bundle } = registry.attestations('@acme/widget', '1.0.0')!.attestations[0]!;
    expect(() => verifyBundle(bundle)).not.toThrow();
    expect(() => verifyBundle(bundle, staleTrustedRoot())).toThrow();
  });

  it('serves tamper kinds as specified: "signature" fails the verifier, "digest" is a signed lie', async () => {
    const registry = await start({
      packages: [
        cleanPackage('forged', '1.0.0', { provenance: acmeWidgetProvenance('1.0.0', { tamper: 'signature' }) }),
        cleanPackage('lying', '1.0.0', { provenance: acmeWidgetProvenance('1.0.0', { tamper: 'digest' }) }),
      ],
    });
    const forged = (await getJson(`${registry.url}-/npm/v1/attestations/forged@1.0.0`)).body.attestations[0].bundle;
    expect(() => verifyBundle(forged)).toThrow(/signature verification failed/);
    const lying = (await getJson(`${registry.url}-/npm/v1/attestations/lying@1.0.0`)).body.attestations[0].bundle;
    expect(() => verifyBundle(lying)).not.toThrow();
    expect(statementOf(lying).subject[0].digest.sha512).not.toBe(sha512Hex(registry.integrity('lying', '1.0.0')));
  });
});

describe('dist.attestations', () => {
  it('is on versions with provenance only, in full, abbreviated and version documents, pointing at this registry', async () => {
    const registry = await start({ packages: provenanceSet });
    const expected = (version: string) => ({ url: `${registry.url}-/npm/v1/attestations/acme-widget@${version}`, provenance: { predicateType: SLSA_PROVENANCE_V1 } });
    const full = (await getJson(`${registry.url}acme-widget`)).body;
    const corgi = (await getJson(`${registry.url}acme-widget`, { accept: ABBREVIATED })).body;
    for (const doc of [full, corgi]) {
      expect(doc.versions['1.0.0'].dist.attestations).toEqual(expected('1.0.0'));
      expect(doc.versions['1.1.0'].dist.attestations).toEqual(expected('1.1.0'));
      expect(doc.versions['1.3.0'].dist.attestations).toEqual(expected('1.3.0'));
      for (const version of ['0.9.0', '0.9.1', '1.2.0', '2.0.0']) expect(doc.versions[version].dist, version).not.toHaveProperty('attestations');
      expect(doc.versions['1.0.0'].dist.signatures).toHaveLength(1); // provenance does not replace signatures
    }
    expect((await getJson(`${registry.url}acme-widget/1.1.0`)).body.dist.attestations).toEqual(expected('1.1.0'));
    const scoped = (await getJson(`${registry.url}@acme%2fwidget`)).body;
    expect(scoped.versions['1.0.0'].dist.attestations.url).toBe(`${registry.url}-/npm/v1/attestations/@acme%2fwidget@1.0.0`);
    expect(registry.attestationsUrl('@acme/widget', '1.0.0')).toBe(scoped.versions['1.0.0'].dist.attestations.url);
    // The advertised URL works.
    expect((await fetch(scoped.versions['1.0.0'].dist.attestations.url)).status).toBe(200);
  });
});

describe('faults and mirrors', () => {
  it('stripAttestations: no dist.attestations, 404 on the endpoint, signatures untouched', async () => {
    const registry = await start({ packages: provenanceSet, stripAttestations: true });
    const full = (await getJson(`${registry.url}acme-widget`)).body;
    expect(full.versions['1.0.0'].dist).not.toHaveProperty('attestations');
    expect(full.versions['1.0.0'].dist.signatures).toHaveLength(1);
    expect((await fetch(`${registry.url}-/npm/v1/attestations/acme-widget@1.0.0`)).status).toBe(404);
  });

  it('drop-attestations fault strips the packument and 404s the endpoint on the matched paths only', async () => {
    const registry = await start({ packages: provenanceSet });
    registry.setFault('/acme-widget', { kind: 'drop-attestations' });
    registry.setFault(/^\/-\/npm\/v1\/attestations\/acme-widget@/, { kind: 'drop-attestations' });
    expect((await getJson(`${registry.url}acme-widget`)).body.versions['1.0.0'].dist).not.toHaveProperty('attestations');
    expect((await getJson(`${registry.url}acme-widget`, { accept: ABBREVIATED })).body.versions['1.0.0'].dist).not.toHaveProperty('attestations');
    expect((await fetch(`${registry.url}-/npm/v1/attestations/acme-widget@1.0.0`)).status).toBe(404);
    expect((await getJson(`${registry.url}@acme%2fwidget`)).body.versions['1.0.0'].dist).toHaveProperty('attestations');
    expect((await fetch(`${registry.url}-/npm/v1/attestations/@acme%2fwidget@1.0.0`)).status).toBe(200);
  });

  it('the endpoint can be down (HTTP 500) for everything or for one package, with packuments still served', async () => {
    const registry = await start({ packages: provenanceSet });
    registry.setFault('/-/npm/v1/attestations/@acme/widget@1.0.0', { kind: 'status', status: 500 });
    expect((await fetch(`${registry.url}-/npm/v1/attestations/@acme%2fwidget@1.0.0`)).status).toBe(500);
    expect((await fetch(`${registry.url}-/npm/v1/attestations/@acme/widget@1.0.0`)).status).toBe(500);
    expect((await fetch(`${registry.url}-/npm/v1/attestations/acme-widget@1.0.0`)).status).toBe(200);
    registry.clearFaults();
    registry.setFault(/^\/-\/npm\/v1\/attestations\//, { kind: 'status', status: 500 });
    expect((await fetch(`${registry.url}-/npm/v1/attestations/acme-widget@1.0.0`)).status).toBe(500);
    expect((await fetch(`${registry.url}-/npm/v1/attestations/@acme%2fwidget@1.0.0`)).status).toBe(500);
    expect((await getJson(`${registry.url}acme-widget`)).body.versions['1.0.0'].dist).toHaveProperty('attestations');
  });
});

describe('attestation paths', () => {
  it('escape the scope slash and parse both forms back, refusing anything else', () => {
    expect(attestationsPath('@acme/widget', '1.0.0')).toBe('/-/npm/v1/attestations/@acme%2fwidget@1.0.0');
    expect(attestationsPath('plain', '1.0.0-rc.1')).toBe('/-/npm/v1/attestations/plain@1.0.0-rc.1');
    expect(parseAttestationsPath('/-/npm/v1/attestations/@acme/widget@1.0.0')).toEqual({ name: '@acme/widget', version: '1.0.0' });
    expect(parseAttestationsPath('/-/npm/v1/attestations/plain@1.0.0-rc.1')).toEqual({ name: 'plain', version: '1.0.0-rc.1' });
    for (const bad of ['/-/npm/v1/attestations/@acme/widget', '/-/npm/v1/attestations/plain@latest', '/-/npm/v1/attestations/__proto__@1.0.0', '/-/npm/v1/keys']) {
      expect(parseAttestationsPath(bad), bad).toBeUndefined();
    }
  });
});

describe('provenance set', () => {
  it('has the release lines the e2e tests rely on, each version with a marker postinstall', () => {
    const packed = provenanceSet.map(packFixture);
    const repo = (name: string, version: string) => packed.find((p) => p.name === name && p.version === version)?.provenance?.repository ?? null;
    expect(packed.map((p) => `${p.name}@${p.version}:${repo(p.name, p.version)}`)).toEqual([
      'acme-widget@0.9.0:null',
      'acme-widget@0.9.1:null',
      'acme-widget@1.0.0:github.com/acme/widget',
      'acme-widget@1.1.0:github.com/acme/widget',
      'acme-widget@1.2.0:null',
      'acme-widget@1.3.0:github.com/evil/widget',
      'acme-widget@2.0.0:null',
      '@acme/widget@1.0.0:github.com/acme/widget',
    ]);
    for (const p of packed) {
      expect(String((p.manifest.scripts as Json).postinstall)).toContain(markerFileName(p.name, p.version));
      expect(p.provenance?.tamper).toBeUndefined();
    }
    expect(withPostinstall('x', '1.0.0').provenance).toBeUndefined();
  });
});

// The e2e tests run the registry as a child process (dist/serve.js) and write the trusted root from
// their own process: a bundle made in one process must verify against the root made in another.
describe('serve.js --fixtures provenance', () => {
  let dir: string;
  let script: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-serve-prov-'));
    script = join(dir, 'serve.js');
    await build({ entryPoints: [new URL('./serve.ts', import.meta.url).pathname], outfile: script, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'silent' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves bundles that verify against this process\'s test root; --strip-attestations strips them', async () => {
    for (const strip of [false, true]) {
      const child = spawn(process.execPath, [script, '--fixtures', 'provenance', ...(strip ? ['--strip-attestations'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
        const { url } = JSON.parse(line) as { url: string };
        const res = await fetch(`${url}-/npm/v1/attestations/@acme%2fwidget@1.0.0`);
        if (strip) {
          expect(res.status).toBe(404);
        } else {
          const body = (await res.json()) as Json;
          expect(() => verifyBundle(body.attestations[0].bundle)).not.toThrow();
        }
      } finally {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });
});
