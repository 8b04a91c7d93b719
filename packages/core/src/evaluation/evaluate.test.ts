import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PackageNode } from '../model.js';
import { parsePolicy } from '../policy/load.js';
import { evaluate, exitCodeFor } from './evaluate.js';
import type { Evidence, ProvenanceDowngrade, ProvenanceEvidence, PublisherIdentity, ScriptEvidence, SignatureEvidence } from './evidence.js';

const REG = 'https://registry.npmjs.org/';

function pkg(name: string, version: string, extra: Partial<PackageNode> = {}): PackageNode {
  return { id: `${name}@${version}`, name, version, source: 'registry', registry: REG, aliases: [], paths: [`node_modules/${name}`], dependents: ['.'], integrity: 'sha512-x', ...extra };
}

const noScripts: ScriptEvidence = { hasInstallScript: false, scripts: [], bindingGyp: false, source: 'metadata' };
const postinstall: ScriptEvidence = { hasInstallScript: true, scripts: ['postinstall'], bindingGyp: false, source: 'installed' };
const gypOnly: ScriptEvidence = { hasInstallScript: false, scripts: [], bindingGyp: true, source: 'installed' };
const verified: SignatureEvidence = { status: 'verified', keyid: 'SHA256:k' };

function evidence(entries: Array<[PackageNode, ScriptEvidence, SignatureEvidence?]>, unavailable: Array<[string, string]> = []): Evidence {
  return {
    scripts: new Map(entries.map(([p, s]) => [p.id, s])),
    signatures: new Map(entries.filter(([, , sig]) => sig).map(([p, , sig]) => [p.id, sig!])),
    unavailable: new Map(unavailable),
  };
}

const policy = (json: object) => parsePolicy(JSON.stringify(json), '/p/portcullis.json');

describe('scripts rule', () => {
  it('denies install scripts by default and names the fix', () => {
    const evil = pkg('evil', '1.0.0');
    const findings = evaluate(policy({}), [evil], evidence([[evil, postinstall, verified]]));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ package: 'evil', version: '1.0.0', rule: 'scripts', code: 'SCRIPT_NOT_ALLOWED', fix: 'portcullis approve evil@1.0.0' });
    expect(findings[0]!.message).toContain('evil@1.0.0');
    expect(findings[0]!.message).toContain('postinstall');
    expect(exitCodeFor(findings)).toBe(1);
  });

  it('treats a bare binding.gyp as an install script', () => {
    const native = pkg('native', '2.0.0');
    const [finding] = evaluate(policy({}), [native], evidence([[native, gypOnly, verified]]));
    expect(finding?.message).toContain('node-gyp rebuild');
  });

  it('allows what the policy allows, with ranges honoured exactly', () => {
    const a = pkg('sharp', '0.34.5');
    const b = pkg('sharp', '0.35.0');
    const findings = evaluate(policy({ scripts: { allow: ['sharp@^0.34.0'] } }), [a, b], evidence([[a, postinstall, verified], [b, postinstall, verified]]));
    expect(findings.map((f) => f.version)).toEqual(['0.35.0']);
  });

  it('judges an npm: alias by the real package, not the alias name', () => {
    const aliased = pkg('evil', '1.0.0', { aliases: ['esbuild'] });
    const findings = evaluate(policy({ scripts: { allow: ['esbuild'] } }), [aliased], evidence([[aliased, postinstall, verified]]));
    expect(findings[0]?.code).toBe('SCRIPT_NOT_ALLOWED');
    expect(findings[0]?.message).toContain('installed as "esbuild"');
  });

  it('lets packages without scripts through', () => {
    const clean = pkg('clean', '1.0.0');
    expect(evaluate(policy({}), [clean], evidence([[clean, noScripts, verified]]))).toEqual([]);
  });

  it('exempts workspace packages and directories inside the project', () => {
    const ws = pkg('app', '1.0.0', { source: 'workspace' });
    const local = pkg('tool', '1.0.0', { source: 'directory', insideProject: true });
    expect(evaluate(policy({}), [ws, local], evidence([[ws, postinstall], [local, postinstall]]))).toEqual([]);
  });

  it('fails closed when nothing is known about a registry package', () => {
    const mystery = pkg('mystery', '1.0.0');
    const findings = evaluate(policy({}), [mystery], evidence([]));
    expect(findings[0]?.code).toBe('METADATA_UNAVAILABLE');
    expect(exitCodeFor(findings)).toBe(3);
  });
});

