import { createHook } from 'node:async_hooks';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoSecret, VerifiedVersions } from '../cache/verified-versions.js';
import type { PackageNode } from '../model.js';
import { parsePolicy } from '../policy/load.js';
import type { RegistryClient } from '../registry/client.js';
import { packumentVersionFromJson, parsePackument, type PackumentServed, type PackumentVersion } from '../registry/packument.js';
import { createKeyring, type Keyring } from '../signatures/keyring.js';
import { createRegistrySigner } from '../signatures/signer.js';
import { evaluate } from '../evaluation/evaluate.js';
import { gatherEvidence, scriptEvidence, type SignatureVerification } from './gather.js';
import { tgz } from '../registry/tarball.fixture.js';

const node: PackageNode = { id: 'esbuild@0.25.0', name: 'esbuild', version: '0.25.0', integrity: 'sha512-x', source: 'registry', registry: 'https://r.test/', aliases: [], paths: [], dependents: ['.'] };

function entry(fields: Record<string, unknown>, served: PackumentServed) {
  const text = JSON.stringify({ name: 'esbuild', versions: { '0.25.0': { name: 'esbuild', version: '0.25.0', dist: { integrity: 'sha512-x' }, ...fields } } });
  return parsePackument(text, { name: 'esbuild', kind: 'abbreviated', served }).versions.get('0.25.0')!;
}

describe('scriptEvidence (issue 13.5: scripts in a full document count; silence is not "none")', () => {
  it('counts the scripts of a full document served for the abbreviated request', () => {
    const found = scriptEvidence(node, entry({ _id: 'esbuild@0.25.0', scripts: { postinstall: 'node install.js', test: 'x' } }, 'full'), null);
    // The command line rides along (approve shows it); a script that does not run at install time (test) does not.
    expect(found).toEqual({ hasInstallScript: true, scripts: ['postinstall'], commands: { postinstall: 'node install.js' }, bindingGyp: false, source: 'metadata' });
  });

  it('metadata that neither lists scripts nor says "none" is no evidence; the lockfile\'s claim decides, or nothing does', () => {
    const silent = entry({}, 'full');
    expect(scriptEvidence(node, silent, null)).toBeUndefined();
    expect(scriptEvidence({ ...node, hasInstallScript: true }, silent, null)).toMatchObject({ hasInstallScript: true, source: 'lockfile' });
  });

  it('a git dependency\'s prepack or build counts (tenth wave G1: npm 10 and 11 then install its clone under its own .npmrc); a registry package\'s does not', () => {
    const installed = { scripts: { build: 'tsc', prepack: 'x', test: 'y' }, bindingGyp: false, gypfile: undefined };
    const git: PackageNode = { ...node, id: 'git-outer@1.0.0', name: 'git-outer', version: '1.0.0', source: 'git' };
    expect(scriptEvidence(git, undefined, installed)).toMatchObject({ hasInstallScript: true, scripts: ['prepack', 'build'], source: 'installed' });
    expect(scriptEvidence(node, undefined, installed)).toMatchObject({ hasInstallScript: false, scripts: [], source: 'installed' });
    // A clone that declares workspaces is installed by npm 10 and 11's nested npm with no script at all.
    expect(scriptEvidence(git, undefined, { scripts: {}, bindingGyp: false, gypfile: undefined, workspaces: true })).toMatchObject({ hasInstallScript: true, scripts: [] });
    expect(scriptEvidence(node, undefined, { scripts: {}, bindingGyp: false, gypfile: undefined, workspaces: true })).toMatchObject({ hasInstallScript: false });
    // A folder npm copies (install-links) runs only its prepare: no nested install there.
    expect(scriptEvidence({ ...node, source: 'directory', packedOnInstall: true }, undefined, installed)).toMatchObject({ hasInstallScript: false, scripts: [] });
  });

  it('the abbreviated document\'s silence is its "none"', () => {
    expect(scriptEvidence(node, entry({}, 'abbreviated'), null)).toEqual({ hasInstallScript: false, scripts: [], bindingGyp: false, source: 'metadata' });
  });
});

