import { describe, expect, it } from 'vitest';
import type { PackageNode } from '../model.js';
import { parsePolicy } from '../policy/load.js';
import { evaluate, exitCodeFor } from './evaluate.js';
import type { Evidence, ScriptEvidence } from './evidence.js';
import { fingerprintToRecord } from './drift.js';

const REG = 'https://registry.npmjs.org/';
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);
const GYP_A = `sha256:${'1'.repeat(64)}`;
const GYP_B = `sha256:${'2'.repeat(64)}`;

function pkg(name: string, version: string, extra: Partial<PackageNode> = {}): PackageNode {
  return { id: `${name}@${version}`, name, version, source: 'registry', registry: REG, aliases: [], paths: [`node_modules/${name}`], dependents: ['.'], integrity: 'sha512-x', ...extra };
}

/** Script evidence whose command lines are known (the installed package.json or a full document). */
function runs(commands: Record<string, string>, extra: Partial<ScriptEvidence> = {}): ScriptEvidence {
  const names = Object.keys(commands);
  return { hasInstallScript: names.length > 0, scripts: names, bindingGyp: false, source: 'metadata', commands, ...extra };
}

function evidence(entries: Array<[PackageNode, ScriptEvidence]>): Evidence {
  return { scripts: new Map(entries.map(([p, s]) => [p.id, s])), signatures: new Map(), unavailable: new Map() };
}

const policy = (scripts: object) => parsePolicy(JSON.stringify({ scripts, signatures: { require: 'off' } }), '/p/portcullis.json');
const judge = (scripts: object, p: PackageNode, e: ScriptEvidence) => evaluate(policy(scripts), [p], evidence([[p, e]]));