describe('signatures rule', () => {
  const cases: Array<[SignatureEvidence, string]> = [
    [{ status: 'unsigned' }, 'UNSIGNED'],
    [{ status: 'bad-signature', keyid: 'SHA256:k' }, 'BAD_SIGNATURE'],
    [{ status: 'unknown-key', keyid: 'SHA256:u' }, 'UNKNOWN_KEY'],
    [{ status: 'key-expired', keyid: 'SHA256:o', expires: '2025-01-29T00:00:00.000Z', published: '2025-06-01T00:00:00.000Z' }, 'KEY_EXPIRED'],
    [{ status: 'untrusted-registry', registry: 'https://x/' }, 'UNTRUSTED_REGISTRY'],
    [{ status: 'unavailable', reason: 'HTTP 500' }, 'METADATA_UNAVAILABLE'],
  ];
  it.each(cases)('%j → %s', (sig, code) => {
    const p = pkg('lib', '1.0.0');
    const findings = evaluate(policy({}), [p], evidence([[p, noScripts, sig]]));
    expect(findings.map((f) => f.code)).toEqual([code]);
    expect(findings[0]!.rule).toBe('signatures');
    expect(findings[0]!.fix.length).toBeGreaterThan(10);
  });

  it('marks git, tarball and outside directories as unsigned by nature', () => {
    const git = pkg('g', '1.0.0', { source: 'git', resolved: 'git+ssh://git@example.com/g.git#abc' });
    const tgz = pkg('t', '1.0.0', { source: 'tarball' });
    const dir = pkg('d', '1.0.0', { source: 'directory', insideProject: false });
    const findings = evaluate(policy({}), [git, tgz, dir], evidence([[git, noScripts], [tgz, noScripts], [dir, noScripts]]));
    expect(findings.map((f) => f.code)).toEqual(['UNSIGNED_SOURCE', 'UNSIGNED_SOURCE', 'UNSIGNED_SOURCE']);
  });

  it('allowUnsigned covers a missing signature but never a bad one', () => {
    const a = pkg('legacy-internal', '1.2.0');
    const b = pkg('legacy-internal', '1.3.0');
    const c = pkg('legacy-internal', '2.0.0');
    const findings = evaluate(
      policy({ signatures: { allowUnsigned: ['legacy-internal@^1'] } }),
      [a, b, c],
      evidence([[a, noScripts, { status: 'unsigned' }], [b, noScripts, { status: 'bad-signature', keyid: 'SHA256:k' }], [c, noScripts, { status: 'unsigned' }]]),
    );
    expect(findings.map((f) => `${f.version} ${f.code}`)).toEqual(['1.3.0 BAD_SIGNATURE', '2.0.0 UNSIGNED']);
  });

  it('a bundled copy is covered by its parent\'s signature but its scripts still count', () => {
    const bundled = pkg('inner', '1.0.0', { inBundle: true, integrity: undefined });
    const findings = evaluate(policy({}), [bundled], evidence([[bundled, postinstall]]));
    expect(findings.map((f) => f.code)).toEqual(['SCRIPT_NOT_ALLOWED']);
  });

  it('a bundled copy named like an allowed package needs its bundler allowed too (bypass corpus B8)', () => {
    const impostor = pkg('esbuild', '1.0.0', { inBundle: true, integrity: undefined, bundledBy: { name: 'evil', version: '2.0.0' } });
    const [finding] = evaluate(policy({ scripts: { allow: ['esbuild'] } }), [impostor], evidence([[impostor, postinstall]]));
    expect(finding).toMatchObject({ code: 'SCRIPT_NOT_ALLOWED', fix: 'portcullis approve evil@2.0.0 esbuild@1.0.0' });
    expect(finding!.message).toContain('bundled in evil@2.0.0');
    expect(evaluate(policy({ scripts: { allow: ['esbuild', 'evil@2.0.0'] } }), [impostor], evidence([[impostor, postinstall]]))).toEqual([]);
  });

  it('a registry package whose lockfile entry has no integrity is INTEGRITY_MISSING, even with a verified signature (issue 13.2)', () => {
    // The signature then covers only the registry's own claim; the package manager installs whatever it is served.
    const { integrity: _dropped, ...rest } = pkg('good', '1.0.0');
    const good: PackageNode = rest;
    const findings = evaluate(policy({ scripts: { allow: ['good'] } }), [good], evidence([[good, postinstall, verified]]));
    expect(findings.map((f) => [f.code, f.rule])).toEqual([['INTEGRITY_MISSING', 'signatures']]);
    expect(findings[0]!.message).toContain('good@1.0.0');
    expect(findings[0]!.fix).toContain('integrity');
    expect(exitCodeFor(findings)).toBe(1);
    // Yarn's lockfile never has one: there the plugin checks every download against the signed integrity.
    expect(evaluate(policy({}), [{ ...good, integrityCheckedOnDownload: true }], evidence([[good, noScripts, verified]]))).toEqual([]);
    // Bundled copies ship inside their parent's tarball, whose integrity pins them.
    expect(evaluate(policy({}), [{ ...good, inBundle: true }], evidence([[good, noScripts]]))).toEqual([]);
    // allowUnsigned is the user's word that these bytes need no signature; "off" checks no bytes at all.
    expect(evaluate(policy({ signatures: { allowUnsigned: ['good'] } }), [good], evidence([[good, noScripts, verified]]))).toEqual([]);
    expect(evaluate(policy({ signatures: { require: 'off' } }), [good], evidence([[good, noScripts]]))).toEqual([]);
  });

  it('require "off" disables the check', () => {
    const p = pkg('lib', '1.0.0');
    expect(evaluate(policy({ signatures: { require: 'off' } }), [p], evidence([[p, noScripts, { status: 'unsigned' }]]))).toEqual([]);
  });

  it('a missing verification result is never an allow', () => {
    const p = pkg('lib', '1.0.0');
    expect(evaluate(policy({}), [p], evidence([[p, noScripts]]))[0]?.code).toBe('METADATA_UNAVAILABLE');
  });

  it('an unknown status is never an allow', () => {
    const p = pkg('lib', '1.0.0');
    const odd = { status: 'needs-publish-time' } as unknown as SignatureEvidence;
    expect(evaluate(policy({}), [p], evidence([[p, noScripts, odd]]))[0]?.code).toBe('METADATA_UNAVAILABLE');
  });

  it('unavailable metadata gives one finding and exit 3', () => {
    const p = pkg('lib', '1.0.0');
    const findings = evaluate(policy({}), [p], evidence([], [[p.id, 'HTTP 500 from the registry']]));
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toContain('HTTP 500');
    expect(exitCodeFor(findings)).toBe(3);
  });
});

