#!/usr/bin/env node
// `pnpm bench`: the install benchmarks of issue 17 in one go (after `pnpm run build`), sized to finish in under
// 20 minutes on 2 cores: bare vs guarded installs of the six package managers (cold, warm, frozen; 1,000 and
// 3,000 packages; trust rules on and off at 1,000), the pnpm no-op control (what any pnpmfile costs pnpm), `check`
// vs `pnpm audit signatures`, and `portcullis-npm` with nothing to do. Each section of docs/benchmarks.md is
// rewritten by its script, then a summary section with the machine, the versions and the wall times.
//
// `--all`: also the component benchmarks (signature throughput, the `check` scaling curve, provenance bundles per
// second, cooldown, the OSV index, the Verdaccio plugin) and every pnpm hook alone: about twice as long.
// `--quick`: a pass of about 3 minutes to see whether something moved, not numbers to publish (500 packages, pnpm 12,
// Yarn and npm 11 warm and frozen, two rounds); it writes nothing to docs/benchmarks.md.
// Extra arguments go to every script as-is (e.g. `node bench/run.mjs --no-write`).
//
//   node bench/run.mjs [--all | --quick] [--only install,pnpm-hooks,audit,npm-wrapper,signatures,check,provenance,cooldown,advisories,verdaccio] [--no-write]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { machine, parseArgs, root, today, tool, writeSection } from './lib.mjs';

const args = parseArgs();
const QUICK = args.flag('--quick');
const ALL_BENCHES = args.flag('--all') && !QUICK;
const WRITE = !args.flag('--no-write') && !QUICK;
// Sized from the per-cell times of a full run on 2026-12-02 (see docs/benchmarks.md, "This run"): the bare package
// managers' own cold and frozen installs are most of the time, so the rounds are the fewest that still alternate.
// Cold at 1,000 packages takes two rounds (~1.5 minutes more than one): one cell's single cold round gave 1.49 in one
// run and 0.67 in another (pnpm 12; docs/benchmarks.md, "Fourteenth round"). From the fifteenth round, warm and frozen at 1,000
// packages took five and three rounds, warm at 3,000 two, the pnpm 12 control five and the npm wrapper seven and three
// (~2 minutes more in all): with three rounds or fewer, cells no change touched moved by up to 0.25 between two runs ("Fifteenth round").
// Since the twenty-fourth round, warm and frozen at 1,000 packages take seven and four rounds, the pnpm 12 control seven,
// `check` against pnpm's audit five, the npm wrapper nine and five (~1.7 minutes more, 15.2 minutes before): on the
// slower machine of the twenty-third round, cells neither of two runs touched moved by up to 0.13 between them at
// 1,000 packages (0.17 in a one-round cell at 3,000), about the distance of several cells from their targets.
// Since the twenty-ninth round, warm at 3,000 packages takes four rounds (~35 s more): pnpm 10 and 11 warm at 3,000 came
// out 1.07 / 1.06 in two rounds, and 1.03–1.04 / 1.03–1.06 of bare in 9–12 rounds measured apart the same day.
// Since the fortieth round, frozen at 3,000 packages takes three rounds (~1 minute more: `install.mjs` 438 → 505 s): its one-round cells moved by
// up to 0.07 between two full runs of the same paths (pnpm 10 1.09 → 1.02, Yarn `--immutable` 1.02 → 1.06).
const INSTALL_ROUNDS = '1000:warm=7,frozen=4,cold=2;3000:warm=4,frozen=3,cold=1';
const installSteps = [
  ['install', 'bare vs guarded installs, six package managers, 1,000 and 3,000 packages; trust rules on and off at 1,000', ['--sizes', '1000,3000', '--rounds', INSTALL_ROUNDS, '--rules-sizes', '1000', '--rules-rounds', 'warm=1,frozen=1,cold=1']],
  ALL_BENCHES
    ? ['pnpm-hooks', 'what each pnpmfile hook costs pnpm 10/11/12, against a no-op control, 1,000 packages', ['--packages', '1000', '--runs', '3', '--short-modes', 'warm,frozen']]
    : ['pnpm-hooks', 'pnpm 12 with no pnpmfile, an empty one (the no-op control), four no-op hooks, the floor of a signature check (cold and ci), the floor of a gate on a repeated install (warm and frozen), Portcullis and Portcullis cut to its loader; warm, frozen, `pnpm add`, cold and frozen on a fresh CI runner; 1,000 packages', ['--packages', '1000', '--runs', '15', '--repeat-runs', '15', '--pnpm', '12', '--all-variants', 'none', '--every-mode', '12']],
  ['audit', '`portcullis check` vs `pnpm audit signatures` of pnpm 12 and the floor of any such check in Node, 3,000 packages', ['--packages', '3000', '--runs', '5', '--pnpm', '12']],
  ['npm-wrapper', '`portcullis-npm` against bare npm, a no-op wrapper (the control) and the floor of a gate that vouches for what npm installed, warm and `ci`, npm 11 and 12, 1,000 packages', ['--packages', '1000', '--runs', '9', '--ci-runs', '5']],
];
const componentSteps = [
  ['signatures', 'signature verification throughput', []],
  ['check', '`portcullis check` scaling curve, 100 → 5,000 packages', ['--sizes', '100,300,1000,3000,5000', '--runs', '3']],
  ['provenance', '`check` with provenance required, 1,000 packages; bundles verified per second', ['--packages', '1000', '--runs', '3', '--rounds', '7']],
  ['cooldown', '`check` with a cooldown, 1,000 and 3,000 packages', ['--sizes', '1000,3000', '--runs', '3']],
  ['advisories', 'the OSV index: build and load, 200,000 records; lookups per second', ['--records', '200000', '--runs', '3']],
  ['verdaccio', 'the Verdaccio plugin: filter and sign 3,000 versions; request cost with and without it', ['--versions', '3000', '--runs', '5', '--requests', '30']],
];
const quickSteps = [
  ['install', 'bare vs guarded warm and frozen installs, pnpm 12, Yarn, npm 11, 500 packages', ['--sizes', '500', '--pms', 'pnpm12,yarn,npm11', '--modes', 'warm,frozen', '--runs', '2', '--rules-sizes', 'none']],
  ['pnpm-hooks', 'pnpm 12 against the no-op control, warm, 500 packages', ['--packages', '500', '--runs', '2', '--pnpm', '12', '--modes', 'warm', '--all-variants', 'none', '--every-mode', 'none']],
  ['audit', '`portcullis check` vs `pnpm audit signatures` (pnpm 12), 500 packages', ['--packages', '500', '--runs', '2', '--pnpm', '12']],
  ['npm-wrapper', '`portcullis-npm` against bare npm, the no-op wrapper and the floor, warm and `ci`, npm 11, 500 packages', ['--packages', '500', '--runs', '2', '--ci-runs', '1', '--npm', '11']],
];
const allSteps = QUICK ? quickSteps : ALL_BENCHES ? [...installSteps, ...componentSteps] : installSteps;
const ALL = allSteps.length;
const steps = allSteps.filter(([name]) => args.list('--only', null)?.includes(name) ?? true);

