/**
 * The shape docs/architecture.md describes, checked on the code: rooms of core import only rooms below them, no
 * module circles anywhere, and the surfaces (CLI, npm wrapper, pnpmfile, Yarn plugin, Verdaccio plugin) import only core's public face.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CORE = dirname(fileURLToPath(import.meta.url));
const PACKAGES = resolve(CORE, '..', '..');

/** Core's rooms from the ground floor up; a module may import its own room and rooms before it. */
const ROOMS = ['ground', 'cache', 'advisories', 'policy', 'evaluation', 'lockfile', 'registry', 'signatures', 'provenance', 'report', 'layouts', 'setup', 'decider', 'face'] as const;
const GROUND = ['errors.ts', 'env.ts', 'limits.ts', 'atomic-write.ts', 'read-bounded.ts', 'file-stamp.ts', 'fnv.ts', 'registry-url.ts', 'package-name.ts', 'model.ts', 'finding.ts'];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry === 'node_modules' || entry === 'dist' || entry === 'bundles' || entry === 'fixtures') continue;
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.ts$/.test(entry) && !/\.(test|fixture)\.ts$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every import/export-from specifier of a module (type-only ones included: a type circle is a circle too). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

function localTarget(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
}

function roomOf(file: string): (typeof ROOMS)[number] {
  const rel = relative(CORE, file);
  if (rel === 'index.ts' || rel === 'internal.ts' || rel === 'loader.ts') return 'face';
  if (GROUND.includes(rel)) return 'ground';
  const room = rel.split('/')[0] as (typeof ROOMS)[number];
  if (!ROOMS.includes(room)) throw new Error(`${rel} is in no room: add it to ROOMS or GROUND (and to docs/architecture.md)`);
  return room;
}

function cycles(files: readonly string[]): string[][] {
  const edges = new Map(files.map((f) => [f, specifiers(f).map((s) => localTarget(f, s)).filter((t): t is string => t !== undefined)]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next].map((f) => relative(PACKAGES, f)));
      else if (state.get(next) === undefined && edges.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (state.get(file) === undefined) visit(file);
  return found;
}

describe('architecture', () => {
  const core = sources(CORE);

  it('core rooms import only their own room and the rooms below', () => {
    const upward: string[] = [];
    for (const file of core) {
      const from = ROOMS.indexOf(roomOf(file));
      for (const specifier of specifiers(file)) {
        const target = localTarget(file, specifier);
        if (target === undefined) continue;
        if (ROOMS.indexOf(roomOf(target)) > from) upward.push(`${relative(CORE, file)} → ${relative(CORE, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('no module circles in core or in any surface', () => {
    for (const dir of ['core/src', 'cli/src', 'npm/src', 'pnpm/src', 'yarn-plugin/sources', 'verdaccio/src']) {
      expect({ dir, cycles: cycles(sources(join(PACKAGES, dir))) }).toEqual({ dir, cycles: [] });
    }
  });

  it('surfaces import only core’s public face, never its internals', () => {
    const reaching: string[] = [];
    for (const dir of ['cli/src', 'npm/src', 'pnpm/src', 'yarn-plugin/sources', 'verdaccio/src']) {
      for (const file of sources(join(PACKAGES, dir))) {
        for (const specifier of specifiers(file)) {
          // `@portcullis/core/loader`: the face a loader may use without loading the engine (pnpm's loader.ts, npm's bin.ts).
          if (specifier.startsWith('@portcullis/core') && specifier !== '@portcullis/core' && specifier !== '@portcullis/core/loader') reaching.push(`${relative(PACKAGES, file)}: ${specifier}`);
          const target = localTarget(file, specifier);
          if (target !== undefined && !target.startsWith(join(PACKAGES, dir.split('/')[0]!))) reaching.push(`${relative(PACKAGES, file)}: ${specifier}`);
        }
      }
    }
    expect(reaching).toEqual([]);
  });

  it('the checks read the code (a check that reads nothing would pass for any code)', () => {
    expect(core.length).toBeGreaterThan(40);
    expect(specifiers(join(CORE, 'decider', 'gate.ts'))).toContain('../evaluation/evaluate.js');
    expect(ROOMS.indexOf(roomOf(join(CORE, 'decider', 'gate.ts')))).toBeGreaterThan(ROOMS.indexOf(roomOf(join(CORE, 'evaluation', 'evaluate.ts'))));
  });
});