describe('a copy marked bundled that its parent does not ship (attack round, issue 13)', () => {
  it('is judged as the registry package npm fetches: its signature and its integrity count', () => {
    const fake = pkg('tampered', '1.0.0', { inBundle: true, bundledBy: { name: 'holder', version: '1.0.0' } });
    const bad: SignatureEvidence = { status: 'bad-signature', keyid: 'SHA256:k' };
    expect(evaluate(policy({}), [fake], evidence([[fake, noScripts, bad]]))).toEqual([]);
    const notBundled: Evidence = { ...evidence([[fake, noScripts, bad]]), notBundled: new Set([fake.id]) };
    expect(evaluate(policy({}), [fake], notBundled).map((f) => f.code)).toEqual(['BAD_SIGNATURE']);
    const { integrity: _dropped, ...unpinned } = fake;
    expect(evaluate(policy({}), [unpinned], { ...evidence([[unpinned, noScripts, verified]]), notBundled: new Set([fake.id]) }).map((f) => f.code)).toEqual(['INTEGRITY_MISSING']);
  });
});

describe('provenance rule', () => {
  const identity: PublisherIdentity = {
    issuer: 'https://token.actions.githubusercontent.com',
    repository: 'github.com/sigstore/sigstore-js',
    repositoryUri: 'https://github.com/sigstore/sigstore-js',
    repositoryId: '495574555',
    ownerId: '71096353',
    workflow: '.github/workflows/release.yml',
    ref: 'refs/heads/main',
    trigger: 'push',
  };
  const pin = { repository: 'github.com/sigstore/sigstore-js', workflow: '.github/workflows/release.yml' };
  const verifiedAs = (changes: Partial<PublisherIdentity> = {}): ProvenanceEvidence => ({ status: 'verified', identity: { ...identity, ...changes } });
  const lib = pkg('sigstore', '3.1.0');
  const withProvenance = (p: PackageNode, provenance?: ProvenanceEvidence, downgrade?: ProvenanceDowngrade): Evidence => ({
    ...evidence([[p, noScripts, verified]]),
    ...(provenance ? { provenance: new Map([[p.id, provenance]]) } : {}),
    ...(downgrade ? { downgrades: new Map([[p.id, downgrade]]) } : {}),
  });
  const required = policy({ provenance: { require: ['sigstore'] } });
  const pinned = (fields: object = pin) => policy({ provenance: { publishers: { sigstore: fields } } });

  const cases: Array<[ProvenanceEvidence | undefined, string, string, number]> = [
    [{ status: 'missing' }, 'PROVENANCE_MISSING', 'no SLSA provenance', 1],
    [{ status: 'invalid', reason: 'the subject digest is not the sha512 of the integrity being installed' }, 'PROVENANCE_INVALID', 'the subject digest is not the sha512', 1],
    [{ status: 'root-stale', reason: 'its transparency log 1234abcd is not in the trusted root' }, 'TRUST_ROOT_STALE', 'transparency log 1234abcd', 1],
    [{ status: 'unavailable', reason: 'HTTP 503 from the attestations endpoint' }, 'METADATA_UNAVAILABLE', 'HTTP 503', 3],
    [undefined, 'METADATA_UNAVAILABLE', 'provenance was not checked', 3],
    [{ status: 'signed-by-a-friend' } as unknown as ProvenanceEvidence, 'METADATA_UNAVAILABLE', 'unexpected provenance result', 3],
  ];
  it.each(cases)('required, %j → %s', (prov, code, reason, exit) => {
    const findings = evaluate(required, [lib], withProvenance(lib, prov));
    expect(findings.map((f) => [f.code, f.rule])).toEqual([[code, 'provenance']]);
    expect(findings[0]!.message).toContain('sigstore@3.1.0');
    expect(findings[0]!.message).toContain(reason);
    expect(findings[0]!.fix.length).toBeGreaterThan(10);
    expect(exitCodeFor(findings)).toBe(exit);
  });

  it('a provenance map without this package is no answer either (fail closed)', () => {
    const other = pkg('other', '1.0.0');
    const e: Evidence = { ...evidence([[lib, noScripts, verified]]), provenance: new Map([[other.id, verifiedAs()]]) };
    expect(evaluate(required, [lib], e).map((f) => f.code)).toEqual(['METADATA_UNAVAILABLE']);
  });

  it('verified provenance satisfies require; a publishers entry implies require', () => {
    expect(evaluate(required, [lib], withProvenance(lib, verifiedAs()))).toEqual([]);
    expect(evaluate(pinned(), [lib], withProvenance(lib, verifiedAs()))).toEqual([]);
    const [missing] = evaluate(pinned(), [lib], withProvenance(lib, { status: 'missing' }));
    expect(missing).toMatchObject({ code: 'PROVENANCE_MISSING', rule: 'provenance' });
    expect(missing!.message).toContain('provenance.publishers entry "sigstore"');
    expect(missing!.fix).toContain('provenance.publishers');
    const [fromRequire] = evaluate(policy({ provenance: { require: ['@acme/*'] } }), [pkg('@acme/lib', '1.0.0')], withProvenance(pkg('@acme/lib', '1.0.0'), { status: 'missing' }));
    expect(fromRequire!.message).toContain('provenance.require entry "@acme/*"');
  });

  it('the fix for a stale root says how to update it, naming the configured root when there is one', () => {
    const stale: ProvenanceEvidence = { status: 'root-stale', reason: 'its certificate authority is not in the trusted root' };
    const [shipped] = evaluate(required, [lib], withProvenance(lib, stale));
    expect(shipped!.message).toContain('not a forgery');
    expect(shipped!.fix).toContain('provenance');
    expect(shipped!.fix).toContain('trustedRoot');
    expect(shipped!.fix).toContain('upgrade Portcullis');
    const [own] = evaluate(policy({ provenance: { require: ['sigstore'], trustedRoot: './root.json' } }), [lib], withProvenance(lib, stale));
    expect(own!.message).toContain('/p/root.json');
  });

  it.each<[string, object, Partial<PublisherIdentity>, string[]]>([
    ['same repository in other case', pin, { repository: 'github.com/sigstore/sigstore-js' }, []],
    ['pin in upper case', { ...pin, repository: 'GitHub.com/Sigstore/Sigstore-JS' }, {}, []],
    ['another repository', pin, { repository: 'github.com/attacker/sigstore-js' }, ['repository']],
    ['a longer name (prefix trap)', pin, { repository: 'github.com/sigstore/sigstore-js-evil' }, ['repository']],
    ['a shorter name (suffix trap)', { ...pin, repository: 'github.com/sigstore/sigstore-js-evil' }, {}, ['repository']],
    ['another host', pin, { repository: 'gitlab.com/sigstore/sigstore-js' }, ['repository']],
    ['Unicode that folds to the pin (Kelvin sign)', { ...pin, repository: 'github.com/sigstore/key' }, { repository: 'github.com/sigstore/\u212Aey' }, ['repository']],
    ['a workflow with a suffix', pin, { workflow: '.github/workflows/release.yml.attacker.yml' }, ['workflow']],
    ['a workflow in other case', pin, { workflow: '.github/workflows/Release.yml' }, ['workflow']],
    ['another workflow', pin, { workflow: '.github/workflows/ci.yml' }, ['workflow']],
    ['ids ignored when the pin has none', pin, { repositoryId: '1', ownerId: '2' }, []],
    ['pinned ids that match', { ...pin, repositoryId: '495574555', ownerId: '71096353' }, {}, []],
    ['a re-registered repository (new id, same name)', { ...pin, repositoryId: '495574555' }, { repositoryId: '999' }, ['repositoryId']],
    ['a new owner id', { ...pin, ownerId: '71096353' }, { ownerId: '1' }, ['ownerId']],
    ['a certificate without the pinned ids', { ...pin, repositoryId: '495574555', ownerId: '71096353' }, { repositoryId: undefined, ownerId: undefined }, ['repositoryId', 'ownerId']],
  ])('publisher pin: %s', (_, fields, changes, differences) => {
    const findings = evaluate(pinned(fields), [lib], withProvenance(lib, verifiedAs(changes)));
    if (differences.length === 0) {
      expect(findings).toEqual([]);
      return;
    }
    expect(findings.map((f) => [f.code, f.rule])).toEqual([['PUBLISHER_MISMATCH', 'provenance']]);
    expect(findings[0]!.message).toContain('sigstore@3.1.0');
    expect(findings[0]!.message).toContain(`differs in: ${differences.join(', ')}`);
    expect(exitCodeFor(findings)).toBe(1);
  });

  it('a publisher mismatch names expected and actual, and its fix is the pin to write only if the move was deliberate', () => {
    const [finding] = evaluate(pinned({ ...pin, repositoryId: '495574555' }), [lib], withProvenance(lib, verifiedAs({ repository: 'github.com/attacker/fork', repositoryId: '42' })));
    expect(finding!.message).toContain('built by repository github.com/attacker/fork, workflow .github/workflows/release.yml, repository id 42');
    expect(finding!.message).toContain('expects repository github.com/sigstore/sigstore-js, workflow .github/workflows/release.yml, repository id 495574555');
    expect(finding!.fix).toContain('do not install it');
    expect(finding!.fix).toContain('{"repository":"github.com/attacker/fork","workflow":".github/workflows/release.yml","repositoryId":"42"}');
  });

  it('a repository this project saw before with other immutable ids is PUBLISHER_MISMATCH, unless a publishers pin decides', () => {
    const e: Evidence = { ...withProvenance(lib, verifiedAs({ repositoryId: '999' })), publisherChanges: new Map([[lib.id, { repository: 'github.com/sigstore/sigstore-js', repositoryId: '495574555' }]]) };
    const [finding] = evaluate(policy({}), [lib], e);
    expect(finding).toMatchObject({ code: 'PUBLISHER_MISMATCH', rule: 'provenance' });
    expect(finding!.message).toContain('earlier installs of this project saw sigstore built from repository github.com/sigstore/sigstore-js');
    expect(finding!.message).toContain('differs in: repositoryId');
    expect(finding!.fix).toBe('do not install it; only if the maintainers of sigstore re-created the repository themselves, pin it: portcullis approve --publisher sigstore');
    // The user pinned the new publisher: the pin decides.
    expect(evaluate(pinned({ ...pin, repositoryId: '999' }), [lib], e)).toEqual([]);
  });

  it('the entry naming the package wins over its scope wildcard', () => {
    const p = policy({ provenance: { publishers: { '@sig/*': { repository: 'github.com/sig/mono', workflow: 'release.yml' }, '@sig/special': { repository: 'github.com/sig/special', workflow: 'release.yml' } } } });
    const special = pkg('@sig/special', '1.0.0');
    const core = pkg('@sig/core', '1.0.0');
    const fromSpecial = verifiedAs({ repository: 'github.com/sig/special', workflow: 'release.yml' });
    expect(evaluate(p, [special], withProvenance(special, fromSpecial))).toEqual([]);
    expect(evaluate(p, [core], withProvenance(core, fromSpecial)).map((f) => f.code)).toEqual(['PUBLISHER_MISMATCH']);
  });

  it.each<ProvenanceEvidence>([{ status: 'missing' }, { status: 'invalid', reason: 'x' }, { status: 'root-stale', reason: 'x' }, { status: 'unavailable', reason: 'x' }])(
    'a package that is not required: %j is not a finding by itself',
    (prov) => {
      expect(evaluate(policy({}), [lib], withProvenance(lib, prov))).toEqual([]);
      expect(evaluate(policy({ provenance: { require: ['other'] } }), [lib], withProvenance(lib, prov))).toEqual([]);
    },
  );

  const downgrades: Array<[ProvenanceDowngrade['now'], string]> = [
    ['none', 'this one has none'],
    ['invalid', 'does not verify'],
    [{ repository: 'github.com/attacker/fork' }, 'built from github.com/attacker/fork'],
  ];
  it.each(downgrades)('a downgrade (%j) is PROVENANCE_DOWNGRADE, required or not', (now, says) => {
    const down: ProvenanceDowngrade = { earlier: '3.0.0', repository: 'github.com/sigstore/sigstore-js', now };
    const findings = evaluate(policy({}), [lib], withProvenance(lib, undefined, down));
    expect(findings.map((f) => [f.code, f.rule])).toEqual([['PROVENANCE_DOWNGRADE', 'provenance']]);
    expect(findings[0]!.message).toContain('sigstore@3.1.0');
    expect(findings[0]!.message).toContain('sigstore@3.0.0');
    expect(findings[0]!.message).toContain('verified provenance from github.com/sigstore/sigstore-js');
    expect(findings[0]!.message).toContain(says);
    expect(findings[0]!.fix).toContain('pin sigstore@3.0.0');
    expect(findings[0]!.fix).toContain('provenance.allowDowngrade');
    expect(exitCodeFor(findings)).toBe(1);
  });

  it('allowDowngrade and noDowngrade: false waive a downgrade, and nothing else', () => {
    const down: ProvenanceDowngrade = { earlier: '3.0.0', repository: 'github.com/sigstore/sigstore-js', now: 'none' };
    expect(evaluate(policy({ provenance: { allowDowngrade: ['sigstore@^3'] } }), [lib], withProvenance(lib, undefined, down))).toEqual([]);
    expect(evaluate(policy({ provenance: { allowDowngrade: ['sigstore@^4'] } }), [lib], withProvenance(lib, undefined, down)).map((f) => f.code)).toEqual(['PROVENANCE_DOWNGRADE']);
    expect(evaluate(policy({ provenance: { noDowngrade: false } }), [lib], withProvenance(lib, undefined, down))).toEqual([]);
    // A required package stays required: the waiver does not waive the missing provenance.
    const waived = policy({ provenance: { require: ['sigstore'], allowDowngrade: ['sigstore'] } });
    expect(evaluate(waived, [lib], withProvenance(lib, { status: 'missing' }, down)).map((f) => f.code)).toEqual(['PROVENANCE_MISSING']);
    expect(evaluate(policy({ provenance: { require: ['sigstore'] } }), [lib], withProvenance(lib, { status: 'missing' }, down)).map((f) => f.code)).toEqual(['PROVENANCE_DOWNGRADE', 'PROVENANCE_MISSING']);
  });

  it('own code, non-registry sources and bundled copies are not judged by provenance', () => {
    const p = policy({ provenance: { require: ['sigstore'], publishers: { x: pin } }, signatures: { require: 'off' } });
    const down: ProvenanceDowngrade = { earlier: '3.0.0', repository: 'github.com/sigstore/sigstore-js', now: 'none' };
    for (const extra of [{ source: 'workspace' as const }, { source: 'directory' as const, insideProject: true }, { source: 'git' as const }, { source: 'tarball' as const }, { inBundle: true }]) {
      expect(evaluate(p, [pkg('sigstore', '3.1.0', extra)], withProvenance(lib, { status: 'missing' }, down)), JSON.stringify(extra)).toEqual([]);
    }
    // A copy the lockfile marks bundled but its parent does not ship is fetched from the registry: judged.
    const fake = pkg('sigstore', '3.1.0', { inBundle: true });
    expect(evaluate(p, [fake], { ...withProvenance(fake, { status: 'missing' }), notBundled: new Set([fake.id]) }).map((f) => f.code)).toEqual(['PROVENANCE_MISSING']);
  });

  it('applies when signatures are off, and does not mask a signature finding', () => {
    expect(evaluate(policy({ signatures: { require: 'off' }, provenance: { require: ['sigstore'] } }), [lib], withProvenance(lib, { status: 'missing' })).map((f) => f.code)).toEqual(['PROVENANCE_MISSING']);
    const e: Evidence = { ...withProvenance(lib, { status: 'invalid', reason: 'x' }), signatures: new Map([[lib.id, { status: 'bad-signature', keyid: 'SHA256:k' }]]) };
    expect(evaluate(required, [lib], e).map((f) => [f.code, f.rule])).toEqual([['BAD_SIGNATURE', 'signatures'], ['PROVENANCE_INVALID', 'provenance']]);
  });

  it('property: provenance evidence only ever adds findings, never removes a script or signature finding', () => {
    const signatureArb = fc.constantFrom<SignatureEvidence | undefined>(verified, { status: 'unsigned' }, { status: 'bad-signature', keyid: 'k' }, { status: 'unavailable', reason: 'r' }, undefined);
    const scriptArb = fc.constantFrom(noScripts, postinstall, gypOnly);
    const provenanceArb = fc.option(
      fc.oneof(
        fc.constantFrom<ProvenanceEvidence>({ status: 'missing' }, { status: 'invalid', reason: 'r' }, { status: 'root-stale', reason: 'r' }, { status: 'unavailable', reason: 'r' }),
        fc.record({ repository: fc.constantFrom('github.com/a/b', 'github.com/c/d'), workflow: fc.constantFrom('w.yml', 'x.yml') }).map((id): ProvenanceEvidence => ({ status: 'verified', identity: { ...identity, ...id } })),
      ),
      { nil: undefined },
    );
    const downgradeArb = fc.option(fc.constantFrom<ProvenanceDowngrade['now']>('none', 'invalid', { repository: 'github.com/c/d' }).map((now): ProvenanceDowngrade => ({ earlier: '0.9.0', repository: 'github.com/a/b', now })), { nil: undefined });
    const names = ['a', 'b', '@s/c'];
    const specs = fc.subarray(['a', 'b', '@s/*', 'a@^1', 'b@^2']);
    const policyArb = fc.record({
      scripts: fc.record({ allow: specs }),
      signatures: fc.record({ require: fc.constantFrom('registry', 'off'), allowUnsigned: specs }),
      provenance: fc.record({
        require: specs,
        publishers: fc.dictionary(fc.constantFrom('a', '@s/*', 'b@^1'), fc.record({ repository: fc.constantFrom('github.com/a/b', 'GITHUB.com/c/d'), workflow: fc.constantFrom('w.yml', 'x.yml') }), { maxKeys: 2 }),
        noDowngrade: fc.boolean(),
        allowDowngrade: specs,
      }),
    });
    const pkgArb = fc.tuple(fc.constantFrom(...names), fc.constantFrom('1.0.0', '1.2.0', '2.0.0'), fc.constantFrom<PackageNode['source']>('registry', 'registry', 'git', 'workspace'), fc.boolean(), scriptArb, signatureArb, provenanceArb, downgradeArb);
    fc.assert(
      fc.property(policyArb, fc.uniqueArray(pkgArb, { maxLength: 5, selector: ([n, v]) => `${n}@${v}` }), (json, rows) => {
        const p = policy(json);
        const packages = rows.map(([n, v, source, inBundle]) => pkg(n, v, { source, inBundle }));
        const base: Evidence = {
          scripts: new Map(rows.map(([n, v, , , sc]) => [`${n}@${v}`, sc])),
          signatures: new Map(rows.flatMap(([n, v, , , , sig]) => (sig ? [[`${n}@${v}`, sig] as const] : []))),
          unavailable: new Map(),
        };
        const withProv: Evidence = {
          ...base,
          provenance: new Map(rows.flatMap(([n, v, , , , , prov]) => (prov ? [[`${n}@${v}`, prov] as const] : []))),
          downgrades: new Map(rows.flatMap(([n, v, , , , , , down]) => (down ? [[`${n}@${v}`, down] as const] : []))),
        };
        const key = (f: { id?: string; code: string; rule: string }) => `${f.id} ${f.rule} ${f.code}`;
        const without = evaluate(p, packages, base).filter((f) => f.rule !== 'provenance').map(key);
        const withAll = evaluate(p, packages, withProv).map(key);
        for (const k of without) expect(withAll).toContain(k);
        expect(evaluate(p, packages, withProv).filter((f) => f.rule !== 'provenance').map(key)).toEqual(without);
      }),
      { numRuns: 500 },
    );
  });
});