const started = Date.now();
const times = [];
for (const [name, what, defaults] of steps) {
  process.stdout.write(`\n=== bench/${name}.mjs: ${what}\n`);
  const t0 = Date.now();
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bench', `${name}.mjs`), ...defaults, ...(WRITE ? [] : ['--no-write'])], { stdio: 'inherit' });
    child.on('close', (c) => resolve(c ?? 1));
  });
  const seconds = (Date.now() - t0) / 1000;
  times.push([name, what, seconds, code]);
  process.stdout.write(`=== bench/${name}.mjs: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${seconds.toFixed(0)} s\n`);
}
const total = (Date.now() - started) / 1000;
const versions = [tool('pnpm', 10), tool('pnpm', 11), tool('pnpm', 12), tool('yarn'), tool('npm', 10), tool('npm', 11), tool('npm', 12)].map((t) => `${t.name} ${t.version}`).join(', ');
const body = [
  '## This run',
  '',
  `\`pnpm bench${ALL_BENCHES ? ' --all' : ''}\` (= \`pnpm run build && node bench/run.mjs${ALL_BENCHES ? ' --all' : ''}\`), ${today()}${ALL_BENCHES ? '' : ': the install benchmarks; the component benchmarks (`--all`) keep the date of their own run'}. Machine: ${machine()}. Package managers available: ${versions}.`,
  '',
  '| script | what | wall time | result |',
  '|---|---|---:|---|',
  ...times.map(([name, what, s, code]) => `| \`bench/${name}.mjs\` | ${what} | ${s.toFixed(0)} s | ${code === 0 ? 'ok' : `failed (exit ${code})`} |`),
  `| **total** (without the build) | | **${total.toFixed(0)} s** | |`,
].join('\n');
if (WRITE && steps.length === ALL) writeSection('summary', body);
process.stdout.write(`\n${body}\n\nTotal wall time: ${(total / 60).toFixed(1)} min (${total.toFixed(0)} s)\n`);
process.exit(times.some(([, , , code]) => code !== 0) ? 1 : 0);
