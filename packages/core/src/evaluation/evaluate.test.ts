import { describe, expect, it } from 'vitest';
import type { PackageNode } from '../model.js';
import { parsePolicy } from '../policy/load.js';
import { evaluate, exitCodeFor } from './evaluate.js';
import type { Evidence, ScriptEvidence, SignatureEvidence } from './evidence.js';

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
