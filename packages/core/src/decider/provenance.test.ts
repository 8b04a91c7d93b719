import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it, vi } from 'vitest';
import { AuthenticatedMemo } from '../cache/authenticated-memo.js';
import type { PackageNode } from '../model.js';
import { parsePolicy } from '../policy/load.js';
import type { Packument, PackumentVersion } from '../registry/packument.js';
import type { RegistryClient } from '../registry/client.js';
import { defaultTrust } from '../provenance/trusted-root.js';
import { attestationVector } from '../provenance/vectors.fixture.js';
import { earlierClaims, earlierInLine, earlierInLineOf, gatherProvenance, isProvenanceFacts, mayBeEarlierInLineOf, sameReleaseLine, type ProvenanceFacts } from './provenance.js';

const REGISTRY = 'https://registry.npmjs.org/';
// The real sigstore@1.0.0 provenance (github.com/sigstore/sigstore-js), and versions around it on its line.
const real = attestationVector('sigstore', '1.0.0');

function entry(version: string, claims: boolean, integrity = `sha512-${Buffer.from(version).toString('base64')}`): PackumentVersion {
  return { name: 'sigstore', version, dist: { integrity, signatures: [], ...(claims ? { attestations: { provenance: 'https://slsa.dev/provenance/v0.2' } } : {}) } };
}

function packument(entries: PackumentVersion[]): Packument {
  return { kind: 'abbreviated', name: 'sigstore', versions: new Map(entries.map((e) => [e.version, e])), invalidVersions: new Map(), time: new Map() };
}

/** A registry client that serves one packument and attestations documents, counting requests. */
function fakeClient(doc: Packument, attestations: Record<string, unknown>, failing: string[] = []) {
  const asked: string[] = [];
  const client = {
    async getPackument() {
      asked.push('packument');
      return doc;
    },
    async getAttestations(_name: string, version: string) {
      asked.push(`attestations ${version}`);
      if (failing.includes(version)) throw new Error('HTTP 500');
      return attestations[version] ?? null;
    },
  } as unknown as RegistryClient;
  return { client, asked };
}

const node = (version: string, integrity: string): PackageNode => ({ id: `sigstore@${version}`, name: 'sigstore', version, integrity, source: 'registry', registry: REGISTRY, aliases: [], paths: [`node_modules/sigstore`], dependents: ['.'] });
const policy = (json: object = {}) => parsePolicy(JSON.stringify(json), '/p/portcullis.json');

function gather(pkg: PackageNode, client: RegistryClient, json: object = {}, memo?: AuthenticatedMemo<ProvenanceFacts>, more: { supplied?: (pkg: PackageNode) => Packument | undefined; wantsFull?: (pkg: PackageNode) => boolean; wholeGraphFollows?: boolean } = {}) {
  return gatherProvenance([pkg], { policy: policy(json), client, trust: defaultTrust, integrityOf: (p) => p.integrity, skip: () => false, ...(memo ? { memo } : {}), ...more }, () => defaultTrust().id);
}