describe('gatherEvidence reads command lines where script drift needs them', () => {
  const lib: PackageNode = { id: 'lib@1.0.0', name: 'lib', version: '1.0.0', source: 'registry', registry: 'https://registry.example/', integrity: 'sha512-AAAA', aliases: [], paths: ['node_modules/lib'], dependents: ['.'] };
  const full = JSON.stringify({ name: 'lib', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { _id: 'lib@1.0.0', name: 'lib', version: '1.0.0', scripts: { postinstall: 'node install.js' }, dist: { integrity: 'sha512-AAAA' } } }, time: { '1.0.0': '2026-01-01T00:00:00.000Z' } });
  // What pnpm hands over from an abbreviated document: "has scripts", no command lines.
  const abbreviated = packumentVersionFromJson({ name: 'lib', version: '1.0.0', hasInstallScript: true, dist: { integrity: 'sha512-AAAA' } }, 'lib', '1.0.0') as PackumentVersion;

  function run(needsCommands: boolean, verified?: VerifiedVersions) {
    const requests: Array<{ full: boolean }> = [];
    const client = {
      getPackument: async (_name: string, options: { full?: boolean } = {}) => {
        requests.push({ full: options.full === true });
        return parsePackument(full, { name: 'lib', kind: 'full' });
      },
    } as unknown as RegistryClient;
    const policy = parsePolicy('{"signatures":{"require":"off"}}', '/p/portcullis.json');
    const gathered = gatherEvidence([lib], { policy, client, keyring: {} as Keyring, supplied: () => abbreviated, needsCommands: () => needsCommands, ...(verified ? { verified } : {}) });
    return gathered.then((g) => ({ scripts: g.evidence.scripts.get(lib.id), requests }));
  }

  it('handed-over abbreviated metadata is enough without drift; with it, the full document is read for the command lines', async () => {
    const plain = await run(false);
    expect(plain.requests).toEqual([]);
    expect(plain.scripts?.commands).toBeUndefined();
    const drift = await run(true);
    expect(drift.requests).toEqual([{ full: true }]);
    expect(drift.scripts?.commands).toEqual({ postinstall: 'node install.js' });
  });

  it('remembered facts without command lines do not answer for drift; facts with them do (no request)', async () => {
    const secret = memoSecret(mkdtempSync(join(tmpdir(), 'portcullis-gather-state-')))!;
    const cache = mkdtempSync(join(tmpdir(), 'portcullis-gather-cache-'));
    const memo = VerifiedVersions.open(cache, '/p', secret);
    const query = { keySetId: 'signatures-off', registry: lib.registry!, name: 'lib', version: '1.0.0', integrity: lib.integrity };
    memo.set(query, { integrity: 'sha512-AAAA', keyid: '', hasInstallScript: true, gypfile: false, scripts: ['postinstall'] });
    // Without drift they answer as before, and claim no command lines they do not have.
    const plain = await run(false, memo);
    expect(plain.requests).toEqual([]);
    expect(plain.scripts).toMatchObject({ hasInstallScript: true, scripts: ['postinstall'] });
    expect(plain.scripts?.commands).toBeUndefined();
    const without = await run(true, memo);
    expect(without.requests).toEqual([{ full: true }]);
    expect(without.scripts?.commands).toEqual({ postinstall: 'node install.js' });
    // That run remembered the command lines: the next one needs no request.
    const warm = await run(true, memo);
    expect(warm.requests).toEqual([]);
    expect(warm.scripts?.commands).toEqual({ postinstall: 'node install.js' });
  });
});

