/**
 * Policy inheritance, over generated organisation and repository policies: a merged policy is never more permissive
 * than the organisation's except where the organisation delegates, and a repository that only tightens (or adds
 * what is delegated) is never refused.
 */
import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import { inheritPolicy } from './inherit.js';
import { parsePolicy } from './load.js';
import type { DelegableKey, PackageSpec, Policy } from './types.js';

const ORG = '@acme/portcullis-policy@1.0.0/portcullis.json';
const REPO = '/repo/portcullis.json';
const REGISTRY = 'http://127.0.0.1:4873/';
const OTHER_REGISTRY = 'http://127.0.0.1:4874/';
const KEY = { keyid: `SHA256:${'A'.repeat(43)}`, keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: 'QUJD', expires: null };
const OTHER_KEY = { ...KEY, keyid: `SHA256:${'B'.repeat(43)}` };

const names = ['esbuild', 'sharp', '@acme/a', '@acme/b', 'left-pad'];
const spec = fc.oneof(
  fc.constantFrom(...names),
  fc.tuple(fc.constantFrom(...names), fc.constantFrom('^1', '^1.2.0', '1.2.3', '>=2')).map(([n, r]) => `${n}@${r}`),
  fc.constant('@acme/*'),
);
const specs = fc.uniqueArray(spec, { maxLength: 4 });
const age = fc.constantFrom('1h', '1d', '3d', '7d');
const until = fc.constantFrom('2026-12-01T00:00:00.000Z', '2026-12-09T00:00:00.000Z');
const pin = fc.record({ repository: fc.constantFrom('github.com/acme/a', 'github.com/evil/a'), workflow: fc.constant('.github/workflows/publish.yml') });
const registries = fc.option(fc.dictionary(fc.constantFrom(REGISTRY, OTHER_REGISTRY), fc.constantFrom<unknown>({ keys: 'npm' }, { keys: [KEY] }, { keys: [OTHER_KEY] }), { maxKeys: 2 }), { nil: undefined });

/** The sections both kinds of policy may write. */
const sections = {
  scripts: fc.option(fc.record({ allow: specs }), { nil: undefined }),
  signatures: fc.option(fc.record({ require: fc.constantFrom('registry', 'off'), allowUnsigned: specs }, { requiredKeys: [] }), { nil: undefined }),
  provenance: fc.option(
    fc.record({ require: specs, noDowngrade: fc.boolean(), allowDowngrade: specs, publishers: fc.dictionary(fc.constantFrom('@acme/a', 'esbuild', '@acme/*'), pin, { maxKeys: 2 }) }, { requiredKeys: [] }),
    { nil: undefined },
  ),
  cooldown: fc.option(fc.record({ minimumReleaseAge: age, exclude: specs, exceptions: fc.dictionary(fc.constantFrom('esbuild@1.2.3', '@acme/a@1.0.0', 'sharp'), until, { maxKeys: 2 }) }, { requiredKeys: [] }), { nil: undefined }),
  advisories: fc.option(fc.record({ osv: fc.uniqueArray(fc.constantFrom('./osv/a', './osv/b'), { maxLength: 2 }) }), { nil: undefined }),
  registries,
};
const delegation = (key: DelegableKey) =>
  key === 'provenance.trustedRoot' ? fc.constant(true) : key === 'registries' ? fc.oneof(fc.constant(true), fc.constant([REGISTRY])) : fc.oneof(fc.constant(true), specs);
