#!/usr/bin/env node
// Bare vs guarded installs with the real package managers against the local test registry, on a
// synthetic graph (default 1,000 and 3,000 packages): cold (empty caches, store and lockfile), warm (the
// same install again: lockfile current, node_modules in place, caches full) and frozen (`--frozen-lockfile`
// / `--immutable` / `ci` with node_modules removed, caches full). Bare and guarded alternate in every
// round (A first on even rounds, B first on odd ones); medians, min–max and peak memory. Prints the
// tables and updates the install section of docs/benchmarks.md.
//
// Rounds per size and mode (`--rounds`): by default 5 warm, 3 frozen and 3 cold rounds at 1,000 packages,
// and 3 warm, 1 frozen and 1 cold at 3,000 (a 3,000-package cold round of the six package managers takes
// about four minutes; the one measured cold round is also the install the warm and frozen rounds start from).
// `--runs N` sets every cell to N rounds.
//
//   node bench/install.mjs [--sizes 1000,3000] [--modes cold,warm,frozen]
//                          [--pms pnpm10,pnpm11,pnpm12,yarn,npm11,npm12]
//                          [--rounds '1000:warm=5,frozen=3,cold=3;3000:warm=3,frozen=1,cold=1'] [--runs N]
//                          [--rules-sizes 1000|none] [--rules-rounds 'warm=3,frozen=2,cold=1'] [--no-write]
//
// Trust rules on and off (`--rules-sizes`, default 1,000): at those sizes a third project runs beside the two,
// guarded with provenance required of every package (the graph carries test-Sigstore provenance on every
// version), a 3-day cooldown and an OSV bundle of 100,000 records (none for the graph): the three rotate in the
// first rounds of a cell (`--rules-rounds`), and a second table gives rules on ÷ rules off ÷ bare. `--rules-sizes none`
// leaves it out.
//
// What each pnpmfile hook costs pnpm itself (a no-op control) is bench/pnpm-hooks.mjs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alternate, CLI, discard, loadTestRegistry, machine, max, mb, median, memoryMethod, min, ms, NPM_WRAPPER, parseArgs, PNPMFILE, provenancedGraph, requireBuilt, scratchNote, spread, today, waitUntilSettled, writeSection, YARN_PLUGIN } from './lib.mjs';
import { createProject, rulesMaterial, timedInstall } from './projects.mjs';

const args = parseArgs();
const SIZES = args.list('--sizes', ['1000', '3000']).map(Number);
const PMS = args.list('--pms', ['pnpm10', 'pnpm11', 'pnpm12', 'yarn', 'npm11', 'npm12']);
const MODES = args.list('--modes', ['cold', 'warm', 'frozen']);
const WRITE = !args.flag('--no-write');
const SEED = 2026;
const TARGET = { cold: 1.1, warm: 1.05, frozen: 1.05 };
const RULES_SIZES = args.list('--rules-sizes', ['1000']).filter((x) => x !== 'none').map(Number);
// Rounds of the rules-on project per mode (at most the cell's rounds): the first rounds of a cell run all three projects.
const RULES_ROUNDS = Object.fromEntries(args.string('--rules-rounds', 'warm=3,frozen=2,cold=1').split(',').map((m) => m.split('=')).map(([mode, n]) => [mode, Math.max(1, Number(n))]));

/** `runs` rounds of every project; the last one (rules on) only in the first `lastRuns` rounds; the order rotating each round. */
async function rounds(runs, lastRuns, fns) {
  const out = fns.map(() => []);
  for (let round = 0; round < runs; round++) {
    const present = round < lastRuns ? fns.length : fns.length - 1;
    for (let k = 0; k < present; k++) {
      const i = (k + round) % present;
      out[i].push(await fns[i](round));
    }
  }
  return out;
}

