import { describe, expect, it } from 'vitest';
import { evaluate } from '../evaluation/evaluate.js';
import type { Evidence } from '../evaluation/evidence.js';
import type { PackageNode } from '../model.js';
import { parsePolicy } from '../policy/load.js';
import { explainCopies, formatExplanationJson, formatExplanationText, type ExplainInput } from './explain.js';

const REGISTRY = 'http://127.0.0.1:4873/';
const NOW = Date.parse('2026-12-02T00:00:00Z');

const pkg = (name: string, version: string, extra: Partial<PackageNode> = {}): PackageNode => ({
  id: `${name}@${version}`,
  name,
  version,
  source: 'registry',
  registry: REGISTRY,
  integrity: 'sha512-abc',
  aliases: [],
  paths: [`node_modules/${name}`],
  dependents: ['.'],
  location: { line: 12, column: 5 },
  ...extra,
});

/** A finished check: the policy text, the packages, the evidence; findings come from the real evaluator. */
function input(policyText: string, packages: PackageNode[], evidence: Partial<Evidence>): ExplainInput {
  const policy = parsePolicy(policyText, '/repo/portcullis.json');
  const full: Evidence = { scripts: new Map(), signatures: new Map(), unavailable: new Map(), now: NOW, ...evidence };
  return { policy, packages, findings: evaluate(policy, packages, full), evidence: full, lockfile: { kind: 'npm', path: '/repo/package-lock.json' } };
}

const POLICY = `{
  "scripts": { "allow": ["esbuild@0.21.5"] },
  "signatures": { "allowUnsigned": ["legacy@^1"] },
  "registries": { "${REGISTRY}": { "keys": "npm" } },
  "provenance": { "publishers": { "signed-lib": { "repository": "github.com/acme/signed-lib", "workflow": ".github/workflows/publish.yml" } } },
  "cooldown": { "minimumReleaseAge": "3d" },
  "advisories": { "osv": ["./osv"] }
}`;

const verified = { status: 'verified' as const, keyid: 'SHA256:test-key' };
const runsPostinstall = { hasInstallScript: true, scripts: ['postinstall'], bindingGyp: false, source: 'installed' as const };

