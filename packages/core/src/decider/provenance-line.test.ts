import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { AuthenticatedMemo } from '../cache/authenticated-memo.js';
import type { PackageNode } from '../model.js';
import { parsePolicy } from '../policy/load.js';
import type { Packument, PackumentVersion } from '../registry/packument.js';
import type { RegistryClient } from '../registry/client.js';
import type { SigstoreTrust } from '../provenance/trusted-root.js';
import { gatherProvenance, isProvenanceFacts, type ProvenanceFacts } from './provenance.js';

// Who built each version, as the verifier would say it (the cryptography is tested in provenance/): a test of the rule alone.
const builtBy: Record<string, string | null> = {};
// Immutable repository ids of the repositories above (none: the certificate carries none).
const repositoryIds: Record<string, string> = {};
// What a version's bundles claim when that differs from what verifies (a forged claim: verification says invalid), or
// null when the claim cannot be read; the versions verified, in order.
const claimedBy: Record<string, string | null> = {};
const verified: string[] = [];
// Versions whose bundles name a log or certificate authority the trusted root does not list (root-stale).
const stale = new Set<string>();
// A version's own repository id, when it differs from its repository's above (a repository re-created under its name).
const versionIds: Record<string, string> = {};
const identityOf = (repository: string, version = '') => {
  const repositoryId = versionIds[version] ?? repositoryIds[repository];
  return { issuer: 'i', repository, repositoryUri: `https://${repository}`, workflow: '.github/workflows/release.yml', ...(repositoryId ? { repositoryId } : {}) };
};
vi.mock('../provenance/verify.js', () => ({
  verifyProvenance: ({ version }: { version: string }) => {
    verified.push(version);
    if (stale.has(version)) return { status: 'root-stale', reason: 'stale' };
    const repository = builtBy[version];
    if (repository != null && typeof claimedBy[version] === 'string' && claimedBy[version] !== repository) return { status: 'invalid', reason: 'forged' };
    return repository == null ? { status: 'missing' } : { status: 'verified', identity: identityOf(repository, version) };
  },
  claimedBuilders: (document: { version?: string } | null) => {
    const version = document?.version;
    if (version === undefined) return undefined;
    const claim = version in claimedBy ? claimedBy[version] : builtBy[version];
    return claim == null ? undefined : [identityOf(claim, version)];
  },
}));

const REGISTRY = 'https://registry.example/';
const entry = (version: string): PackumentVersion => ({ name: 'widget', version, dist: { integrity: `sha512-${version}`, signatures: [], ...(builtBy[version] ? { attestations: { provenance: 'x' } } : {}) } });
// Publish times (the full document's `time`); a version not listed here has none.
const publishedAt: Record<string, string> = {};
const asked: string[] = [];
const doc = (full = false): Packument => ({ kind: full ? 'full' : 'abbreviated', name: 'widget', versions: new Map(Object.keys(builtBy).map((v) => [v, entry(v)])), invalidVersions: new Map(), time: full ? new Map(Object.entries(publishedAt)) : new Map() });
// Attestation fetches: how many at once at most, and how long each takes (0: at once).
const fetches = { inFlight: 0, most: 0, delayMs: 0 };
const getAttestations = async (_name: string, version: string) => {
  fetches.most = Math.max(fetches.most, ++fetches.inFlight);
  if (fetches.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fetches.delayMs));
  fetches.inFlight--;
  return { version };
};
const client = { getPackument: async (_name: string, options: { full?: boolean }) => (asked.push(options.full ? 'full' : 'abbreviated'), doc(options.full)), getAttestations } as unknown as RegistryClient;
const node = (version: string): PackageNode => ({ id: `widget@${version}`, name: 'widget', version, integrity: `sha512-${version}`, source: 'registry', registry: REGISTRY, aliases: [], paths: [], dependents: ['.'] });
const gather = (version: string, memo?: AuthenticatedMemo<ProvenanceFacts>) =>
  gatherProvenance([node(version)], { policy: parsePolicy('{}', '/p/portcullis.json'), client, trust: () => ({}) as SigstoreTrust, integrityOf: (p) => p.integrity, skip: () => false, ...(memo ? { memo } : {}) }, () => 'root');

