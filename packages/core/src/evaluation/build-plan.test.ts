import { describe, expect, it } from 'vitest';
import type { Finding } from '../finding.js';
import type { PackageNode } from '../model.js';
import { parsePolicy } from '../policy/load.js';
import { approveCommand, gateOutcome, planBuilds } from './build-plan.js';
import type { ScriptEvidence } from './evidence.js';

function pkg(name: string, version: string, extra: Partial<PackageNode> = {}): PackageNode {
  return { id: `${name}@${version}`, name, version, source: 'registry', registry: 'https://r.example/', aliases: [], paths: [`node_modules/${name}`], dependents: ['.'], ...extra };
}
const post: ScriptEvidence = { hasInstallScript: true, scripts: ['postinstall'], bindingGyp: false, source: 'installed' };
const gyp: ScriptEvidence = { hasInstallScript: false, scripts: [], bindingGyp: true, source: 'installed' };
const none: ScriptEvidence = { hasInstallScript: false, scripts: [], bindingGyp: false, source: 'installed' };
const policy = (allow: string[]) => parsePolicy(JSON.stringify({ scripts: { allow } }), '/p/portcullis.json');
const finding = (code: Finding['code'], name = 'x'): Finding => ({ package: name, version: '1.0.0', rule: code === 'SCRIPT_NOT_ALLOWED' ? 'scripts' : 'signatures', code, message: '', fix: '' });

describe('gateOutcome', () => {
  it('installs past script findings, stops on signature findings', () => {
    const out = gateOutcome([finding('SCRIPT_NOT_ALLOWED'), finding('UNSIGNED', 'y')]);
    expect(out.skipped.map((f) => f.code)).toEqual(['SCRIPT_NOT_ALLOWED']);
    expect(out.blocking.map((f) => f.code)).toEqual(['UNSIGNED']);
    expect(out.exitCode).toBe(1);
  });
  it('strict makes a skipped script a block; undecidable is exit 3', () => {
    expect(gateOutcome([finding('SCRIPT_NOT_ALLOWED')], { strictScripts: true }).exitCode).toBe(1);
    expect(gateOutcome([finding('SCRIPT_NOT_ALLOWED')]).exitCode).toBe(0);
    expect(gateOutcome([finding('METADATA_UNAVAILABLE'), finding('UNSIGNED')]).exitCode).toBe(3);
  });
  it('approveCommand lists each package once, pinned', () => {
    expect(approveCommand([finding('SCRIPT_NOT_ALLOWED', 'b'), finding('SCRIPT_NOT_ALLOWED', 'a'), finding('SCRIPT_NOT_ALLOWED', 'b')])).toBe('portcullis approve a@1.0.0 b@1.0.0');
  });
});

describe('planBuilds', () => {
  it('a bundled copy builds only when its bundler is allowed too', () => {
    const impostor = pkg('esbuild', '1.0.0', { id: 'esbuild@1.0.0 (bundled in evil@2.0.0)', inBundle: true, bundledBy: { name: 'evil', version: '2.0.0' }, paths: ['node_modules/evil/node_modules/esbuild'] });
    const evidence = new Map([[impostor.id, post]]);
    expect(planBuilds(policy(['esbuild']), [impostor], evidence)).toEqual([]);
    expect(planBuilds(policy(['esbuild', 'evil']), [impostor], evidence).map((s) => s.path)).toEqual(['node_modules/evil/node_modules/esbuild']);
  });
  it('runs only allowed packages that have something to run, each copy separately', () => {
    const twin1 = pkg('twin', '1.0.0', { paths: ['node_modules/holder/node_modules/twin', 'node_modules/other/node_modules/twin'], dependents: ['holder@1.0.0'] });
    const twin2 = pkg('twin', '2.0.0');
    const clean = pkg('clean', '1.0.0');
    const evil = pkg('evil', '1.0.0');
    const holder = pkg('holder', '1.0.0');
    const scripts = new Map([[twin1.id, post], [twin2.id, post], [clean.id, none], [evil.id, post]]);
    const steps = planBuilds(policy(['twin@1', 'clean']), [clean, evil, holder, twin1, twin2], scripts);
    expect(steps.map((s) => s.path)).toEqual(['node_modules/holder/node_modules/twin', 'node_modules/other/node_modules/twin']);
  });

  it('orders dependencies before dependents, through packages that build nothing, then deepest first', () => {
    const app = pkg('app', '1.0.0');
    const mid = pkg('mid', '1.0.0', { dependents: ['app@1.0.0'] });
    const leaf = pkg('leaf', '1.0.0', { dependents: ['mid@1.0.0'] });
    const deep = pkg('deep', '1.0.0', { paths: ['node_modules/x/node_modules/deep'] });
    const scripts = new Map([[app.id, post], [leaf.id, gyp], [deep.id, post]]);
    const steps = planBuilds(policy(['app', 'leaf', 'deep']), [app, mid, leaf, deep], scripts);
    expect(steps.map((s) => s.name)).toEqual(['deep', 'leaf', 'app']);
  });

  it('survives a dependency cycle', () => {
    const a = pkg('a', '1.0.0', { dependents: ['b@1.0.0'] });
    const b = pkg('b', '1.0.0', { dependents: ['a@1.0.0'], paths: ['node_modules/a/node_modules/b'] });
    const steps = planBuilds(policy(['a', 'b']), [a, b], new Map([[a.id, post], [b.id, post]]));
    expect(steps.map((s) => s.name)).toEqual(['b', 'a']);
  });

  it('runs the user\'s own code (workspaces) without an allow entry', () => {
    const ws = pkg('ws', '1.0.0', { id: 'packages/ws', source: 'workspace', paths: ['node_modules/ws'] });
    expect(planBuilds(policy([]), [ws], new Map([[ws.id, post]]))).toMatchObject([{ name: 'ws', ownCode: true }]);
  });
});
