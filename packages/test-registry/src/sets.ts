/**
 * Named fixture sets (served by `dist/serve.js --fixtures <set>`) and a deterministic generator of
 * large, realistic dependency graphs for benchmarks.
 */
import { cleanPackage, fakeNodeGyp, withBindingGyp, withPostinstall, type FixtureSpec } from './fixtures.js';
import type { ProvenanceSpec } from './sigstore.js';

/**
 * The demo: one package per situation the product decides on, with names that read well on screen.
 * - `left-pad-lite`, `@acme/logger` (depends on it), `tiny-colors`: clean, signed by the active key
 * - `evil-postinstall`: a postinstall that writes a marker (must be blocked)
 * - `native-addon`: only a `binding.gyp` (implicit `node-gyp rebuild`)
 * - `fast-compiler`: a postinstall the demo's policy allows (like esbuild)
 * - `unsigned-lib`: no signature; `tampered-lib`: signature that does not verify;
 *   `rogue-signed`: signed by a key the registry does not publish;
 *   `legacy-signed`: expired key, published before expiry (valid) in 1.0.0 and after it (invalid) in 1.1.0
 * - `node-gyp`: a stand-in Yarn resolves as the implicit dependency of `native-addon`
 */
export const demo: FixtureSpec[] = [
  cleanPackage('left-pad-lite', '1.0.0', { files: { 'index.js': "module.exports = (s, n, c = ' ') => String(s).padStart(n, c);\n" } }),
  cleanPackage('left-pad-lite', '1.1.0', { files: { 'index.js': "module.exports = (s, n, c = ' ') => String(s).padStart(n, c);\n" } }),
  cleanPackage('tiny-colors', '0.4.2'),
  cleanPackage('@acme/logger', '2.1.0', { dependencies: { 'left-pad-lite': '^1.0.0', 'tiny-colors': '^0.4.0' } }),
  withPostinstall('evil-postinstall', '1.0.0'),
  withBindingGyp('native-addon', '1.0.0'),
  withPostinstall('fast-compiler', '3.2.0', { bin: { 'fast-compiler': 'bin/fast-compiler.js' } }),
  cleanPackage('unsigned-lib', '1.0.0', { signature: 'none' }),
  cleanPackage('tampered-lib', '1.0.0', { signature: 'corrupt' }),
  cleanPackage('rogue-signed', '1.0.0', { signature: 'unknown-key' }),
  cleanPackage('legacy-signed', '1.0.0', { signature: 'expired-key', publishedAt: '2024-05-01T10:00:00.000Z' }),
  cleanPackage('legacy-signed', '1.1.0', { signature: 'expired-key', publishedAt: '2025-06-01T10:00:00.000Z' }),
  fakeNodeGyp(),
];

/** The root dependencies of a project that installs the whole demo set. */
export const demoDependencies: Record<string, string> = {
  '@acme/logger': '^2.1.0',
  'evil-postinstall': '1.0.0',
  'native-addon': '1.0.0',
  'fast-compiler': '^3.2.0',
  'unsigned-lib': '1.0.0',
  'tampered-lib': '1.0.0',
  'rogue-signed': '1.0.0',
  'legacy-signed': '1.0.0',
};

/**
 * The GitHub Actions identity of `github.com/acme/widget`'s release workflow for a tag (`v<version>`),
 * with any field overridden (e.g. `{ repository: 'github.com/evil/widget' }` or `{ tamper: 'digest' }`).
 */
export function acmeWidgetProvenance(version: string, overrides: Partial<ProvenanceSpec> = {}): ProvenanceSpec {
  return {
    repository: 'github.com/acme/widget',
    repositoryId: '123',
    ownerId: '456',
    workflow: '.github/workflows/release.yml',
    ref: `refs/tags/v${version}`,
    trigger: 'push',
    runnerEnvironment: 'github-hosted',
    ...overrides,
  };
}

/**
 * Provenance: every version has a postinstall that writes its marker (`acme-widget@1.0.0.ran`), so a test
 * sees whether it was installed and built.
 * - `acme-widget`, release line 1: `1.0.0` and `1.1.0` with verified provenance from `github.com/acme/widget`
 *   (workflow `.github/workflows/release.yml`, ref `refs/tags/v<version>`); `1.2.0` without provenance
 *   (a downgrade); `1.3.0` with provenance from `github.com/evil/widget` (repository id 666, owner id 667:
 *   another source repository, also a downgrade).
 * - `acme-widget` `0.9.0`, `0.9.1` (line 0.9) and `2.0.0` (line 2, `latest`): never had provenance, so not a downgrade.
 * - `@acme/widget` `1.0.0`: scoped, provenance from `github.com/acme/widget`.
 */
export const provenanceSet: FixtureSpec[] = [
  withPostinstall('acme-widget', '0.9.0'),
  withPostinstall('acme-widget', '0.9.1'),
  withPostinstall('acme-widget', '1.0.0', { provenance: acmeWidgetProvenance('1.0.0') }),
  withPostinstall('acme-widget', '1.1.0', { provenance: acmeWidgetProvenance('1.1.0') }),
  withPostinstall('acme-widget', '1.2.0'),
  withPostinstall('acme-widget', '1.3.0', { provenance: acmeWidgetProvenance('1.3.0', { repository: 'github.com/evil/widget', repositoryId: '666', ownerId: '667' }) }),
  withPostinstall('acme-widget', '2.0.0'),
  withPostinstall('@acme/widget', '1.0.0', { provenance: acmeWidgetProvenance('1.0.0') }),
];