describe('script drift (SCRIPT_CHANGED)', () => {
  const recorded = { allow: ['lib@^1.0.0'], fingerprints: { 'lib@1.0.0': { postinstall: 'node install.js' } } };

  it('lets a range-covered version through when it runs the recorded command lines', () => {
    expect(judge(recorded, pkg('lib', '1.2.0'), runs({ postinstall: 'node install.js' }))).toEqual([]);
  });

  it('refuses a range-covered version whose postinstall changed, showing old and new, fix: approve that version', () => {
    const findings = judge(recorded, pkg('lib', '1.2.0'), runs({ postinstall: 'node steal.js' }));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ package: 'lib', version: '1.2.0', rule: 'scripts', code: 'SCRIPT_CHANGED', fix: 'portcullis approve lib@1.2.0' });
    expect(findings[0]!.message).toContain('lib@1.2.0');
    expect(findings[0]!.message).toContain('lib@1.0.0');
    expect(findings[0]!.message).toContain('was: postinstall: "node install.js"');
    expect(findings[0]!.message).toContain('now: postinstall: "node steal.js"');
    expect(findings[0]!.message).toContain('scripts.allow "lib@^1.0.0"');
    expect(exitCodeFor(findings)).toBe(1);
  });

  it('counts an added script, a removed one and a name-only approval alike', () => {
    const byName = { allow: ['lib'], fingerprints: recorded.fingerprints };
    expect(judge(byName, pkg('lib', '2.0.0'), runs({ preinstall: 'curl x | sh', postinstall: 'node install.js' }))[0]?.code).toBe('SCRIPT_CHANGED');
    expect(judge(byName, pkg('lib', '2.0.0'), runs({ install: 'node install.js' }))[0]?.message).toContain('(install, postinstall)');
  });

  it('does not apply to a pinned approval of a registry version (a review of that very version)', () => {
    const pinned = { allow: ['lib@^1.0.0', 'lib@1.2.0'], fingerprints: recorded.fingerprints };
    expect(judge(pinned, pkg('lib', '1.2.0'), runs({ postinstall: 'node steal.js' }))).toEqual([]);
  });

  it('keeps an old policy (no fingerprint recorded for the name) working exactly as before', () => {
    expect(judge({ allow: ['lib@^1.0.0'] }, pkg('lib', '1.2.0'), runs({ postinstall: 'anything' }))).toEqual([]);
    expect(judge({ allow: ['lib@^1.0.0'], fingerprints: { 'other@1.0.0': { postinstall: 'x' } } }, pkg('lib', '1.2.0'), runs({ postinstall: 'anything' }))).toEqual([]);
  });

  it('accepts the code of any recorded version (two branches approving different versions, merged)', () => {
    const merged = { allow: ['lib@^1.0.0'], fingerprints: { 'lib@1.0.0': { postinstall: 'node install.js' }, 'lib@1.1.0': { postinstall: 'node install.js --v2' } } };
    expect(judge(merged, pkg('lib', '1.2.0'), runs({ postinstall: 'node install.js --v2' }))).toEqual([]);
    expect(judge(merged, pkg('lib', '1.2.0'), runs({ postinstall: 'node install.js' }))).toEqual([]);
    // Compared with the nearest recorded version below it.
    expect(judge(merged, pkg('lib', '1.2.0'), runs({ postinstall: 'evil' }))[0]!.message).toContain('than lib@1.1.0 did');
  });

  it('cannot decide without the command lines (abbreviated metadata only says "some"): fail closed, rule scripts', () => {
    const [finding] = judge(recorded, pkg('lib', '1.2.0'), { hasInstallScript: true, scripts: [], bindingGyp: false, source: 'metadata' });
    expect(finding).toMatchObject({ code: 'METADATA_UNAVAILABLE', rule: 'scripts' });
  });

  it('says nothing of a version that runs nothing, or one scripts.allow does not cover (SCRIPT_NOT_ALLOWED)', () => {
    expect(judge(recorded, pkg('lib', '1.2.0'), runs({}))).toEqual([]);
    expect(judge(recorded, pkg('lib', '2.0.0'), runs({ postinstall: 'node steal.js' })).map((f) => f.code)).toEqual(['SCRIPT_NOT_ALLOWED']);
  });

  it('compares the implicit node-gyp build: its presence always, the binding.gyp hash when both sides know it', () => {
    const gyp = { allow: ['native'], fingerprints: { 'native@1.0.0': { bindingGyp: GYP_A } } };
    const withGyp = (hash?: string) => runs({}, { bindingGyp: true, ...(hash ? { bindingGypHash: hash } : {}) });
    expect(judge(gyp, pkg('native', '1.1.0'), withGyp(GYP_A))).toEqual([]);
    expect(judge(gyp, pkg('native', '1.1.0'), withGyp(GYP_B))[0]?.code).toBe('SCRIPT_CHANGED');
    // Metadata says only that a binding.gyp exists: the installed files decide later.
    expect(judge(gyp, pkg('native', '1.1.0'), withGyp())).toEqual([]);
    expect(judge(gyp, pkg('native', '1.1.0'), runs({ install: 'node-gyp rebuild --release' }))[0]?.code).toBe('SCRIPT_CHANGED');
  });

  it('compares a git dependency by its commit, even under a pinned approval (its version number pins nothing)', () => {
    const git = (sha: string) => pkg('gitlib', '1.0.0', { id: `gitlib@git+https://h.example/o/r.git#${sha}`, source: 'git', resolved: `git+https://h.example/o/r.git#${sha}`, registry: undefined });
    const pinned = { allow: ['gitlib@1.0.0'], fingerprints: { 'gitlib@1.0.0': { prepare: 'tsc', commit: SHA_A } } };
    const lockfileOnly: ScriptEvidence = { hasInstallScript: true, scripts: [], bindingGyp: false, source: 'lockfile' };
    expect(judge(pinned, git(SHA_A), lockfileOnly)).toEqual([]);
    const [changed] = judge(pinned, git(SHA_B), lockfileOnly);
    expect(changed).toMatchObject({ code: 'SCRIPT_CHANGED', fix: 'portcullis approve gitlib@1.0.0' });
    expect(changed!.message).toContain(`commit ${SHA_B}`);
    expect(changed!.message).toContain(`commit ${SHA_A}`);
  });

  it('records what approve writes: command lines, the gyp hash, a git commit; nothing when the command lines are unknown', () => {
    expect(fingerprintToRecord(pkg('lib', '1.0.0'), runs({ postinstall: 'node install.js' }, { bindingGyp: true, bindingGypHash: GYP_A }))).toEqual({ commands: { postinstall: 'node install.js' }, bindingGyp: GYP_A });
    expect(fingerprintToRecord(pkg('lib', '1.0.0'), { hasInstallScript: true, scripts: [], bindingGyp: false, source: 'lockfile' })).toBeUndefined();
    const git = pkg('g', '1.0.0', { source: 'git', resolved: `github:o/r#${SHA_A}` });
    expect(fingerprintToRecord(git, { hasInstallScript: true, scripts: [], bindingGyp: false, source: 'lockfile' })).toEqual({ commands: {}, commit: SHA_A });
  });
});

describe('the node-gyp build, however it is spelled', () => {
  const gyp = (scripts: object) => ({ allow: ['native'], fingerprints: { 'native@1.0.0': scripts } });
  const metadataView = runs({ install: 'node-gyp rebuild' }, { bindingGyp: true });
  const installedView = (hash?: string) => runs({}, { bindingGyp: true, source: 'installed', ...(hash ? { bindingGypHash: hash } : {}) });

  it('metadata\'s `install: "node-gyp rebuild"` and the tarball\'s bare binding.gyp are the same build', () => {
    expect(fingerprintToRecord(pkg('native', '1.0.0'), metadataView)).toEqual({ commands: {}, bindingGyp: true });
    expect(fingerprintToRecord(pkg('native', '1.0.0'), installedView(GYP_A))).toEqual({ commands: {}, bindingGyp: GYP_A });
    // Recorded from the installed files, judged from metadata (a fresh install), and the other way round.
    expect(judge(gyp({ bindingGyp: GYP_A }), pkg('native', '1.1.0'), metadataView)).toEqual([]);
    expect(judge(gyp({ bindingGyp: 'node-gyp rebuild' }), pkg('native', '1.1.0'), installedView(GYP_B))).toEqual([]);
    // An author's own `install: "node-gyp rebuild"` with its binding.gyp read: the hash still counts.
    expect(judge(gyp({ bindingGyp: GYP_A }), pkg('native', '1.1.0'), runs({ install: 'node-gyp rebuild' }, { source: 'installed', bindingGypHash: GYP_B }))[0]?.code).toBe('SCRIPT_CHANGED');
  });
});