/** `size:mode=rounds,...;size:...` → rounds of one cell; sizes not listed take the rounds of the largest listed size below them (else the smallest). */
function parseRounds(spec) {
  const table = new Map();
  for (const part of spec.split(';').filter(Boolean)) {
    const [size, modes] = part.split(':');
    table.set(Number(size), Object.fromEntries(modes.split(',').map((m) => m.split('=')).map(([mode, n]) => [mode, Math.max(1, Number(n))])));
  }
  const sizes = [...table.keys()].sort((a, b) => a - b);
  return (size, mode) => {
    const key = sizes.filter((s) => s <= size).at(-1) ?? sizes[0];
    return table.get(key)?.[mode] ?? 1;
  };
}
const FIXED_RUNS = args.number('--runs', undefined);
const roundsOf = FIXED_RUNS !== undefined ? () => Math.max(1, FIXED_RUNS) : parseRounds(args.string('--rounds', '1000:warm=5,frozen=3,cold=3;3000:warm=3,frozen=1,cold=1'));

requireBuilt(CLI, NPM_WRAPPER, PNPMFILE, YARN_PLUGIN);

const label = (p) => (p.kind === 'npm' ? `npm ${p.tool.version}` : p.kind === 'yarn' ? `Yarn ${p.tool.version}` : `pnpm ${p.tool.version}`);
const modeLabel = { cold: 'cold', warm: 'warm (repeat install)', frozen: { pnpm: 'frozen (`--frozen-lockfile`)', yarn: 'frozen (`--immutable`)', npm: 'frozen (`ci`)' } };