const delegate = fc.option(
  fc.record(
    {
      'scripts.allow': delegation('scripts.allow'),
      'signatures.allowUnsigned': delegation('signatures.allowUnsigned'),
      'provenance.allowDowngrade': delegation('provenance.allowDowngrade'),
      'provenance.trustedRoot': delegation('provenance.trustedRoot'),
      'cooldown.exclude': delegation('cooldown.exclude'),
      'cooldown.exceptions': delegation('cooldown.exceptions'),
      registries: delegation('registries'),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);
const orgDoc = fc.record({ ...sections, delegate }, { requiredKeys: [] });
const repoDoc = fc.record({ ...sections, provenanceRoot: fc.option(fc.constant('./root.json'), { nil: undefined }) }, { requiredKeys: [] });

function parse(doc: Record<string, unknown>, file: string, role: 'project' | 'organisation'): Policy {
  const { provenanceRoot, ...rest } = doc as { provenanceRoot?: string };
  const json = JSON.parse(JSON.stringify(rest)) as Record<string, Record<string, unknown> | undefined>;
  if (provenanceRoot !== undefined) json.provenance = { ...json.provenance, trustedRoot: provenanceRoot };
  return parsePolicy(JSON.stringify(json), file, { role, baseDir: '/repo' });
}

// The oracle: written from the rules in docs/organisation.md, not from inherit.ts.
function within(entry: PackageSpec, allowed: PackageSpec): boolean {
  if (entry.raw === allowed.raw) return true;
  if (allowed.scope !== undefined) return entry.name.startsWith(`${allowed.scope}/`);
  if (entry.name !== allowed.name) return false;
  return allowed.range === null || (entry.range !== null && semver.subset(entry.range, allowed.range));
}
function permitted(org: Policy, key: DelegableKey, list: (p: Policy) => readonly PackageSpec[], entry: PackageSpec): boolean {
  const d = org.delegate[key];
  return list(org).some((o) => within(entry, o)) || d === true || (Array.isArray(d) && (d as PackageSpec[]).some((a) => within(entry, a)));
}
const ALLOWANCES: Array<[DelegableKey, (p: Policy) => readonly PackageSpec[]]> = [
  ['scripts.allow', (p) => p.scripts.allow],
  ['signatures.allowUnsigned', (p) => p.signatures.allowUnsigned],
  ['provenance.allowDowngrade', (p) => p.provenance.allowDowngrade],
  ['cooldown.exclude', (p) => p.cooldown.exclude],
  ['cooldown.exceptions', (p) => p.cooldown.exceptions.map((e) => e.spec)],
];

function neverLooserThan(org: Policy, repo: Policy, merged: Policy): void {
  if (org.signatures.require === 'registry') expect(merged.signatures.require).toBe('registry');
  if (org.provenance.noDowngrade) expect(merged.provenance.noDowngrade).toBe(true);
  if (org.cooldown.minimumReleaseAge !== null) expect(merged.cooldown.minimumReleaseAge?.ms).toBeGreaterThanOrEqual(org.cooldown.minimumReleaseAge.ms);
  for (const s of [...org.provenance.require, ...repo.provenance.require]) expect(merged.provenance.require.map((m) => m.raw)).toContain(s.raw);
  for (const p of org.provenance.publishers) expect(merged.provenance.publishers).toContainEqual(p);
  for (const path of org.advisories.osv) expect(merged.advisories.osv).toContain(path);
  for (const [key, list] of ALLOWANCES) for (const entry of list(merged)) expect(permitted(org, key, list, entry), `${key}: ${entry.raw}`).toBe(true);
  for (const [url, trust] of Object.entries(merged.registries)) {
    const d = org.delegate.registries;
    const same = JSON.stringify(org.registries[url]) === JSON.stringify(trust);
    expect(same || d === true || (Array.isArray(d) && (d as string[]).includes(url)), url).toBe(true);
  }
  if (org.delegate['provenance.trustedRoot'] !== true) expect(merged.provenance.trustedRoot).toBe(org.provenance.trustedRoot);
}

describe('inheritPolicy (generated policies)', () => {
  it('the merged policy is never more permissive than the organisation’s except where delegated; refusals name both files', () => {
    let merges = 0;
    let refusals = 0;
    fc.assert(
      fc.property(orgDoc, repoDoc, (o, r) => {
        const org = parse(o, ORG, 'organisation');
        const repo = parse(r, REPO, 'project');
        let merged: Policy;
        try {
          merged = inheritPolicy(org, repo);
        } catch (error) {
          expect(error).toBeInstanceOf(PortcullisError);
          expect((error as PortcullisError).code).toBe('POLICY_LOOSENED');
          expect((error as PortcullisError).message).toContain(REPO);
          expect((error as PortcullisError).message).toContain(ORG);
          refusals++;
          return;
        }
        merges++;
        neverLooserThan(org, repo, merged);
        // Every line remembers its file.
        for (const s of [...merged.scripts.allow, ...merged.provenance.require, ...merged.cooldown.exclude]) expect([ORG, REPO]).toContain(s.source);
      }),
      { numRuns: 1500, seed: 20261202 },
    );
    // Both outcomes were exercised.
    expect(merges).toBeGreaterThan(100);
    expect(refusals).toBeGreaterThan(100);
  });

  it('a repository that only tightens, or adds what is delegated, is never refused', () => {
    fc.assert(
      fc.property(orgDoc, specs, age, fc.boolean(), (o, extra, longer, addDelegated) => {
        const org = parse(o, ORG, 'organisation');
        const orgAge = org.cooldown.minimumReleaseAge;
        const repoAge = orgAge === null || (parseAge(longer) ?? 0) >= orgAge.ms ? longer : orgAge.raw;
        const delegatedScripts = org.delegate['scripts.allow'];
        const allow = addDelegated && delegatedScripts !== undefined ? (delegatedScripts === true ? ['esbuild'] : (delegatedScripts as PackageSpec[]).map((s) => s.raw)) : [];
        const repo = parse(
          { signatures: { require: 'registry' }, provenance: { require: extra, noDowngrade: true }, cooldown: { minimumReleaseAge: repoAge }, scripts: { allow }, advisories: { osv: ['./osv/c'] } },
          REPO,
          'project',
        );
        const merged = inheritPolicy(org, repo);
        neverLooserThan(org, repo, merged);
        expect(merged.cooldown.minimumReleaseAge?.raw).toBe(repoAge);
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});

function parseAge(text: string): number | undefined {
  const unit = { h: 3_600_000, d: 86_400_000 }[text.slice(-1) as 'h' | 'd'];
  return unit === undefined ? undefined : Number(text.slice(0, -1)) * unit;
}