describe('cooldown rule', () => {
  const NOW = Date.parse('2026-12-02T12:00:00Z');
  const lib = pkg('lib', '2.0.0');
  const cooled = (json: object = {}) => policy({ cooldown: { minimumReleaseAge: '3d', ...json } });
  const at = (published: string | null, now: number | undefined = NOW): Evidence => ({ ...evidence([[lib, noScripts, verified]]), published: new Map([[lib.id, published]]), ...(now !== undefined ? { now } : {}) });

  it('a version younger than the limit is RELEASE_TOO_NEW, saying its age, the limit and when it becomes installable', () => {
    const [finding, ...rest] = evaluate(cooled(), [lib], at('2026-12-02T11:00:00Z'));
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ code: 'RELEASE_TOO_NEW', rule: 'cooldown', package: 'lib', version: '2.0.0' });
    expect(finding!.message).toBe('lib@2.0.0 was published 1 h 0 min ago (2026-12-02T11:00:00.000Z), and cooldown.minimumReleaseAge is 3d: it becomes installable at 2026-12-05T11:00:00.000Z');
    expect(finding!.fix).toContain('portcullis approve --cooldown lib@2.0.0');
    expect(exitCodeFor([finding!])).toBe(1);
  });

  it('old enough passes; exactly the limit passes; a publish time in the future is too new', () => {
    expect(evaluate(cooled(), [lib], at('2026-11-01T00:00:00Z'))).toEqual([]);
    expect(evaluate(cooled(), [lib], at('2026-11-29T12:00:00Z'))).toEqual([]);
    expect(evaluate(cooled(), [lib], at('2026-12-03T00:00:00Z')).map((f) => f.code)).toEqual(['RELEASE_TOO_NEW']);
  });

  it('an unknown or unreadable publish time, or no clock, is never "old enough": exit 3', () => {
    for (const e of [at(null), at('yesterday'), { ...evidence([[lib, noScripts, verified]]), published: new Map([[lib.id, '2026-11-01T00:00:00Z']]) }, { ...evidence([[lib, noScripts, verified]]), now: NOW }]) {
      const findings = evaluate(cooled(), [lib], e);
      expect(findings.map((f) => [f.code, f.rule])).toEqual([['METADATA_UNAVAILABLE', 'cooldown']]);
      expect(exitCodeFor(findings)).toBe(3);
    }
  });

  it('exclude and an unexpired exception waive it; an expired exception does not; no limit, no rule', () => {
    expect(evaluate(cooled({ exclude: ['lib'] }), [lib], at('2026-12-02T11:00:00Z'))).toEqual([]);
    expect(evaluate(cooled({ exclude: ['@acme/*'] }), [lib], at('2026-12-02T11:00:00Z')).map((f) => f.code)).toEqual(['RELEASE_TOO_NEW']);
    expect(evaluate(cooled({ exceptions: { 'lib@2.0.0': '2026-12-03T00:00:00Z' } }), [lib], at('2026-12-02T11:00:00Z'))).toEqual([]);
    expect(evaluate(cooled({ exceptions: { 'lib@2.0.0': '2026-12-02T00:00:00Z' } }), [lib], at('2026-12-02T11:00:00Z')).map((f) => f.code)).toEqual(['RELEASE_TOO_NEW']);
    expect(evaluate(cooled({ exceptions: { 'lib@1.0.0': '2026-12-03T00:00:00Z' } }), [lib], at('2026-12-02T11:00:00Z')).map((f) => f.code)).toEqual(['RELEASE_TOO_NEW']);
    expect(evaluate(policy({}), [lib], at('2026-12-02T11:00:00Z'))).toEqual([]);
  });

  it('own code, git sources and bundled copies have no registry age to judge', () => {
    const git = pkg('g', '1.0.0', { source: 'git', resolved: 'git+https://x/g.git', registry: undefined, integrity: undefined });
    const bundled = pkg('b', '1.0.0', { inBundle: true, bundledBy: { name: 'lib', version: '2.0.0' }, integrity: undefined });
    const e: Evidence = { ...evidence([[git, noScripts], [bundled, noScripts]]), now: NOW, published: new Map() };
    expect(evaluate(cooled({}), [git, bundled], e).filter((f) => f.rule === 'cooldown')).toEqual([]);
  });
});