describe('gatherEvidence: where signatures are verified', () => {
  const REGISTRY = 'http://127.0.0.1:4873/';
  const signer = createRegistrySigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  const keyring = createKeyring({ [REGISTRY]: { keys: [signer.publicKey] } });
  const policy = parsePolicy('{}', '/p/portcullis.json');
  const client = { getPackument: async () => Promise.reject(new Error('not asked for')) } as unknown as RegistryClient;
  const pkg = (name: string, integrity: string): PackageNode => ({ id: `${name}@1.0.0`, name, version: '1.0.0', integrity, source: 'registry', registry: REGISTRY, aliases: [], paths: [], dependents: ['.'] });
  const good = pkg('good', 'sha512-AAAA');
  const forged = pkg('forged', 'sha512-BBBB');
  const docs = new Map<string, PackumentVersion>([
    [good.id, packumentVersionFromJson({ name: 'good', version: '1.0.0', dist: { integrity: 'sha512-AAAA', signatures: [signer.sign('good', '1.0.0', 'sha512-AAAA')] } }, 'good', '1.0.0') as PackumentVersion],
    // Signed for other bytes: must not verify, wherever it is checked.
    [forged.id, packumentVersionFromJson({ name: 'forged', version: '1.0.0', dist: { integrity: 'sha512-BBBB', signatures: [signer.sign('forged', '1.0.0', 'sha512-CCCC')] } }, 'forged', '1.0.0') as PackumentVersion],
  ]);

  /**
   * The evidence, and how many signature jobs came back from libuv's thread pool: async_hooks sees every job as a
   * SIGNREQUEST, and a callback (`before`) only for one that ran in the pool.
   */
  async function gather(signatureVerification?: SignatureVerification) {
    const jobs = new Set<number>();
    let pooled = 0;
    const hook = createHook({
      init: (id, type) => void (type === 'SIGNREQUEST' && jobs.add(id)),
      before: (id) => void (jobs.has(id) && pooled++),
    }).enable();
    try {
      const gathered = await gatherEvidence([good, forged], { policy, client, keyring, supplied: (p) => docs.get(p.id), ...(signatureVerification ? { signatureVerification } : {}) });
      return { signatures: Object.fromEntries(gathered.evidence.signatures), pooled };
    } finally {
      hook.disable();
    }
  }

  it('on the calling thread (pnpm 12\'s hook worker) the same evidence as on the thread pool, and no job handed to the pool', async () => {
    const pool = await gather();
    const here = await gather('calling-thread');
    expect(pool.signatures[good.id]).toMatchObject({ status: 'verified', keyid: signer.keyid });
    expect(pool.signatures[forged.id]).toMatchObject({ status: 'bad-signature' });
    expect(here.signatures).toEqual(pool.signatures);
    expect(pool.pooled).toBe(2);
    expect(here.pooled).toBe(0);
    expect((await gather('thread-pool')).pooled).toBe(2);
  });
});