describe('provenance downgrade: the line’s history, not its newest release', () => {
  it('a second release from another repository is still a downgrade of the line the first repository built', async () => {
    Object.assign(builtBy, { '1.0.0': 'github.com/acme/widget', '1.1.0': 'github.com/acme/widget', '1.3.0': 'github.com/evil/widget', '1.3.1': 'github.com/evil/widget' });
    expect((await gather('1.3.0')).downgrades.get('widget@1.3.0')).toEqual({ earlier: '1.1.0', repository: 'github.com/acme/widget', now: { repository: 'github.com/evil/widget' } });
    expect((await gather('1.3.1')).downgrades.get('widget@1.3.1')).toEqual({ earlier: '1.1.0', repository: 'github.com/acme/widget', now: { repository: 'github.com/evil/widget' } });
    // However many: the attacker's releases never become the line's baseline.
    for (let i = 2; i < 12; i++) builtBy[`1.3.${i}`] = 'github.com/evil/widget';
    expect((await gather('1.3.11')).downgrades.get('widget@1.3.11')?.repository).toBe('github.com/acme/widget');
    // Every verified earlier release counts: one from the first repository after the attacker's is told apart too
    // (until the attacker's are taken down, or allowDowngrade names it); a line of one repository alone is none.
    builtBy['1.4.0'] = 'github.com/acme/widget';
    expect((await gather('1.4.0')).downgrades.get('widget@1.4.0')).toEqual({ earlier: '1.3.11', repository: 'github.com/evil/widget', now: { repository: 'github.com/acme/widget' } });
    builtBy['2.0.0'] = 'github.com/evil/widget';
    expect((await gather('2.0.0')).downgrades.size).toBe(0);
  });

  it('a repository renamed or transferred (same immutable id) is the same repository; another id is not', async () => {
    for (const key of Object.keys(builtBy)) delete builtBy[key];
    Object.assign(builtBy, { '3.0.0': 'github.com/acme/widget', '3.1.0': 'github.com/acme-org/widget', '3.2.0': 'github.com/acme-org/widget' });
    Object.assign(repositoryIds, { 'github.com/acme/widget': '123', 'github.com/acme-org/widget': '123' });
    expect((await gather('3.2.0')).downgrades.size).toBe(0);
    repositoryIds['github.com/acme-org/widget'] = '999';
    expect((await gather('3.2.0')).downgrades.get('widget@3.2.0')).toEqual({ earlier: '3.0.0', repository: 'github.com/acme/widget', now: { repository: 'github.com/acme-org/widget' } });
    // The same name with another id: a repository deleted and re-created (by whoever holds the name now) is another.
    repositoryIds['github.com/acme-org/widget'] = '123';
    Object.assign(builtBy, { '3.3.0': 'github.com/acme-org/widget' });
    expect((await gather('3.3.0')).downgrades.size).toBe(0);
    versionIds['3.3.0'] = '666';
    expect((await gather('3.3.0')).downgrades.get('widget@3.3.0')).toEqual({ earlier: '3.2.0', repository: 'github.com/acme-org/widget', now: { repository: 'github.com/acme-org/widget' } });
    delete versionIds['3.3.0'];
    delete builtBy['3.3.0'];
    // Without ids (an older certificate): by name alone, as before.
    for (const key of Object.keys(repositoryIds)) delete repositoryIds[key];
    expect((await gather('3.2.0')).downgrades.get('widget@3.2.0')?.earlier).toBe('3.0.0');
  });

  it('a "no downgrade" remembered when only the newest earlier release was compared is not replayed', async () => {
    for (const key of Object.keys(builtBy)) delete builtBy[key];
    Object.assign(builtBy, { '1.0.0': 'github.com/acme/widget', '1.1.0': 'github.com/acme/widget', '1.3.0': 'github.com/evil/widget', '1.3.1': 'github.com/evil/widget' });
    const memo = AuthenticatedMemo.open('provenance-v1', mkdtempSync(join(tmpdir(), 'portcullis-line-')), '/p', Buffer.alloc(32, 3), isProvenanceFacts);
    const identity = { issuer: 'i', repository: 'github.com/evil/widget', repositoryUri: 'https://github.com/evil/widget', workflow: '.github/workflows/release.yml' };
    memo.set(JSON.stringify(['root', REGISTRY, 'widget', '1.3.1', 'sha512-1.3.1']), { p: { status: 'verified', identity }, d: null });
    expect((await gather('1.3.1', memo)).downgrades.get('widget@1.3.1')?.repository).toBe('github.com/acme/widget');
    // What is learnt now is remembered, and replayed.
    expect((await gather('1.3.1', memo)).downgrades.get('widget@1.3.1')?.repository).toBe('github.com/acme/widget');
  });

  it('a release below every provenanced one of its line, published after them, is a downgrade (by publish time)', async () => {
    for (const key of Object.keys(builtBy)) delete builtBy[key];
    Object.assign(builtBy, { '1.0.0': 'github.com/acme/widget', '1.1.0': 'github.com/acme/widget', '1.0.0-evil.0': null, '0.9.0': null, '0.9.1': null });
    Object.assign(publishedAt, { '1.0.0': '2026-01-01T00:00:00Z', '1.1.0': '2026-02-01T00:00:00Z', '1.0.0-evil.0': '2026-12-01T00:00:00Z' });
    asked.length = 0;
    expect((await gather('1.0.0-evil.0')).downgrades.get('widget@1.0.0-evil.0')).toEqual({ earlier: '1.1.0', repository: 'github.com/acme/widget', now: 'none' });
    expect(asked).toEqual(['abbreviated', 'full']);
    // Built by another repository: the same.
    builtBy['1.0.0-evil.0'] = 'github.com/evil/widget';
    expect((await gather('1.0.0-evil.0')).downgrades.get('widget@1.0.0-evil.0')?.now).toEqual({ repository: 'github.com/evil/widget' });
    // Published before provenance began (an old pin): no downgrade. No publish time: undecidable, never allowed.
    publishedAt['1.0.0-evil.0'] = '2025-12-01T00:00:00Z';
    builtBy['1.0.0-evil.0'] = null;
    expect((await gather('1.0.0-evil.0')).downgrades.size).toBe(0);
    delete publishedAt['1.0.0-evil.0'];
    expect((await gather('1.0.0-evil.0')).unavailable.get('widget@1.0.0-evil.0')).toMatch(/no readable publish time/);
    // Another line that never had provenance: nothing more is fetched.
    asked.length = 0;
    expect((await gather('0.9.1')).downgrades.size).toBe(0);
    expect(asked).toEqual(['abbreviated']);
  });

  it('verifies only the earlier releases whose bundles claim another repository (~14 ms a bundle; a line may hold hundreds)', async () => {
    for (const record of [builtBy, claimedBy, repositoryIds, publishedAt]) for (const key of Object.keys(record)) delete record[key];
    for (let i = 0; i < 40; i++) builtBy[`5.${i}.0`] = 'github.com/acme/widget';
    verified.length = 0;
    expect((await gather('5.39.0')).downgrades.size).toBe(0);
    expect(verified).toEqual(['5.39.0']);
    // One earlier release claims another repository: verified, and it is the move.
    builtBy['5.7.0'] = 'github.com/evil/widget';
    verified.length = 0;
    expect((await gather('5.39.0')).downgrades.get('widget@5.39.0')).toEqual({ earlier: '5.7.0', repository: 'github.com/evil/widget', now: { repository: 'github.com/acme/widget' } });
    expect(verified.sort()).toEqual(['5.39.0', '5.7.0']);
    // Its claim does not verify (forged): no evidence of a move; a claim that cannot be read is verified in full.
    claimedBy['5.7.0'] = 'github.com/other/widget';
    expect((await gather('5.39.0')).downgrades.size).toBe(0);
    builtBy['5.7.0'] = 'github.com/acme/widget';
    delete claimedBy['5.7.0'];
    claimedBy['5.8.0'] = null;
    builtBy['5.8.0'] = 'github.com/evil/widget';
    verified.length = 0;
    expect((await gather('5.39.0')).downgrades.get('widget@5.39.0')?.earlier).toBe('5.8.0');
    expect(verified.sort()).toEqual(['5.39.0', '5.8.0']);
  });

  it('a second attacker-built release below the line’s provenanced ones is judged by publish time too (eleventh wave)', async () => {
    for (const record of [builtBy, claimedBy, repositoryIds, publishedAt]) for (const key of Object.keys(record)) delete record[key];
    Object.assign(builtBy, { '1.0.0': 'github.com/acme/widget', '1.1.0': 'github.com/acme/widget', '1.0.0-evil.0': 'github.com/evil/widget', '1.0.0-evil.1': 'github.com/evil/widget' });
    Object.assign(publishedAt, { '1.0.0': '2026-01-01T00:00:00Z', '1.1.0': '2026-02-01T00:00:00Z', '1.0.0-evil.0': '2026-12-01T00:00:00Z', '1.0.0-evil.1': '2026-12-02T00:00:00Z' });
    // Its only earlier release by semver is the attacker's first: the line's past by time holds acme's.
    expect((await gather('1.0.0-evil.1')).downgrades.get('widget@1.0.0-evil.1')).toEqual({ earlier: '1.1.0', repository: 'github.com/acme/widget', now: { repository: 'github.com/evil/widget' } });
    // No publish time for it: undecidable, never allowed.
    delete publishedAt['1.0.0-evil.1'];
    expect((await gather('1.0.0-evil.1')).unavailable.get('widget@1.0.0-evil.1')).toMatch(/no readable publish time/);
    // A later release by another repository published after it is not its past: acme's 1.0.5 before evil's 1.3.0.
    for (const record of [builtBy, publishedAt]) for (const key of Object.keys(record)) delete record[key];
    Object.assign(builtBy, { '1.0.0': 'github.com/acme/widget', '1.0.5': 'github.com/acme/widget', '1.3.0': 'github.com/evil/widget' });
    Object.assign(publishedAt, { '1.0.0': '2026-01-01T00:00:00Z', '1.0.5': '2026-02-01T00:00:00Z', '1.3.0': '2026-12-01T00:00:00Z' });
    asked.length = 0;
    expect((await gather('1.0.5')).downgrades.size).toBe(0);
    expect(asked).toEqual(['abbreviated', 'full']);
    // A line of one repository: its later releases' claims are read, no full document is fetched.
    builtBy['1.3.0'] = 'github.com/acme/widget';
    asked.length = 0;
    expect((await gather('1.0.5')).downgrades.size).toBe(0);
    expect(asked).toEqual(['abbreviated']);
  });
  it('past 256 releases by the attacker, the line’s first published ones are still compared (twelfth round)', async () => {
    for (const record of [builtBy, claimedBy, repositoryIds, publishedAt]) for (const key of Object.keys(record)) delete record[key];
    const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 3_600_000).toISOString();
    Object.assign(builtBy, { '1.0.0': 'github.com/acme/widget' });
    publishedAt['1.0.0'] = day(0);
    // 300 releases above it and 20 prereleases below it, all by the attacker, all published after it.
    for (let i = 1; i <= 300; i++) (builtBy[`1.0.${i}`] = 'github.com/evil/widget'), (publishedAt[`1.0.${i}`] = day(100 + i));
    for (let i = 1; i <= 20; i++) (builtBy[`1.0.0-a.${i}`] = 'github.com/evil/widget'), (publishedAt[`1.0.0-a.${i}`] = day(10 + i));
    asked.length = 0;
    expect((await gather('1.0.300')).downgrades.get('widget@1.0.300')).toEqual({ earlier: '1.0.0', repository: 'github.com/acme/widget', now: { repository: 'github.com/evil/widget' } });
    expect(asked).toEqual(['abbreviated', 'full']);
    // A line of one repository past 256: no move.
    for (const version of Object.keys(builtBy)) builtBy[version] = 'github.com/acme/widget';
    expect((await gather('1.0.300')).downgrades.size).toBe(0);
    // Without publish times the line's first releases cannot be told: undecidable, never allowed.
    for (const key of Object.keys(publishedAt)) delete publishedAt[key];
    expect((await gather('1.0.300')).unavailable.get('widget@1.0.300')).toMatch(/no readable publish time/);
    // Up to 256 claims: no full document.
    for (const key of Object.keys(builtBy)) if (key.startsWith('1.0.0-a.') || Number(key.split('.')[2]) > 250) delete builtBy[key];
    asked.length = 0;
    expect((await gather('1.0.250')).downgrades.size).toBe(0);
    expect(asked).toEqual(['abbreviated']);
  });
  it('a version without provenance is compared with the newest earlier claim that verifies, however many do not (twelfth round)', async () => {
    for (const record of [builtBy, claimedBy, repositoryIds, publishedAt]) for (const key of Object.keys(record)) delete record[key];
    Object.assign(builtBy, { '1.0.0': 'github.com/acme/widget', '1.0.6': null });
    // Five claims above acme's release that do not verify (their bundles claim what they were not built by).
    for (let i = 1; i <= 5; i++) (builtBy[`1.0.${i}`] = 'github.com/evil/widget'), (claimedBy[`1.0.${i}`] = 'github.com/acme/widget');
    expect((await gather('1.0.6')).downgrades.get('widget@1.0.6')).toEqual({ earlier: '1.0.0', repository: 'github.com/acme/widget', now: 'none' });
    // Its own bundle invalid: the same.
    Object.assign(builtBy, { '1.0.6': 'github.com/evil/widget' });
    claimedBy['1.0.6'] = 'github.com/acme/widget';
    expect((await gather('1.0.6')).downgrades.get('widget@1.0.6')).toEqual({ earlier: '1.0.0', repository: 'github.com/acme/widget', now: 'invalid' });
    // Its own bundle and the five newer ones unverifiable with this trusted root: still compared with acme's 1.0.0.
    for (let i = 1; i <= 6; i++) stale.add(`1.0.${i}`);
    expect((await gather('1.0.6')).downgrades.get('widget@1.0.6')).toEqual({ earlier: '1.0.0', repository: 'github.com/acme/widget', now: 'unverifiable' });
    stale.clear();
  });

  it('claims tried one at a time have their attestations fetched ahead: hundreds that do not verify are not one round trip after another (thirteenth wave)', async () => {
    for (const record of [builtBy, claimedBy, repositoryIds, publishedAt]) for (const key of Object.keys(record)) delete record[key];
    Object.assign(builtBy, { '1.0.0': 'github.com/acme/widget', '1.0.201': null });
    for (let i = 1; i <= 200; i++) (builtBy[`1.0.${i}`] = 'github.com/evil/widget'), (claimedBy[`1.0.${i}`] = 'github.com/acme/widget');
    Object.assign(fetches, { inFlight: 0, most: 0, delayMs: 5 });
    const started = Date.now();
    expect((await gather('1.0.201')).downgrades.get('widget@1.0.201')?.earlier).toBe('1.0.0');
    // 201 fetches of 5 ms one after another would take over a second.
    expect(fetches.most).toBeGreaterThan(1);
    expect(Date.now() - started).toBeLessThan(1000);
    fetches.delayMs = 0;
  });

  it('a prerelease without provenance whose only earlier claims do not verify is judged by publish time (thirteenth wave L3)', async () => {
    for (const record of [builtBy, claimedBy, repositoryIds, publishedAt]) for (const key of Object.keys(record)) delete record[key];
    // acme's 1.0.0 and 1.1.0; then, below them by semver and published after them, the attacker's 1.0.0-a (a claim
    // that does not verify) and 1.0.0-b without provenance.
    Object.assign(builtBy, { '1.0.0': 'github.com/acme/widget', '1.1.0': 'github.com/acme/widget', '1.0.0-a': 'github.com/evil/widget', '1.0.0-b': null });
    claimedBy['1.0.0-a'] = 'github.com/acme/widget';
    Object.assign(publishedAt, { '1.0.0': '2026-01-01T00:00:00Z', '1.1.0': '2026-02-01T00:00:00Z', '1.0.0-a': '2026-12-01T00:00:00Z', '1.0.0-b': '2026-12-02T00:00:00Z' });
    expect((await gather('1.0.0-b')).downgrades.get('widget@1.0.0-b')).toEqual({ earlier: '1.1.0', repository: 'github.com/acme/widget', now: 'none' });
    // Its own claim invalid, or unverifiable with this root: the same.
    Object.assign(builtBy, { '1.0.0-b': 'github.com/evil/widget' });
    claimedBy['1.0.0-b'] = 'github.com/acme/widget';
    expect((await gather('1.0.0-b')).downgrades.get('widget@1.0.0-b')?.now).toBe('invalid');
    stale.add('1.0.0-b');
    expect((await gather('1.0.0-b')).downgrades.get('widget@1.0.0-b')?.now).toBe('unverifiable');
    stale.clear();
    // Published before acme's provenance began (an old prerelease): its past holds no verified claim, no downgrade; no
    // publish time: undecidable.
    Object.assign(builtBy, { '1.0.0-b': null });
    Object.assign(publishedAt, { '1.0.0-a': '2025-11-01T00:00:00Z', '1.0.0-b': '2025-12-01T00:00:00Z' });
    expect((await gather('1.0.0-b')).downgrades.size).toBe(0);
    delete publishedAt['1.0.0-b'];
    expect((await gather('1.0.0-b')).unavailable.get('widget@1.0.0-b')).toMatch(/no readable publish time/);
  });

  it('of two entries of one version (build metadata only), the one published first is the line’s (fourteenth wave)', async () => {
    for (const record of [builtBy, claimedBy, repositoryIds, publishedAt]) for (const key of Object.keys(record)) delete record[key];
    // acme's 3.0.0, then the attacker's 3.0.0+evil from their own repository.
    Object.assign(builtBy, { '3.0.0': 'github.com/acme/widget', '3.0.0+evil': 'github.com/evil/widget' });
    Object.assign(publishedAt, { '3.0.0': '2026-12-01T00:00:00Z', '3.0.0+evil': '2026-12-02T00:00:00Z' });
    asked.length = 0;
    const legit = await gather('3.0.0');
    expect(legit.downgrades.size).toBe(0);
    expect(legit.unavailable.size).toBe(0);
    expect(asked).toEqual(['abbreviated', 'full']);
    expect((await gather('3.0.0+evil')).downgrades.get('widget@3.0.0+evil')).toEqual({ earlier: '3.0.0', repository: 'github.com/acme/widget', now: { repository: 'github.com/evil/widget' } });
    // Without provenance, the same: its twin published first is its past; the later one is not 3.0.0's.
    builtBy['3.0.0+evil'] = null;
    expect((await gather('3.0.0+evil')).downgrades.get('widget@3.0.0+evil')).toEqual({ earlier: '3.0.0', repository: 'github.com/acme/widget', now: 'none' });
    builtBy['3.0.0+evil'] = 'github.com/evil/widget';
    builtBy['3.0.0'] = null;
    expect((await gather('3.0.0')).downgrades.size).toBe(0);
    builtBy['3.0.0'] = 'github.com/acme/widget';
    // Published the other way round (the twin first): it is 3.0.0's past.
    Object.assign(publishedAt, { '3.0.0+evil': '2026-11-01T00:00:00Z' });
    expect((await gather('3.0.0')).downgrades.get('widget@3.0.0')?.earlier).toBe('3.0.0+evil');
    // The twin or the version itself without a publish time: which came first cannot be told, undecidable (never
    // allowed, and the twin, maybe the attacker's, is not named as the release to pin).
    delete publishedAt['3.0.0+evil'];
    expect((await gather('3.0.0')).unavailable.get('widget@3.0.0')).toMatch(/no readable publish time for widget@3\.0\.0\+evil, and widget@3\.0\.0 and widget@3\.0\.0\+evil are entries of the same version/);
    expect((await gather('3.0.0+evil')).unavailable.get('widget@3.0.0+evil')).toMatch(/no readable publish time for widget@3\.0\.0\+evil/);
    publishedAt['3.0.0+evil'] = '2026-12-02T00:00:00Z';
    delete publishedAt['3.0.0'];
    expect((await gather('3.0.0')).unavailable.get('widget@3.0.0')).toMatch(/no readable publish time for widget@3\.0\.0, and widget@3\.0\.0 and widget@3\.0\.0\+evil are entries/);
    // An earlier release by semver published after it is not its past either (round 46): the attacker's 3.0.0-rc.1,
    // published after acme's 3.0.0, does not make 3.0.0 a downgrade; one published before it does.
    Object.assign(builtBy, { '3.0.0-rc.1': 'github.com/evil/widget' });
    Object.assign(publishedAt, { '3.0.0': '2026-12-01T00:00:00Z', '3.0.0-rc.1': '2026-12-03T00:00:00Z' });
    expect((await gather('3.0.0')).downgrades.size).toBe(0);
    publishedAt['3.0.0-rc.1'] = '2026-11-30T00:00:00Z';
    expect((await gather('3.0.0')).downgrades.get('widget@3.0.0')?.earlier).toBe('3.0.0-rc.1');
    delete builtBy['3.0.0-rc.1'];
    // A line without a twin fetches no full document for twins; only for the publish times of a move it finds
    // (3.1.0 has none here: the move stands).
    asked.length = 0;
    Object.assign(builtBy, { '3.1.0': 'github.com/acme/widget' });
    expect((await gather('3.1.0')).downgrades.get('widget@3.1.0')?.earlier).toBe('3.0.0+evil');
    expect(asked).toEqual(['abbreviated', 'full']);
    builtBy['3.1.1'] = 'github.com/acme/widget';
    asked.length = 0;
    delete builtBy['3.0.0+evil'];
    expect((await gather('3.1.1')).downgrades.size).toBe(0);
    expect(asked).toEqual(['abbreviated']);
  });
  it('a release published after this one is not its past: an attacker’s lower release does not make the line’s releases downgrades (round 46)', async () => {
    for (const record of [builtBy, claimedBy, repositoryIds, publishedAt]) for (const key of Object.keys(record)) delete record[key];
    Object.assign(builtBy, { '3.0.0': 'github.com/acme/widget', '3.1.0': 'github.com/acme/widget', '3.0.1': 'github.com/evil/widget' });
    Object.assign(publishedAt, { '3.0.0': '2026-01-01T00:00:00Z', '3.1.0': '2026-02-01T00:00:00Z', '3.0.1': '2026-12-01T00:00:00Z' });
    expect((await gather('3.1.0')).downgrades.size).toBe(0);
    // The attacker's own release is still refused: acme's 3.0.0 was published before it.
    expect((await gather('3.0.1')).downgrades.get('widget@3.0.1')).toEqual({ earlier: '3.0.0', repository: 'github.com/acme/widget', now: { repository: 'github.com/evil/widget' } });
    // Without publish times it stays in the past (a refusal, as before).
    delete publishedAt['3.0.1'];
    expect((await gather('3.1.0')).downgrades.get('widget@3.1.0')?.earlier).toBe('3.0.1');
    // A release without provenance published before provenance began, and a lower one with provenance published later.
    for (const record of [builtBy, publishedAt]) for (const key of Object.keys(record)) delete record[key];
    Object.assign(builtBy, { '1.5.0': null, '1.4.9': 'github.com/evil/widget' });
    Object.assign(publishedAt, { '1.5.0': '2024-01-01T00:00:00Z', '1.4.9': '2026-12-01T00:00:00Z' });
    expect((await gather('1.5.0')).downgrades.size).toBe(0);
  });
});