describe('advisories rule', () => {
  const evil = pkg('evil-lib', '1.2.3');
  const listed: Evidence = { ...evidence([[evil, noScripts, verified]]), advisories: new Map([[evil.id, [{ id: 'MAL-2025-1234', summary: 'Malicious code in evil-lib (npm)' }]]]) };

  it('a listed version is KNOWN_MALICIOUS naming the advisory; nothing waives it', () => {
    for (const p of [policy({}), policy({ scripts: { allow: ['evil-lib'] }, signatures: { require: 'off', allowUnsigned: ['evil-lib'] }, cooldown: { minimumReleaseAge: '1d', exclude: ['evil-lib'] } })]) {
      const findings = evaluate(p, [evil], { ...listed, now: 0, published: new Map([[evil.id, '1970-01-01T00:00:00Z']]) });
      expect(findings.map((f) => [f.code, f.rule])).toEqual([['KNOWN_MALICIOUS', 'advisories']]);
      expect(findings[0]!.message).toBe('evil-lib@1.2.3 is known malicious: MAL-2025-1234 (Malicious code in evil-lib (npm))');
      expect(exitCodeFor(findings)).toBe(1);
    }
  });

  it('even when its metadata could not be fetched, and for a git copy; never for own code', () => {
    const down: Evidence = { ...listed, unavailable: new Map([[evil.id, 'HTTP 500']]) };
    expect(evaluate(policy({}), [evil], down).map((f) => f.code)).toEqual(['KNOWN_MALICIOUS', 'METADATA_UNAVAILABLE']);
    const own = pkg('evil-lib', '1.2.3', { source: 'workspace' });
    expect(evaluate(policy({}), [own], listed)).toEqual([]);
  });

  it('a bundled copy (N3: read from its bundler\'s tarball on pnpm) names its bundler, which is what the fix removes', () => {
    const copy = pkg('evil-lib', '1.2.3', { id: 'evil-lib@1.2.3 (bundled in carrier@1.0.0)', inBundle: true, bundledBy: { name: 'carrier', version: '1.0.0' }, integrity: undefined });
    const e: Evidence = { ...evidence([[copy, noScripts]]), advisories: new Map([[copy.id, [{ id: 'MAL-2025-1234', summary: 'Malicious code in evil-lib (npm)' }]]]) };
    const findings = evaluate(policy({}), [copy], e);
    expect(findings.map((f) => f.code)).toEqual(['KNOWN_MALICIOUS']);
    expect(findings[0]!.message).toBe('evil-lib@1.2.3 (bundled in carrier@1.0.0) is known malicious: MAL-2025-1234 (Malicious code in evil-lib (npm))');
    expect(findings[0]!.fix).toMatch(/^do not install it: remove carrier or move to a version that does not bundle evil-lib@1\.2\.3/);
  });
});