describe('release lines', () => {
  it('same major; below 1.0.0 the same minor', () => {
    expect(sameReleaseLine('1.2.0', '1.0.0')).toBe(true);
    expect(sameReleaseLine('2.0.0', '1.9.9')).toBe(false);
    expect(sameReleaseLine('0.4.1', '0.4.0')).toBe(true);
    expect(sameReleaseLine('0.5.0', '0.4.0')).toBe(false);
  });

  it('earlier claims: lower versions of the line whose entry claims attestations, newest first', () => {
    const doc = packument([entry('0.9.0', true), entry('1.0.0', true), entry('1.0.1', false), entry('1.1.0', true), entry('1.2.0', false), entry('2.0.0', true)]);
    expect(earlierClaims(doc, '1.2.0')).toEqual(['1.1.0', '1.0.0']);
    expect(earlierClaims(doc, '1.0.0')).toEqual([]);
  });

  it('earlier claims: another entry of the same version (build metadata only) counts, so 3.0.0+evil has 3.0.0 as its past', () => {
    const doc = packument([entry('3.0.0', true), entry('3.0.0+evil', false), entry('3.0.0+b2', true), entry('3.0.1-rc.1', true), entry('4.0.0', true)]);
    expect(earlierClaims(doc, '3.0.0+evil')).toEqual(['3.0.0', '3.0.0+b2']);
    expect(earlierClaims(doc, '3.0.0')).toEqual(['3.0.0+b2']);
    expect(earlierClaims(doc, '3.0.0+b2')).toEqual(['3.0.0']);
    expect(earlierClaims(packument([entry('3.0.0', true)]), '3.0.0')).toEqual([]);
  });

  it('earlier in the line, the version parsed once: the same answer as semver.valid, sameReleaseLine and semver.lt, for any versions', () => {
    const part = fc.constantFrom('0', '1', '2', '10', '01', 'x', '', '9007199254740991', '9007199254740993', '12345678901234567');
    const pre = fc.constantFrom('', '-0', '-1', '-alpha', '-alpha.1', '-beta', '-rc.1', '+build', '-beta+b.2', '-', '+');
    const lead = fc.constantFrom('', 'v', '=', ' ', 'v=');
    const version = fc.tuple(lead, part, part, part, pre).map(([l, a, b, c, p]) => `${l}${a}.${b}.${c}${p}`);
    const before = (candidate: string, v: string) => semver.valid(candidate) !== null && semver.valid(v) !== null && sameReleaseLine(candidate, v) && semver.lt(candidate, v);
    fc.assert(
      fc.property(fc.oneof(version, fc.string({ maxLength: 8 })), fc.oneof(version, fc.string({ maxLength: 8 })), (candidate, v) => {
        expect(earlierInLine(candidate, v)).toBe(before(candidate, v));
        expect(earlierInLineOf(v)(candidate)).toBe(before(candidate, v));
      }),
      { numRuns: 20_000 },
    );
  });

  it('may be earlier in the line: true for every version earlier in it, false without semver for another line or a higher main version', () => {
    const part = fc.constantFrom('0', '1', '2', '10', '01', 'x', '', '9007199254740991', '9007199254740993', '12345678901234567', '999999999999999', '1000000000000000');
    const pre = fc.constantFrom('', '-0', '-1', '-alpha', '-alpha.1', '-beta', '-rc.1', '+build', '-beta+b.2', '-', '+', '-dev.20240101', '-canary.0.1');
    const lead = fc.constantFrom('', '', '', 'v', '=', ' ');
    const version = fc.tuple(lead, part, part, part, pre).map(([l, a, b, c, p]) => `${l}${a}.${b}.${c}${p}`);
    fc.assert(
      fc.property(fc.oneof(version, fc.string({ maxLength: 8 })), fc.oneof(version, fc.string({ maxLength: 8 })), (candidate, v) => {
        if (earlierInLineOf(v)(candidate)) expect(mayBeEarlierInLineOf(v)(candidate)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
    const may = mayBeEarlierInLineOf('5.6.2');
    const semverParse = vi.spyOn(semver, 'parse');
    try {
      expect(['5.6.2-rc.1', '5.6.0-dev.20240101', '5.0.0-beta', '5.6.1'].map(may)).toEqual([true, true, true, true]);
      expect(['4.9.0-dev.1', '6.0.0-dev.1', '5.6.3-dev.1', '5.7.0-beta', '5.10.0'].map(may)).toEqual([false, false, false, false, false]);
      // Not one parsed by semver: their leading digits told.
      expect(semverParse).not.toHaveBeenCalled();
    } finally {
      semverParse.mockRestore();
    }
    expect(['0.4.0-rc.1', '0.5.0-rc.1', '1.0.0-rc.1'].map(mayBeEarlierInLineOf('0.4.1'))).toEqual([true, false, false]);
    // A prerelease installed: the same test by its main version.
    expect(['3.0.0-alpha.1', '3.0.1', '2.9.0'].map(mayBeEarlierInLineOf('3.0.0-beta.2'))).toEqual([true, false, false]);
  });

  it('earlier in the line: lower, same line, valid versions only', () => {
    expect(earlierInLine('1.1.0', '1.2.0')).toBe(true);
    expect(earlierInLine('1.2.0', '1.2.0')).toBe(false);
    expect(earlierInLine('1.3.0', '1.2.0')).toBe(false);
    expect(earlierInLine('0.9.0', '1.2.0')).toBe(false);
    expect(earlierInLine('0.4.0', '0.4.1')).toBe(true);
    expect(earlierInLine('0.3.9', '0.4.1')).toBe(false);
    expect(earlierInLine('not-a-version', '1.2.0')).toBe(false);
    expect(earlierInLine('1.0.0', 'not-a-version')).toBe(false);
  });
});

describe('gatherProvenance', () => {
  it('a version without provenance after a verified one on its line is a downgrade; the claim alone is never the evidence', async () => {
    const doc = packument([entry('1.0.0', true, real.integrity), entry('1.0.1', false)]);
    const { client, asked } = fakeClient(doc, { '1.0.0': real.document });
    const out = await gather(node('1.0.1', 'sha512-bm90LXJlYWw='), client);
    expect(out.downgrades.get('sigstore@1.0.1')).toEqual({ earlier: '1.0.0', repository: 'github.com/sigstore/sigstore-js', now: 'none' });
    // The second packument: the full document, for the publish times of the move found (round 46).
    expect(asked.sort()).toEqual(['attestations 1.0.0', 'attestations 1.0.1', 'packument', 'packument']);

    // The earlier claim does not verify (its bytes are not what the bundle names): no evidence, no downgrade.
    const forged = packument([entry('1.0.0', true, 'sha512-b3RoZXI='), entry('1.0.1', false)]);
    const second = await gather(node('1.0.1', 'sha512-bm90LXJlYWw='), fakeClient(forged, { '1.0.0': real.document }).client);
    expect(second.downgrades.size).toBe(0);
  });

  it('the same repository on the line is no downgrade; a line that never had provenance is not asked about', async () => {
    const doc = packument([entry('1.0.0', true, real.integrity)]);
    const same = await gather(node('1.0.0', real.integrity), fakeClient(doc, { '1.0.0': real.document }).client, { provenance: { require: ['sigstore'] } });
    expect(same.provenance.get('sigstore@1.0.0')).toMatchObject({ status: 'verified', identity: { repository: 'github.com/sigstore/sigstore-js' } });
    expect(same.downgrades.size).toBe(0);

    const clean = fakeClient(packument([entry('1.0.0', false), entry('1.1.0', false)]), {});
    const none = await gather(node('1.1.0', 'sha512-eA=='), clean.client);
    expect(none.downgrades.size + none.provenance.size + none.unavailable.size).toBe(0);
    expect(clean.asked).toEqual(['packument']);
  });

  it('reads the release line from a packument the package manager kept, instead of fetching one; the bundles are still verified', async () => {
    const kept = packument([entry('1.0.0', true, real.integrity)]);
    const { client, asked } = fakeClient(packument([entry('1.0.1', false)]), { '1.0.0': real.document });
    const seen: string[] = [];
    const supplied = (pkg: PackageNode) => (seen.push(pkg.id), kept);
    const out = await gather(node('1.0.1', 'sha512-bm90LXJlYWw='), client, {}, undefined, { supplied });
    expect(seen).toEqual(['sigstore@1.0.1']);
    expect(out.downgrades.get('sigstore@1.0.1')).toEqual({ earlier: '1.0.0', repository: 'github.com/sigstore/sigstore-js', now: 'none' });
    // The line read from the kept document; the full one fetched only for the publish times of the move found.
    expect(asked.sort()).toEqual(['attestations 1.0.0', 'attestations 1.0.1', 'packument']);

    // Nothing kept: the packument is fetched as before.
    const fetched = fakeClient(packument([entry('1.0.0', true, real.integrity), entry('1.0.1', false)]), { '1.0.0': real.document });
    const fallback = await gather(node('1.0.1', 'sha512-bm90LXJlYWw='), fetched.client, {}, undefined, { supplied: () => undefined });
    expect(fallback.downgrades.get('sigstore@1.0.1')?.earlier).toBe('1.0.0');
    expect(fetched.asked).toContain('packument');

    // The cooldown fetches the full document anyway: the line is read from that one, never from the kept one.
    const full = fakeClient(packument([entry('1.0.0', true, real.integrity), entry('1.0.1', false)]), { '1.0.0': real.document });
    const once = await gather(node('1.0.1', 'sha512-bm90LXJlYWw='), full.client, {}, undefined, { supplied: () => packument([]), wantsFull: () => true });
    expect(once.downgrades.get('sigstore@1.0.1')?.earlier).toBe('1.0.0');
    expect(full.asked).toContain('packument');
  });

  it('with the whole graph judged later, a line not kept yet waits for that judgement: nothing fetched, nothing learnt, the later one finds the downgrade', async () => {
    const memo = AuthenticatedMemo.open('provenance-v1', mkdtempSync(join(tmpdir(), 'portcullis-prov-')), '/p', Buffer.alloc(32, 7), isProvenanceFacts);
    const doc = packument([entry('1.0.0', true, real.integrity), entry('1.0.1', false)]);
    const early = fakeClient(doc, { '1.0.0': real.document });
    const deferred = await gather(node('1.0.1', 'sha512-bm90LXJlYWw='), early.client, {}, memo, { supplied: () => undefined, wholeGraphFollows: true });
    expect(early.asked).toEqual([]);
    expect(deferred.downgrades.size + deferred.provenance.size + deferred.unavailable.size).toBe(0);
    // Nothing was remembered for it: the whole judgement (pnpm's cache written by then) decides it in full.
    const whole = fakeClient(packument([entry('1.0.1', false)]), { '1.0.0': real.document });
    const later = await gather(node('1.0.1', 'sha512-bm90LXJlYWw='), whole.client, {}, memo, { supplied: () => doc });
    expect(later.downgrades.get('sigstore@1.0.1')?.earlier).toBe('1.0.0');
    expect(whole.asked.sort()).toEqual(['attestations 1.0.0', 'attestations 1.0.1', 'packument']);

    // A line that is kept already is read at once; a required provenance is still verified at once; the cooldown's
    // full document is fetched anyway, so the line is read from it at once.
    const kept = fakeClient(packument([]), { '1.0.0': real.document });
    const now = await gather(node('1.0.1', 'sha512-bm90LXJlYWw='), kept.client, {}, undefined, { supplied: () => doc, wholeGraphFollows: true });
    expect(now.downgrades.get('sigstore@1.0.1')?.earlier).toBe('1.0.0');
    const required = fakeClient(doc, { '1.0.0': real.document });
    const missing = await gather(node('1.0.1', 'sha512-bm90LXJlYWw='), required.client, { provenance: { require: ['sigstore'] } }, undefined, { supplied: () => undefined, wholeGraphFollows: true });
    expect(missing.provenance.get('sigstore@1.0.1')).toMatchObject({ status: 'missing' });
    expect(required.asked).toEqual(['attestations 1.0.1']);
    const full = fakeClient(doc, { '1.0.0': real.document });
    const cooled = await gather(node('1.0.1', 'sha512-bm90LXJlYWw='), full.client, {}, undefined, { supplied: () => undefined, wantsFull: () => true, wholeGraphFollows: true });
    expect(cooled.downgrades.get('sigstore@1.0.1')?.earlier).toBe('1.0.0');
    expect(full.asked).toContain('packument');
  });

  it('fails closed: attestations that cannot be fetched make the version undecidable', async () => {
    const doc = packument([entry('1.0.0', true, real.integrity), entry('1.0.1', false)]);
    const out = await gather(node('1.0.1', 'sha512-eA=='), fakeClient(doc, {}, ['1.0.0']).client);
    expect(out.unavailable.get('sigstore@1.0.1')).toMatch(/cannot check the provenance of the earlier sigstore@1.0.0: HTTP 500/);
    expect(out.downgrades.size).toBe(0);
  });

  it('remembers verified outcomes: the next decision asks the registry nothing', async () => {
    const memo = AuthenticatedMemo.open('provenance-v1', mkdtempSync(join(tmpdir(), 'portcullis-prov-')), '/p', Buffer.alloc(32, 7), isProvenanceFacts);
    const doc = packument([entry('1.0.0', true, real.integrity), entry('1.0.1', false)]);
    const first = fakeClient(doc, { '1.0.0': real.document });
    await gather(node('1.0.1', 'sha512-bm90LXJlYWw='), first.client, {}, memo);
    const again = fakeClient(doc, { '1.0.0': real.document });
    const out = await gather(node('1.0.1', 'sha512-bm90LXJlYWw='), again.client, {}, memo);
    expect(again.asked).toEqual([]);
    expect(out.downgrades.get('sigstore@1.0.1')?.earlier).toBe('1.0.0');
    // Another integrity is another question.
    const other = fakeClient(doc, { '1.0.0': real.document });
    await gather(node('1.0.1', 'sha512-b3RoZXI='), other.client, {}, memo);
    expect(other.asked.length).toBeGreaterThan(0);
  });

  it('remembers who published a package: the same repository name with another repository id is a re-registration', async () => {
    const pw = attestationVector('@playwright/cli', '0.1.1');
    const memo = AuthenticatedMemo.open('provenance-v1', mkdtempSync(join(tmpdir(), 'portcullis-prov-')), '/p', Buffer.alloc(32, 9), isProvenanceFacts);
    const doc: Packument = { kind: 'abbreviated', name: '@playwright/cli', versions: new Map([['0.1.1', { name: '@playwright/cli', version: '0.1.1', dist: { integrity: pw.integrity, signatures: [], attestations: {} } }]]), invalidVersions: new Map(), time: new Map() };
    const pkg: PackageNode = { id: '@playwright/cli@0.1.1', name: '@playwright/cli', version: '0.1.1', integrity: pw.integrity, source: 'registry', registry: REGISTRY, aliases: [], paths: [], dependents: [] };
    const run = () =>
      gatherProvenance([pkg], { policy: policy({ provenance: { require: ['@playwright/cli'] } }), client: fakeClient(doc, { '0.1.1': pw.document }).client, trust: defaultTrust, integrityOf: (p) => p.integrity, skip: () => false, memo }, () => defaultTrust().id);
    // First sight: remembered, nothing to compare.
    expect((await run()).publisherChanges.size).toBe(0);
    expect((await run()).publisherChanges.size).toBe(0);
    // An earlier install saw the repository under another id.
    memo.set(JSON.stringify(['publisher', REGISTRY, '@playwright/cli']), { pub: { repository: 'github.com/microsoft/playwright-cli', repositoryId: '1', ownerId: '6154722' } });
    expect((await run()).publisherChanges.get('@playwright/cli@0.1.1')).toEqual({ repository: 'github.com/microsoft/playwright-cli', repositoryId: '1', ownerId: '6154722' });
  });
});