describe('explain', () => {
  it('names the scripts.allow entry (file, line) that let a copy build, and the edit that would stop it', () => {
    const esbuild = pkg('esbuild', '0.21.5');
    const x = input(POLICY, [esbuild], {
      scripts: new Map([[esbuild.id, runsPostinstall]]),
      signatures: new Map([[esbuild.id, verified]]),
      published: new Map([[esbuild.id, '2026-11-01T00:00:00.000Z']]),
    });
    const [copy] = explainCopies(x, 'esbuild').copies;
    const scripts = copy!.rules.find((r) => r.rule === 'scripts')!;
    expect(scripts).toMatchObject({ outcome: 'allowed', evidence: 'runs postinstall at install time (per the installed package.json)' });
    expect(scripts.decidedBy).toEqual([{ key: 'scripts.allow', value: 'esbuild@0.21.5', default: false, source: '/repo/portcullis.json', location: { line: 2, column: 26 } }]);
    expect(scripts.change).toBe('remove "esbuild@0.21.5" from scripts.allow in /repo/portcullis.json (its scripts would then be skipped: SCRIPT_NOT_ALLOWED)');
    const text = formatExplanationText(explainCopies(x, 'esbuild'));
    expect(text).toContain('decided by: scripts.allow: esbuild@0.21.5 (/repo/portcullis.json:2:26)');
    expect(text).toContain('installed at: node_modules/esbuild — /repo/package-lock.json line 12');
  });

  it('a blocked script: denied by default, and the exact approve command', () => {
    const evil = pkg('evil', '1.0.0');
    const x = input(POLICY, [evil], { scripts: new Map([[evil.id, runsPostinstall]]), signatures: new Map([[evil.id, verified]]), published: new Map([[evil.id, '2026-11-01T00:00:00.000Z']]) });
    const explanation = explainCopies(x, 'evil');
    const scripts = explanation.copies[0]!.rules.find((r) => r.rule === 'scripts')!;
    expect(scripts.outcome).toBe('blocked');
    expect(scripts.decidedBy[0]).toMatchObject({ key: 'scripts.allow', default: true });
    expect(scripts.change).toBe('portcullis approve evil@1.0.0');
    expect(explanation.exitCode).toBe(1);
    expect(formatExplanationText(explanation)).toContain('fix: portcullis approve evil@1.0.0');
  });

  it('signature evidence: the key id and registry; the registry line that trusts the key', () => {
    const lib = pkg('lib', '2.0.0');
    const x = input(POLICY, [lib], { scripts: new Map([[lib.id, { ...runsPostinstall, hasInstallScript: false, scripts: [] }]]), signatures: new Map([[lib.id, verified]]), published: new Map([[lib.id, '2026-11-01T00:00:00.000Z']]) });
    const rules = explainCopies(x, 'lib').copies[0]!.rules;
    expect(rules.find((r) => r.rule === 'signatures')).toMatchObject({ outcome: 'allowed', evidence: `verified: signed by key SHA256:test-key of ${REGISTRY} over lib@2.0.0:sha512-abc`, facts: { keyid: 'SHA256:test-key', registry: REGISTRY } });
    expect(rules.find((r) => r.rule === 'registry')!.decidedBy[0]).toMatchObject({ key: `registries["${REGISTRY}"].keys`, value: '"npm"', source: '/repo/portcullis.json' });
    expect(rules.find((r) => r.rule === 'scripts')!.outcome).toBe('not-applicable');
  });

  it('an unsigned package let in by signatures.allowUnsigned names that entry', () => {
    const legacy = pkg('legacy', '1.2.0');
    const x = input(POLICY, [legacy], { scripts: new Map([[legacy.id, { ...runsPostinstall, hasInstallScript: false, scripts: [] }]]), signatures: new Map([[legacy.id, { status: 'unsigned' }]]), published: new Map([[legacy.id, '2026-11-01T00:00:00.000Z']]) });
    const signatures = explainCopies(x, 'legacy').copies[0]!.rules.find((r) => r.rule === 'signatures')!;
    expect(signatures.outcome).toBe('allowed');
    expect(signatures.decidedBy.map((l) => `${l.key}: ${l.value}`)).toEqual(['signatures.require: "registry"', 'signatures.allowUnsigned: legacy@^1']);
    expect(signatures.change).toContain('remove "legacy@^1" from signatures.allowUnsigned');
  });

  it('cooldown: publish time and age against minimumReleaseAge; too new is blocked with when it becomes installable', () => {
    const fresh = pkg('fresh', '1.0.0');
    const x = input(POLICY, [fresh], { scripts: new Map([[fresh.id, { ...runsPostinstall, hasInstallScript: false, scripts: [] }]]), signatures: new Map([[fresh.id, verified]]), published: new Map([[fresh.id, '2026-12-01T00:00:00.000Z']]) });
    const cooldown = explainCopies(x, 'fresh').copies[0]!.rules.find((r) => r.rule === 'cooldown')!;
    expect(cooldown).toMatchObject({ outcome: 'blocked', facts: { minimumReleaseAge: '3d', published: '2026-12-01T00:00:00.000Z', ageMs: 86_400_000, installableAt: '2026-12-04T00:00:00.000Z' } });
    expect(cooldown.evidence).toBe('published 2026-12-01T00:00:00.000Z, 24 h 0 min ago; the cooldown is 3d: too new until 2026-12-04T00:00:00.000Z');
    expect(cooldown.decidedBy[0]).toMatchObject({ key: 'cooldown.minimumReleaseAge', value: '"3d"' });
    expect(cooldown.findings.map((f) => f.code)).toEqual(['RELEASE_TOO_NEW']);
    expect(cooldown.change).toBe(cooldown.findings[0]!.fix);
  });

  it('advisories: the advisory id; provenance: the identity and the publishers pin that required it', () => {
    const lib = pkg('signed-lib', '1.0.0');
    const identity = { issuer: 'https://token.actions.githubusercontent.com', repository: 'github.com/acme/signed-lib', repositoryUri: 'https://github.com/acme/signed-lib', workflow: '.github/workflows/publish.yml' };
    const x = input(POLICY, [lib], {
      scripts: new Map([[lib.id, { ...runsPostinstall, hasInstallScript: false, scripts: [] }]]),
      signatures: new Map([[lib.id, verified]]),
      published: new Map([[lib.id, '2026-11-01T00:00:00.000Z']]),
      provenance: new Map([[lib.id, { status: 'verified', identity }]]),
      advisories: new Map([[lib.id, [{ id: 'MAL-2026-1', summary: 'malicious code in signed-lib' }]]]),
    });
    const explanation = explainCopies(x, 'signed-lib');
    const rules = explanation.copies[0]!.rules;
    expect(rules.find((r) => r.rule === 'provenance')).toMatchObject({ outcome: 'allowed', evidence: 'verified: built by github.com/acme/signed-lib, workflow .github/workflows/publish.yml', decidedBy: [{ key: 'provenance.publishers', value: 'signed-lib' }] });
    const advisories = rules.find((r) => r.rule === 'advisories')!;
    expect(advisories).toMatchObject({ outcome: 'blocked', evidence: 'listed as malicious by MAL-2026-1 (malicious code in signed-lib)' });
    expect(advisories.findings.map((f) => f.code)).toEqual(['KNOWN_MALICIOUS']);
    // JSON carries the same, with a source slot on every policy line.
    const json = JSON.parse(formatExplanationJson(explanation));
    expect(json.exitCode).toBe(1);
    expect(json.copies[0].verdict).toBe('blocked');
    expect(json.copies[0].rules.find((r: { rule: string }) => r.rule === 'provenance').facts.identity.repository).toBe('github.com/acme/signed-lib');
    for (const rule of json.copies[0].rules) for (const line of rule.decidedBy) expect(line).toHaveProperty('source');
  });

  it('no portcullis.json: the defaults decide, and say so', () => {
    const evil = pkg('evil', '1.0.0');
    const policy = { ...parsePolicy('{}', '/repo/portcullis.json'), file: null };
    const evidence: Evidence = { scripts: new Map([[evil.id, runsPostinstall]]), signatures: new Map([[evil.id, verified]]), unavailable: new Map(), now: NOW };
    const x: ExplainInput = { policy, packages: [evil], findings: evaluate(policy, [evil], evidence), evidence, lockfile: { kind: 'npm', path: '/repo/package-lock.json' } };
    const text = formatExplanationText(explainCopies(x, 'evil'));
    expect(text).toContain('decided by: signatures.require: "registry" (default)');
    expect(text).toContain('policy: defaults (no portcullis.json)');
  });

  it('a name the lockfile does not install is a usage error that says so', () => {
    expect(() => explainCopies(input(POLICY, [], {}), 'nope')).toThrow(/nope is not in \/repo\/package-lock.json/);
  });
});
