import { describe, expect, it } from 'vitest';
import type { PackageNode } from '../model.js';
import { parsePolicy } from '../policy/load.js';
import { planBuilds } from './build-plan.js';
import type { ScriptEvidence } from './evidence.js';

function pkg(name: string, version: string, extra: Partial<PackageNode> = {}): PackageNode {
  return { id: `${name}@${version}`, name, version, source: 'registry', registry: 'https://r.example/', aliases: [], paths: [`node_modules/${name}`], dependents: ['.'], ...extra };
}
const post: ScriptEvidence = { hasInstallScript: true, scripts: ['postinstall'], bindingGyp: false, source: 'installed' };
const gyp: ScriptEvidence = { hasInstallScript: false, scripts: [], bindingGyp: true, source: 'installed' };
const none: ScriptEvidence = { hasInstallScript: false, scripts: [], bindingGyp: false, source: 'installed' };
const policy = (allow: string[]) => parsePolicy(JSON.stringify({ scripts: { allow } }), '/p/portcullis.json');

describe('planBuilds', () => {
  it('a bundled copy builds only when its bundler is allowed too', () => {
    const impostor = pkg('esbuild', '1.0.0', { id: 'esbuild@1.0.0 (bundled in evil@2.0.0)', inBundle: true, bundledBy: { name: 'evil', version: '2.0.0' }, paths: ['node_modules/evil/node_modules/esbuild'] });
    const evidence = new Map([[impostor.id, post]]);
    expect(planBuilds(policy(['esbuild']), [impostor], evidence)).toEqual([]);
    expect(planBuilds(policy(['esbuild', 'evil']), [impostor], evidence).map((s) => [s.path, s.inBundle])).toEqual([['node_modules/evil/node_modules/esbuild', true]]);
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

describe('planBuilds order on random graphs', () => {
  /** The straightforward quadratic Kahn's algorithm planBuilds used to run: the reference order. */
  function referenceOrder(packages: PackageNode[]): string[] {
    const byId = new Map(packages.map((p) => [p.id, p]));
    const dependenciesOf = new Map<string, Set<string>>();
    for (const p of packages) {
      for (const dependent of p.dependents) {
        if (!byId.has(dependent)) continue;
        let set = dependenciesOf.get(dependent);
        if (set === undefined) dependenciesOf.set(dependent, (set = new Set()));
        if (dependent !== p.id) set.add(p.id);
      }
    }
    const depthOf = (p: PackageNode) => Math.max(0, ...p.paths.map((path) => path.split('node_modules/').length - 1));
    const before = (a: PackageNode, b: PackageNode) => depthOf(b) - depthOf(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const remaining = new Map(packages.map((p) => [p.id, dependenciesOf.get(p.id)?.size ?? 0]));
    const dependentsOf = new Map<string, string[]>();
    for (const [id, deps] of dependenciesOf) for (const dep of deps) dependentsOf.set(dep, [...(dependentsOf.get(dep) ?? []), id]);
    const order: string[] = [];
    const done = new Set<string>();
    while (done.size < packages.length) {
      const ready = packages.filter((p) => !done.has(p.id) && remaining.get(p.id) === 0).sort(before);
      const next = ready[0] ?? packages.filter((p) => !done.has(p.id)).sort(before)[0]!;
      done.add(next.id);
      order.push(next.id);
      for (const dependent of dependentsOf.get(next.id) ?? []) remaining.set(dependent, (remaining.get(dependent) ?? 1) - 1);
    }
    return order;
  }

  it('builds in the same order as the reference algorithm (DAGs and cycles, nested copies)', async () => {
    const fc = await import('fast-check');
    const graph = fc.integer({ min: 1, max: 25 }).chain((n) =>
      fc.record({
        n: fc.constant(n),
        edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: n * 3 }),
        depths: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: n, maxLength: n }),
      }),
    );
    fc.assert(
      fc.property(graph, ({ n, edges, depths }) => {
        const packages = Array.from({ length: n }, (_, i) =>
          pkg(`p${i}`, '1.0.0', { paths: [Array.from({ length: depths[i]! }, (_, d) => `node_modules/p${i}x${d}`).join('/')], dependents: ['.'] }),
        );
        // edge [a, b]: a depends on b, so b lists a among its dependents
        for (const [a, b] of edges) packages[b]!.dependents.push(packages[a]!.id);
        const evidence = new Map(packages.map((p) => [p.id, post]));
        const planned = planBuilds(policy(packages.map((p) => p.name)), packages, evidence).map((s) => s.id);
        expect(planned).toEqual(referenceOrder(packages));
      }),
      { numRuns: 300 },
    );
  });
});