const started = Date.now();
const { startRegistry, syntheticGraph, testTrustedRoot } = await loadTestRegistry();
const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-install-'));
const results = [];
const versions = new Map();
/** Where the wall time went: measured installs by side, and the unmeasured ones a mode starts from (ms). */
const spent = { bare: 0, guarded: 0, rules: 0, unmeasured: 0 };
const unmeasured = async (p, mode) => {
  spent.unmeasured += (await timedInstall(p, mode)).ms;
};
try {
  for (const size of SIZES) {
    // Every package in @bench with provenance on every version (the rules-on project requires it; the others see an ordinary graph).
    const graph = provenancedGraph(syntheticGraph({ packages: size, seed: SEED }));
    const registry = await startRegistry({ packages: graph.packages });
    const withRules = RULES_SIZES.includes(size);
    // Every bundle made now (the registry makes them on first request), so no measured run pays for the test Sigstore.
    if (withRules) for (const spec of graph.packages) if (!registry.attestations(spec.name, spec.version)) throw new Error(`no provenance served for ${spec.name}@${spec.version}`);
    const material = withRules ? rulesMaterial(join(work, `${size}`, 'rules-material'), testTrustedRoot) : null;
    try {
      for (const pm of PMS) {
        const bare = await createProject(join(work, `${size}`, pm, 'bare'), pm, registry, graph.dependencies, false);
        const guarded = await createProject(join(work, `${size}`, pm, 'guarded'), pm, registry, graph.dependencies, true);
        const ruled = withRules ? await createProject(join(work, `${size}`, pm, 'rules'), pm, registry, graph.dependencies, true, material) : null;
        versions.set(pm, label(bare));
        const modes = MODES;
        const projects = [bare, guarded, ...(ruled ? [ruled] : [])];
        // warm and frozen need a lockfile and full caches: one unmeasured install each when cold is not measured.
        if (!modes.includes('cold')) for (const p of projects) await unmeasured(p, 'cold');
        let settled = false;
        for (const mode of modes) {
          if (mode === 'cold') settled = false;
          // A repeat install is the steady state: the first one after the cold install still decides what the cold
          // one left undecided (the lockfile it wrote), so it is run once, unmeasured, for every project — otherwise
          // a mode measured in one round (the rules-on project) would time that first decision instead.
          // Once after the install that wrote the files (lib.mjs waitUntilSettled).
          if (mode !== 'cold' && !settled && (bare.kind === 'npm' || pm === 'pnpm12')) {
            await waitUntilSettled();
            settled = true;
          }
          // pnpm 12's loader records updateConfig's answer per command line: a frozen install's first answer is decided.
          if (mode === 'warm' || (mode === 'frozen' && pm === 'pnpm12')) for (const p of projects) await unmeasured(p, mode);
          let b, g, r;
          if (ruled) {
            registry.requests.length = 0;
            [b, g, r] = await rounds(roundsOf(size, mode), Math.min(roundsOf(size, mode), RULES_ROUNDS[mode] ?? 1), projects.map((p) => () => timedInstall(p, mode)));
            // The rules ran: a cold install with provenance required asks for every package's attestations.
            const asked = registry.requests.filter((q) => q.path.startsWith('/-/npm/v1/attestations/')).length;
            if (mode === 'cold' && asked < graph.names.length) throw new Error(`${pm} cold with provenance required asked for ${asked} attestations (${graph.names.length} names)`);
          } else {
            [b, g] = await alternate(roundsOf(size, mode), () => timedInstall(bare, mode), () => timedInstall(guarded, mode));
          }
          const row = { size, pm, label: label(bare), kind: bare.kind, mode, bare: b, guarded: g, ratios: b.map((x, i) => g[i].ms / x.ms), ...(r ? { rules: r } : {}) };
          for (const [side, xs] of [['bare', b], ['guarded', g], ['rules', r ?? []]]) spent[side] += xs.reduce((sum, x) => sum + x.ms, 0);
          results.push(row);
          const ratio = median(g.map((x) => x.ms)) / median(b.map((x) => x.ms));
          process.stdout.write(`${size} ${label(bare)} ${mode}: bare ${ms(median(b.map((x) => x.ms)))} ms, guarded ${ms(median(g.map((x) => x.ms)))} ms, ratio ${ratio.toFixed(2)}${r ? `; rules on ${ms(median(r.map((x) => x.ms)))} ms (${(median(r.map((x) => x.ms)) / median(g.map((x) => x.ms))).toFixed(2)} of rules off)` : ''}; peak ${mb(median(b.map((x) => x.rssMB)))} / ${mb(median(g.map((x) => x.rssMB)))} MB\n`);
        }
        discard(join(work, `${size}`, pm));
      }
    } finally {
      await registry.close();
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const installed = new Map();
const lines = [];
for (const size of SIZES) {
  lines.push(`### ${size.toLocaleString('en-US')} packages`, '');
  lines.push('| package manager | mode | rounds | bare ms, median (min–max) | guarded ms, median (min–max) | guarded/bare | per-round ratios | target | peak MB bare → guarded (extra) |');
  lines.push('|---|---|---:|---:|---:|---:|---|---|---:|');
  for (const r of results.filter((x) => x.size === size)) {
    const bm = r.bare.map((x) => x.ms);
    const gm = r.guarded.map((x) => x.ms);
    const ratio = median(gm) / median(bm);
    const target = TARGET[r.mode];
    const verdict = `≤ ${target.toFixed(2)}: **${ratio <= target ? 'met' : 'missed'}**`;
    const mBare = median(r.bare.map((x) => x.rssMB));
    const mGuarded = median(r.guarded.map((x) => x.rssMB));
    const mode = typeof modeLabel[r.mode] === 'string' ? modeLabel[r.mode] : modeLabel[r.mode][r.kind];
    lines.push(`| ${r.label} | ${mode} | ${bm.length} | ${ms(median(bm))} (${spread(bm)}) | ${ms(median(gm))} (${spread(gm)}) | **${ratio.toFixed(2)}** | ${min(r.ratios).toFixed(2)}–${max(r.ratios).toFixed(2)} | ${verdict} | ${mb(mBare)} → ${mb(mGuarded)} (${mGuarded - mBare >= 0 ? '+' : ''}${mb(mGuarded - mBare)}) |`);
    installed.set(size, true);
  }
  lines.push('');
  const ruled = results.filter((x) => x.size === size && x.rules);
  if (ruled.length > 0) {
    lines.push(`#### Trust rules on and off, ${size.toLocaleString('en-US')} packages`, '');
    lines.push('Rules off: the guarded project above (the default policy: registry signatures, scripts, provenance no-downgrade). Rules on: the same plus provenance required of every package (`@bench/*`, the test Sigstore\'s trusted root), `cooldown.minimumReleaseAge: "3d"` (every version was published months ago) and `advisories.osv` with a bundle of 100,000 records naming none of the graph\'s packages. The three projects ran in the same rounds, the order rotating; the rules-on project only in the first rounds of a cell (the rounds column); every time and ratio here is over those rounds only.', '');
    lines.push('| package manager | mode | rounds | bare ms, median | rules off ms | rules on ms | off/bare | on/bare | on/off | peak MB off → on |');
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of ruled) {
      // Ratios over the rounds the rules-on project ran in (the same rounds for all three).
      const n = r.rules.length;
      const [b, g, o] = [r.bare.slice(0, n), r.guarded.slice(0, n), r.rules].map((xs) => median(xs.map((x) => x.ms)));
      const mode = typeof modeLabel[r.mode] === 'string' ? modeLabel[r.mode] : modeLabel[r.mode][r.kind];
      lines.push(`| ${r.label} | ${mode} | ${r.rules.length} | ${ms(b)} | ${ms(g)} | ${ms(o)} | ${(g / b).toFixed(2)} | **${(o / b).toFixed(2)}** | ${(o / g).toFixed(2)} | ${mb(median(r.guarded.map((x) => x.rssMB)))} → ${mb(median(r.rules.map((x) => x.rssMB)))} |`);
    }
    lines.push('');
  }
}
/** The wall time, split: what the bare package managers took alone bounds how short this script can be. */
function wallTime() {
  const total = (Date.now() - started) / 1000;
  const s = (x) => `${(x / 1000).toFixed(0)} s`;
  const setup = total * 1000 - spent.bare - spent.guarded - spent.rules - spent.unmeasured;
  return [
    `Wall time of this script: ${total.toFixed(0)} s. Measured installs: bare ${s(spent.bare)}, guarded ${s(spent.guarded)}${spent.rules > 0 ? `, rules on ${s(spent.rules)}` : ''}; unmeasured installs a mode starts from (the steady state of a warm install, or a lockfile when cold is not measured) ${s(spent.unmeasured)}; graph, registry, provenance bundles, project set-up and resets ${s(Math.max(0, setup))}.`,
    `The bare package managers' own installs alone took ${(spent.bare / 60_000).toFixed(1)} minutes of it (${Math.round(spent.bare / 12_000)} % of the 20-minute budget of the whole bench), the guarded ones with the rules off ${(spent.guarded / 60_000).toFixed(1)} minutes.`,
  ].join('\n');
}

const body = [
  '## Installs: bare vs guarded',
  '',
  `\`node bench/install.mjs\` (measured ${today()}). Synthetic graph (seed ${SEED}: layered depth, ~20 % of names in two majors, ~3 % with a postinstall, all signed, every name moved into the scope \`@bench\` and every version with a test-Sigstore provenance bundle) served by the test registry on 127.0.0.1.`,
  `Bare: the package manager alone (npm with \`ignore-scripts=true\` in .npmrc, as after \`portcullis init npm\`; pnpm with \`strict-dep-builds=false\`, which the pnpmfile also sets). Guarded: the same command with Portcullis set up as a user does (\`portcullis init pnpm\` / \`portcullis init yarn\`; \`portcullis-npm\` for npm), policy allowing no builds. Both skip the same builds.`,
  '**cold**: no lockfile, no node_modules, empty store/caches (and empty Portcullis metadata cache); **warm**: the same install again, nothing changed; **frozen**: node_modules removed, lockfile and caches full.',
  `Rounds per cell in the table (bare and guarded alternating in every round, or the three projects rotating where rules on/off are measured; a 3,000-package cold install takes one round to keep the whole bench near its 20-minute budget, and so may a frozen one when \`--rounds\` says so: a single round is a spot value, not a median). Ratio = guarded median / bare median. Peak memory: ${memoryMethod}, medians.`,
  `Machine: ${machine()}. ${[...versions.values()].join(', ')} (pnpm 11 and npm 12 on Node 24, which they require; the rest, and \`portcullis-npm\` in front of npm 11, on the Node above). ${scratchNote()}`,
  '',
  ...lines,
  wallTime(),
].join('\n');
process.stdout.write(`\n${body}\n`);
if (WRITE) writeSection('install', body);
export {};
