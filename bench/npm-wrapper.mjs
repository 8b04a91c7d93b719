#!/usr/bin/env node
// What `portcullis-npm` adds to npm, apart from being a process of its own: bare npm, the no-op control (a Node
// process that runs npm with the same arguments and decides nothing: bench/npm-noop-wrapper.cjs, run on the same bare
// project), the floor of a gate that vouches for what npm installed (the no-op control, then the installed copies'
// stat after npm, or their package.json read when too fresh for a stat: bench/npm-floor-wrapper.cjs, on the same bare
// project) and `portcullis-npm`, in a warm repeat install (lockfile current, node_modules in place, caches full) and
// `npm ci` (node_modules removed, caches full), against the local test registry. The order rotates every round;
// medians. Prints a markdown table and updates the npm-wrapper section of docs/benchmarks.md.
//
//   node bench/npm-wrapper.mjs [--packages 1000] [--runs 5] [--ci-runs 3] [--npm 11,12] [--no-write]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discard, loadTestRegistry, machine, median, ms, NPM_WRAPPER, parseArgs, requireBuilt, rotate, scratchNote, spread, today, waitUntilSettled, writeSection } from './lib.mjs';
import { createProject, npmControlOf, timedInstall } from './projects.mjs';

const args = parseArgs();
const PACKAGES = args.number('--packages', 1000);
const RUNS = Math.max(1, args.number('--runs', 5));
const CI_RUNS = Math.max(1, args.number('--ci-runs', 3));
const MAJORS = args.list('--npm', ['11', '12']).map(Number);
const WRITE = !args.flag('--no-write');
const SEED = 2026;
const TARGET = 1.05;
requireBuilt(NPM_WRAPPER);

const { startRegistry, syntheticGraph } = await loadTestRegistry();
const graph = syntheticGraph({ packages: PACKAGES, seed: SEED });
const registry = await startRegistry({ packages: graph.packages });
const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-npm-'));
const rows = [];
const versions = [];
try {
  for (const major of MAJORS) {
    const pm = `npm${major}`;
    const bare = await createProject(join(work, pm, 'bare'), pm, registry, graph.dependencies, false);
    const guarded = await createProject(join(work, pm, 'guarded'), pm, registry, graph.dependencies, true);
    const control = npmControlOf(bare);
    const floor = npmControlOf(bare, 'floor');
    versions.push(`npm ${bare.tool.version}`);
    // A lockfile and full caches for both folders, then the steady state of a repeat install (unmeasured).
    for (const p of [bare, guarded]) await timedInstall(p, 'cold');
    await waitUntilSettled();
    for (const p of [bare, guarded]) await timedInstall(p, 'warm');
    for (const [mode, runs] of [['warm', RUNS], ['frozen', CI_RUNS]]) {
      const [b, c, f, g] = await rotate(runs, [bare, control, floor, guarded].map((p) => () => timedInstall(p, mode)));
      const row = { label: `npm ${bare.tool.version}`, mode, bare: b.map((x) => x.ms), control: c.map((x) => x.ms), floor: f.map((x) => x.ms), guarded: g.map((x) => x.ms) };
      rows.push(row);
      const [mb, mc, mf, mg] = [row.bare, row.control, row.floor, row.guarded].map(median);
      process.stdout.write(`${row.label} ${mode}: bare ${ms(mb)} ms, control ${ms(mc)} ms, floor ${ms(mf)} ms, portcullis-npm ${ms(mg)} ms; ÷ bare ${(mg / mb).toFixed(2)}, ÷ control ${(mg / mc).toFixed(2)}, ÷ floor ${(mg / mf).toFixed(2)}\n`);
    }
    discard(join(work, pm));
  }

  const modeLabel = { warm: 'warm (repeat install)', frozen: '`ci`' };
  const table = [
    `Project: ${PACKAGES.toLocaleString('en-US')} packages (synthetic graph, seed ${SEED}), \`ignore-scripts=true\` in .npmrc, npm's cache full. **warm**: \`install\` again, lockfile current and node_modules in place; **\`ci\`**: node_modules removed first. Bare: npm alone. Control: the same bare project through a no-op wrapper (\`bench/npm-noop-wrapper.cjs\`: a Node process that runs npm with the same arguments and exits with its code, deciding nothing) — what any wrapper in a process of its own costs. Floor: the same bare project through the no-op wrapper that, once npm has ended, stats each installed copy's \`package.json\` and \`binding.gyp\` at the paths \`package-lock.json\` names, and reads every \`package.json\` when one changed less than 3 s before (after \`ci\`, all of them), as \`portcullis-npm\` does (\`bench/npm-floor-wrapper.cjs\`) — what any gate that vouches for the installed files before a script may run costs at least, deciding nothing. \`portcullis-npm\`: its own project, policy allowing no builds. ${RUNS} warm and ${CI_RUNS} \`ci\` rounds, the order rotating each round; medians.`,
    `Machine: ${machine()}. ${versions.join(', ')} (npm 12 on Node 24, which it requires; npm 11 and its wrappers on the Node above). ${scratchNote()}`,
    '',
    '| npm | mode | bare ms, median (min–max) | control ms | floor ms | `portcullis-npm` ms | control ÷ bare | floor ÷ control | `portcullis-npm` ÷ bare | `portcullis-npm` ÷ control | `portcullis-npm` ÷ floor |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const [mb, mc, mf, mg] = [r.bare, r.control, r.floor, r.guarded].map(median);
      return `| ${r.label} | ${modeLabel[r.mode]} | ${ms(mb)} (${spread(r.bare)}) | ${ms(mc)} (${spread(r.control)}) | ${ms(mf)} (${spread(r.floor)}) | ${ms(mg)} (${spread(r.guarded)}) | ${(mc / mb).toFixed(2)} | ${(mf / mc).toFixed(2)} | **${(mg / mb).toFixed(2)}** | **${(mg / mc).toFixed(2)}** (≤ ${TARGET.toFixed(2)}: ${mg / mc <= TARGET ? 'met' : 'missed'}) | ${(mg / mf).toFixed(2)} |`;
    }),
    '',
    "The control is what any wrapper that is a command of its own costs (`portcullis-npm` is one by the product's contract): Node's start, the spawn and the wait. What `portcullis-npm` adds beyond it: the decision on the lockfile (remembered), npm's start held beside it (the held npm runs nothing before the answer), and the decision on the installed files (their stat, remembered). The floor adds only the last one's stat and reads to the control; `portcullis-npm` ÷ floor is what the rest costs.",
  ].join('\n');
  process.stdout.write(`\n${table}\n`);
  if (WRITE) writeSection('npm-wrapper', `## \`portcullis-npm\` against bare npm and a no-op wrapper\n\n\`node bench/npm-wrapper.mjs\` (measured ${today()})\n\n${table}`);
} finally {
  await registry.close();
  rmSync(work, { recursive: true, force: true });
}