describe('gatherEvidence: the copies a bundling registry package ships (round 45, ninth wave N3)', () => {
  const REGISTRY = 'https://registry.example/';
  const tarball = tgz([
    { path: 'package/package.json', content: '{"name":"carrier","version":"1.0.0"}' },
    { path: 'package/node_modules/listed-lib/package.json', content: '{"name":"listed-lib","version":"1.0.0","scripts":{"postinstall":"x"}}' },
    { path: 'package/node_modules/other/package.json', content: '{"name":"other","version":"2.0.0"}' },
    // Its package.json names another package: `require('@s/renamed')` loads it, so it counts under both names.
    { path: 'package/node_modules/other/node_modules/@s/renamed/package.json', content: '{"name":"innocent","version":"3.0.0"}' },
  ]);
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
  // pnpm's graph: the bundling parent only (its lockfile lists no bundled copy).
  const carrier: PackageNode = { id: 'carrier@1.0.0', name: 'carrier', version: '1.0.0', integrity, source: 'registry', registry: REGISTRY, aliases: [], paths: [], dependents: ['.'] };
  const doc = JSON.stringify({ name: 'carrier', versions: { '1.0.0': { name: 'carrier', version: '1.0.0', bundleDependencies: ['listed-lib', 'other'], dist: { integrity, tarball: `${REGISTRY}carrier/-/carrier-1.0.0.tgz` } } } });

  function run(policyText: string, bytes: Buffer = tarball, verified?: VerifiedVersions) {
    const fetched: string[] = [];
    const client = {
      getPackument: async () => parsePackument(doc, { name: 'carrier', kind: 'abbreviated' }),
      getTarball: async (url: string) => (fetched.push(url), bytes),
    } as unknown as RegistryClient;
    const policy = parsePolicy(policyText, '/p/portcullis.json');
    return gatherEvidence([carrier], { policy, client, keyring: {} as Keyring, ...(verified ? { verified } : {}) }).then((g) => ({ ...g, fetched }));
  }

  it('with advisories: every copy its pinned tarball ships is a bundled node of the graph, with no install script of its own', async () => {
    const g = await run('{"signatures":{"require":"off"},"advisories":{"osv":["./osv"]}}');
    expect(g.shipped.map((c) => [c.id, c.inBundle, c.bundledBy])).toEqual([
      ['listed-lib@1.0.0 (bundled in carrier@1.0.0)', true, { name: 'carrier', version: '1.0.0' }],
      ['other@2.0.0 (bundled in carrier@1.0.0)', true, { name: 'carrier', version: '1.0.0' }],
      ['innocent@3.0.0 (bundled in carrier@1.0.0)', true, { name: 'carrier', version: '1.0.0' }],
      ['@s/renamed@3.0.0 (bundled in carrier@1.0.0)', true, { name: 'carrier', version: '1.0.0' }],
    ]);
    expect(g.evidence.scripts.get('listed-lib@1.0.0 (bundled in carrier@1.0.0)')).toMatchObject({ hasInstallScript: false });
    expect(g.evidence.unavailable.size).toBe(0);
  });

  it('without advisories no tarball is read (the common path does no new work)', async () => {
    const g = await run('{"signatures":{"require":"off"}}');
    expect(g.fetched).toEqual([]);
    expect(g.shipped).toEqual([]);
  });

  it('a tarball that is not the pinned one, or ships a copy with no readable name and version: the parent is undecidable', async () => {
    const other = tgz([{ path: 'package/node_modules/listed-lib/package.json', content: '{}' }]);
    const wrong = await run('{"signatures":{"require":"off"},"advisories":{"osv":["./osv"]}}', other);
    expect(wrong.evidence.unavailable.get('carrier@1.0.0')).toMatch(/not the one the lockfile pins/);
    expect(wrong.shipped).toEqual([]);
  });

  it('a pinned tarball that cannot be read safely: the parent is undecidable, and its finding says to remove it or move to another version (fourteenth wave)', async () => {
    const raw = gunzipSync(tarball);
    const pinned = `sha512-${createHash('sha512').update(raw).digest('base64')}`;
    const client = { getPackument: async () => parsePackument(doc.replaceAll(integrity, pinned), { name: 'carrier', kind: 'abbreviated' }), getTarball: async () => raw } as unknown as RegistryClient;
    const policy = parsePolicy('{"signatures":{"require":"off"},"advisories":{"osv":["./osv"]}}', '/p/portcullis.json');
    const g = await gatherEvidence([{ ...carrier, integrity: pinned }], { policy, client, keyring: {} as Keyring });
    expect(g.evidence.unavailable.get('carrier@1.0.0')).toMatch(/cannot be read safely: the tarball is not valid gzip/);
    expect(g.evidence.unreadable?.get('carrier@1.0.0')).toEqual({ name: 'carrier', version: '1.0.0' });
    const [finding] = evaluate(policy, [{ ...carrier, integrity: pinned }], g.evidence);
    expect(finding).toMatchObject({ code: 'METADATA_UNAVAILABLE', package: 'carrier' });
    expect(finding!.fix).toBe('remove carrier from your dependencies or move to another version of it: the tarball of carrier@1.0.0 cannot be read safely, and running again will not change that');
    // Bytes that are not the pinned ones may be a mirror's fault: the fix stays "reach the registry".
    const wrong = await run('{"signatures":{"require":"off"},"advisories":{"osv":["./osv"]}}', raw);
    expect(wrong.evidence.unreadable?.size ?? 0).toBe(0);
    expect(evaluate(policy, [carrier], wrong.evidence)[0]!.fix).toMatch(/reachable and run again/);
  });

  it('remembered facts say that a version bundles: its tarball is still read on the next decision', async () => {
    const secret = memoSecret(mkdtempSync(join(tmpdir(), 'portcullis-gather-state-')))!;
    const memo = VerifiedVersions.open(mkdtempSync(join(tmpdir(), 'portcullis-gather-cache-')), '/p', secret);
    const policy = '{"signatures":{"require":"off"},"advisories":{"osv":["./osv"]}}';
    expect((await run(policy, tarball, memo)).shipped).toHaveLength(4);
    expect(memo.get({ keySetId: 'signatures-off', registry: REGISTRY, name: 'carrier', version: '1.0.0', integrity })).toMatchObject({ bundles: true });
    const again = await run(policy, tarball, memo);
    expect(again.shipped).toHaveLength(4);
    expect(again.fetched).toHaveLength(1);
  });
});