/** Every named set, for `serve.js --fixtures <name>`. */
export const fixtureSets: Record<string, FixtureSpec[]> = { demo, provenance: provenanceSet, empty: [] };

/** A generated graph: every version to serve, and the root dependencies that install all of them. */
export interface SyntheticGraph {
  packages: FixtureSpec[];
  dependencies: Record<string, string>;
}

/** mulberry32: a tiny seeded PRNG, so a seed always gives the same graph. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['array', 'async', 'buffer', 'cache', 'color', 'config', 'date', 'debug', 'diff', 'event', 'fetch', 'glob', 'hash', 'http', 'json', 'lodash', 'log', 'merge', 'mime', 'parse', 'path', 'query', 'retry', 'semver', 'stream', 'string', 'tar', 'text', 'url', 'uuid', 'watch', 'yaml'];
const SUFFIXES = ['lite', 'utils', 'core', 'kit', 'tools', 'plus', 'fast', 'compat', 'shim', 'polyfill'];
const SCOPES = ['@acme', '@corp', '@oss', '@labs'];

/**
 * A realistic graph of `packages` versions (each installed by the returned root dependencies):
 * layered depth, ~20% of names published in two majors (both installed: duplication), ~15% scoped,
 * ~3% with a postinstall (at least one), all validly signed. Deterministic for a given seed.
 */
export function syntheticGraph(opts: { packages: number; seed: number }): SyntheticGraph {
  const total = Math.floor(opts.packages);
  if (!Number.isFinite(total) || total < 1) throw new Error('syntheticGraph needs packages >= 1');
  const rand = random(opts.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

  // Names in topological order: dependencies only point to later names, so the graph is acyclic.
  interface Slot { name: string; version: string; major: number; nameIndex: number; dependencies: Record<string, string> }
  const names: string[] = [];
  const slotsByName: Slot[][] = [];
  const used = new Set<string>();
  const indexOfName = new Map<string, number>();
  // The first names are root dependencies: one major each, since a root can depend on only one.
  const rootCount = Math.max(1, Math.round(total / 15));
  let count = 0;
  while (count < total) {
    let name = `${pick(WORDS)}-${pick(SUFFIXES)}`;
    if (rand() < 0.15) name = `${pick(SCOPES)}/${name}`;
    for (let n = 2; used.has(name); n++) name = `${name.replace(/-\d+$/, '')}-${n}`;
    used.add(name);
    const majors = names.length >= rootCount && rand() < 0.2 && total - count >= 2 ? [1 + Math.floor(rand() * 3), 0] : [1 + Math.floor(rand() * 5)];
    if (majors.length === 2) majors[1] = majors[0]! + 1;
    const nameIndex = names.length;
    indexOfName.set(name, nameIndex);
    names.push(name);
    slotsByName.push(majors.map((major) => ({ name, major, nameIndex, version: `${major}.${Math.floor(rand() * 10)}.${Math.floor(rand() * 20)}`, dependencies: {} })));
    count += majors.length;
  }

  const rangeOf = (slot: Slot) => `^${slot.version}`;
  // Forward dependencies: more for packages near the top, none for the last names (leaves).
  for (const slots of slotsByName) {
    for (const slot of slots) {
      const later = names.length - slot.nameIndex - 1;
      const wanted = Math.min(later, Math.floor(rand() * rand() * 6));
      for (let i = 0; i < wanted; i++) {
        // Prefer near names, which gives depth rather than a flat fan-out.
        const target = slot.nameIndex + 1 + Math.floor(rand() * rand() * later);
        const dep = pick(slotsByName[target]!);
        if (!(dep.name in slot.dependencies)) slot.dependencies[dep.name] = rangeOf(dep);
      }
    }
  }

  // Make every version reachable from the root: an unreached one gets a parent before it, or the root.
  const root: Record<string, string> = {};
  const reached = new Set<Slot>();
  const reach = (slot: Slot) => {
    if (reached.has(slot)) return;
    reached.add(slot);
    for (const [depName, range] of Object.entries(slot.dependencies)) {
      const dep = slotsByName[indexOfName.get(depName)!]!.find((s) => rangeOf(s) === range)!;
      reach(dep);
    }
  };
  for (let i = 0; i < Math.min(rootCount, names.length); i++) {
    const slot = slotsByName[i]!.at(-1)!;
    root[slot.name] = rangeOf(slot);
    reach(slot);
  }
  for (const slots of slotsByName) {
    for (const slot of slots) {
      if (reached.has(slot)) continue;
      const parents = [...reached].filter((p) => p.nameIndex < slot.nameIndex && !(slot.name in p.dependencies));
      if (parents.length) pick(parents).dependencies[slot.name] = rangeOf(slot);
      else if (!(slot.name in root)) root[slot.name] = rangeOf(slot);
      else continue; // practically never: left out of the output below
      reach(slot);
    }
  }

  const all = slotsByName.flat().filter((slot) => reached.has(slot));
  const scripted = new Set<Slot>();
  const scriptCount = Math.max(1, Math.round(all.length * 0.03));
  while (scripted.size < Math.min(scriptCount, all.length)) scripted.add(pick(all));
  return {
    packages: all.map((slot) => {
      const opts = Object.keys(slot.dependencies).length ? { dependencies: slot.dependencies } : {};
      return scripted.has(slot) ? withPostinstall(slot.name, slot.version, opts) : cleanPackage(slot.name, slot.version, opts);
    }),
    dependencies: root,
  };
}
