import { describe, expect, it } from 'vitest';
import { packFixture, type FixtureSpec } from './fixtures.js';
import { demo, demoDependencies, syntheticGraph } from './sets.js';

describe('demo set', () => {
  it('packs, and covers every situation the demo shows', () => {
    const packed = demo.map(packFixture);
    const byName = (name: string) => packed.filter((p) => p.name === name);
    expect(byName('evil-postinstall')[0]!.manifest.hasInstallScript).toBe(true);
    expect(byName('native-addon')[0]!.manifest.gypfile).toBe(true);
    expect(byName('unsigned-lib')[0]!.signature).toBe('none');
    expect(byName('tampered-lib')[0]!.signature).toBe('corrupt');
    expect(byName('rogue-signed')[0]!.signature).toBe('unknown-key');
    expect(byName('@acme/logger')[0]!.manifest.dependencies).toHaveProperty('left-pad-lite');
    for (const name of Object.keys(demoDependencies)) expect(byName(name).length, name).toBeGreaterThan(0);
  });
});

describe('syntheticGraph', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = syntheticGraph({ packages: 200, seed: 7 });
    expect(syntheticGraph({ packages: 200, seed: 7 })).toEqual(a);
    expect(syntheticGraph({ packages: 200, seed: 8 })).not.toEqual(a);
  });

  it('has a realistic shape: scoped names, duplicated majors, depth, a few install scripts', () => {
    const { packages, dependencies } = syntheticGraph({ packages: 1000, seed: 1 });
    expect(packages.length).toBeGreaterThan(980);
    expect(packages.length).toBeLessThanOrEqual(1000);
    const names = new Set(packages.map((p) => p.name));
    expect(names.size).toBeLessThan(packages.length); // some names in two majors
    expect([...names].filter((n) => n.startsWith('@')).length).toBeGreaterThan(50);
    const scripted = packages.filter((p) => p.scripts?.postinstall).length;
    expect(scripted).toBeGreaterThanOrEqual(20);
    expect(scripted).toBeLessThanOrEqual(40);
    expect(Object.keys(dependencies).length).toBeGreaterThan(10);
    for (const spec of packages) packFixture(spec); // every spec is valid

    // Every version is reachable from the root dependencies, and the graph has depth.
    const byId = new Map(packages.map((p) => [`${p.name}@${p.version}`, p]));
    const resolve = (name: string, range: string) => byId.get(`${name}@${range.slice(1)}`)!;
    const depth = new Map<string, number>();
    const queue: Array<[FixtureSpec, number]> = Object.entries(dependencies).map(([name, range]) => [resolve(name, range), 1]);
    for (let i = 0; i < queue.length; i++) {
      const [spec, d] = queue[i]!;
      const id = `${spec.name}@${spec.version}`;
      if (depth.has(id)) continue;
      depth.set(id, d);
      for (const [name, range] of Object.entries(spec.dependencies ?? {})) queue.push([resolve(name, range), d + 1]);
    }
    expect(depth.size).toBe(packages.length);
    expect(Math.max(...depth.values())).toBeGreaterThanOrEqual(5);
  });

  it('rejects nonsense sizes', () => {
    expect(() => syntheticGraph({ packages: 0, seed: 1 })).toThrow();
  });
});
