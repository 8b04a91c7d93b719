#!/usr/bin/env node
// `pnpm bench`: every benchmark in one go (after `pnpm run build`), each section of docs/benchmarks.md
// rewritten by its script, then a summary section with the machine, the versions and the wall times.
// Sized to finish in under 20 minutes on 2 cores; extra arguments go to every script as-is
// (e.g. `node bench/run.mjs --no-write`).
//
// `--quick`: a pass of about 3 minutes to see whether something moved, not numbers to publish: fewer
// rounds, 1,000 packages at most, a subset (the install rows of pnpm 12, Yarn and npm 11 warm and frozen);
// it writes nothing to docs/benchmarks.md.
//
//   node bench/run.mjs [--quick] [--only signatures,check,audit,install,npm-wrapper,provenance,cooldown,advisories,verdaccio,pnpm-hooks] [--no-write]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { machine, parseArgs, root, today, tool, writeSection } from './lib.mjs';

const args = parseArgs();
const QUICK = args.flag('--quick');
const WRITE = !args.flag('--no-write') && !QUICK;
const fullSteps = [
  ['signatures', 'signature verification throughput', []],
  ['check', '`portcullis check` scaling curve, 100 → 5,000 packages', ['--sizes', '100,300,1000,3000,5000', '--runs', '3']],
  ['audit', '`portcullis check` vs `pnpm audit signatures`, 3,000 packages', ['--packages', '3000', '--runs', '5', '--pnpm', '12,11']],
  ['install', 'bare vs guarded installs, six package managers, 1,000 and 3,000 packages', ['--sizes', '1000,3000']],
  ['pnpm-hooks', 'what each pnpmfile hook costs pnpm 10/11/12, against a no-op control, 1,000 packages', ['--packages', '1000', '--runs', '3', '--short-modes', 'warm,frozen']],
  ['npm-wrapper', '`portcullis-npm install` with nothing to do, 200 packages', ['--runs', '7']],
  ['provenance', '`check` with provenance required, 1,000 packages; bundles verified per second', ['--packages', '1000', '--runs', '3', '--rounds', '7']],
  ['cooldown', '`check` with a cooldown, 1,000 and 3,000 packages', ['--sizes', '1000,3000', '--runs', '3']],
  ['advisories', 'the OSV index: build and load, 200,000 records; lookups per second', ['--records', '200000', '--runs', '3']],
  ['verdaccio', 'the Verdaccio plugin: filter and sign 3,000 versions; request cost with and without it', ['--versions', '3000', '--runs', '5', '--requests', '30']],
];
const quickSteps = [
  ['signatures', 'signature verification throughput', ['--rounds', '3', '--per-round', '5000']],
  ['check', '`portcullis check`, 1,000 packages', ['--sizes', '1000', '--runs', '2']],
  ['audit', '`portcullis check` vs `pnpm audit signatures` (pnpm 12), 1,000 packages', ['--packages', '1000', '--runs', '2', '--pnpm', '12']],
  ['install', 'bare vs guarded warm and frozen installs, pnpm 12, Yarn, npm 11, 1,000 packages', ['--sizes', '1000', '--pms', 'pnpm12,yarn,npm11', '--modes', 'warm,frozen', '--runs', '3']],
  ['pnpm-hooks', 'pnpm 12 hooks against the no-op control, warm, 1,000 packages', ['--packages', '1000', '--runs', '2', '--pnpm', '12', '--modes', 'warm']],
  ['npm-wrapper', '`portcullis-npm install` with nothing to do, 200 packages', ['--runs', '5']],
  ['provenance', '`check` with provenance required (quick)', ['--quick']],
  ['cooldown', '`check` with a cooldown (quick)', ['--quick']],
  ['advisories', 'the OSV index, 20,000 records', ['--records', '20000', '--runs', '3', '--lookups', '20000']],
  ['verdaccio', 'the Verdaccio plugin (quick)', ['--quick']],
];
const allSteps = QUICK ? quickSteps : fullSteps;
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
  `\`pnpm bench\` (= \`pnpm run build && node bench/run.mjs\`), ${today()}. Machine: ${machine()}. Package managers available: ${versions}.`,
  '',
  '| script | what | wall time | result |',
  '|---|---|---:|---|',
  ...times.map(([name, what, s, code]) => `| \`bench/${name}.mjs\` | ${what} | ${s.toFixed(0)} s | ${code === 0 ? 'ok' : `failed (exit ${code})`} |`),
  `| **total** (without the build) | | **${total.toFixed(0)} s** | |`,
].join('\n');
if (WRITE && steps.length === ALL) writeSection('summary', body);
process.stdout.write(`\n${body}\n\nTotal wall time: ${(total / 60).toFixed(1)} min (${total.toFixed(0)} s)\n`);
process.exit(times.some(([, , , code]) => code !== 0) ? 1 : 0);