describe('scripts rule: patched packages (pnpm patchedDependencies)', () => {
  const patched = pkg('good', '1.0.0', { patches: [{ hash: 'h', files: [] }] });
  const withPatch = (e: Evidence, mayAddScripts: boolean, reason = 'its patch patches/good.patch changes package.json or binding.gyp'): Evidence => ({ ...e, patches: new Map([[patched.id, { mayAddScripts, reason }]]) });
  const deny = policy({ scripts: { allow: [] }, signatures: { require: 'off' } });

  it('a patch that may add install scripts makes a package with none its own SCRIPT_NOT_ALLOWED, naming the patch', () => {
    const [finding] = evaluate(deny, [patched], withPatch(evidence([[patched, noScripts]]), true));
    expect(finding).toMatchObject({ code: 'SCRIPT_NOT_ALLOWED', rule: 'scripts', fix: 'portcullis approve good@1.0.0' });
    expect(finding!.message).toBe('good@1.0.0 wants to run install scripts (its patch patches/good.patch changes package.json or binding.gyp: pnpm builds it from the patched files) at install time, and scripts.allow does not cover it');
    // Allowed: nothing (what an allowed package's patch runs is not judged here).
    expect(evaluate(policy({ scripts: { allow: ['good'] }, signatures: { require: 'off' } }), [patched], withPatch(evidence([[patched, noScripts]]), true))).toEqual([]);
  });

  it('a patch of other files changes nothing; a patch not read may add scripts (fail closed)', () => {
    expect(evaluate(deny, [patched], withPatch(evidence([[patched, noScripts]]), false, 'its patch touches neither'))).toEqual([]);
    expect(evaluate(deny, [patched], evidence([[patched, noScripts]])).map((f) => f.code)).toEqual(['SCRIPT_NOT_ALLOWED']);
    // A package with scripts of its own: one finding, the patch named beside them.
    const [own] = evaluate(deny, [patched], withPatch(evidence([[patched, postinstall]]), true));
    expect(own!.message).toContain('wants to run postinstall (and its patch patches/good.patch changes package.json or binding.gyp) at install time');
  });
});
