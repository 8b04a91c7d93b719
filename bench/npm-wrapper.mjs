#!/usr/bin/env node
// Overhead of `portcullis-npm install` over a bare `npm install` when there is nothing to do (lockfile
// current, node_modules in place), against the local test registry: both in the same run, alternating,
// medians. Prints a markdown table and updates the npm-wrapper section of docs/benchmarks.md.
//
//   node bench/npm-wrapper.mjs [--packages N] [--runs N] [--npm 10|11] [--no-write]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alternate, expectExit, loadTestRegistry, machine, median, ms, NPM_WRAPPER as WRAPPER, parseArgs, requireBuilt, run, scratchNote, spread, today, tool, writeSection } from './lib.mjs';

const args = parseArgs();
const PACKAGES = args.number('--packages', 200);
const RUNS = Math.max(5, args.number('--runs', 7));
const NPM_MAJOR = args.number('--npm', 11);
const WRITE = !args.flag('--no-write');
const npmTool = tool('npm', NPM_MAJOR);
const NPM = npmTool.args[0];
requireBuilt(WRAPPER);

const { startRegistry, syntheticGraph } = await loadTestRegistry();
const graph = syntheticGraph({ packages: PACKAGES, seed: 2026 });
const registry = await startRegistry({ packages: graph.packages });
const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-npm-'));
const project = join(work, 'project');
mkdirSync(project);
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'bench', version: '1.0.0', private: true, dependencies: graph.dependencies }));
// As after `portcullis init npm`: a bare npm runs no dependency scripts either.
writeFileSync(join(project, '.npmrc'), `registry=${registry.url}\nignore-scripts=true\n`);
writeFileSync(join(work, 'userconfig'), '');
writeFileSync(join(project, 'portcullis.json'), JSON.stringify({ scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } }));
// Not process.env: under `pnpm bench`, pnpm's own npm_config_* (its registry among them) would leak in.
const env = {
  PATH: process.env.PATH,
  HOME: work,
  PORTCULLIS_CACHE_DIR: join(work, 'cache'),
  PORTCULLIS_NPM: NPM,
  npm_config_userconfig: join(work, 'userconfig'),
  npm_config_cache: join(work, 'npm-cache'),
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  NO_COLOR: '1',
};

try {
  const first = await run(process.execPath, [WRAPPER, 'install'], { cwd: project, env });
  if (first.code !== 0) throw new Error(`the first install failed (exit ${first.code}): ${first.stderr}`);
  const lockfile = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'));
  const entries = Object.keys(lockfile.packages).filter((k) => k !== '').length;

  const [wrappedRuns, bareRuns] = await alternate(
    RUNS,
    async () => expectExit(await run(process.execPath, [WRAPPER, 'install'], { cwd: project, env }), 'portcullis-npm install'),
    async () => expectExit(await run(process.execPath, [NPM, 'install'], { cwd: project, env }), 'npm install'),
  );
  const wrapped = wrappedRuns.map((r) => r.ms);
  const bare = bareRuns.map((r) => r.ms);
  const npmVersion = npmTool.version;
  const row = (label, xs) => `| ${label} | ${ms(median(xs))} | ${spread(xs)} |`;
  const overhead = median(wrapped) - median(bare);
  const table = [
    `Project: ${entries} installed packages (synthetic graph of ${PACKAGES} versions, seed 2026), lockfile current, node_modules in place, \`ignore-scripts=true\` in .npmrc. npm ${npmVersion}. ${RUNS} runs each, alternating (wrapper first on even rounds).`,
    `Machine: ${machine()}. ${scratchNote()}`,
    '',
    '| run | median ms | min–max ms |',
    '|---|---:|---:|',
    row('`npm install` (bare)', bare),
    row('`portcullis-npm install`', wrapped),
    '',
    `Overhead of the wrapper: **${overhead.toFixed(0)} ms** (${((median(wrapped) / median(bare) - 1) * 100).toFixed(0)}%): two decisions (on the lockfile, then on the installed files; warm metadata cache) and the wrapper's own process; the lock-only resolution is skipped because the lockfile is current.`,
  ].join('\n');
  process.stdout.write(`${table}\n`);

  if (WRITE) writeSection('npm-wrapper', `## \`portcullis-npm install\` with nothing to do\n\n\`node bench/npm-wrapper.mjs\` (measured ${today()})\n\n${table}`);
} finally {
  await registry.close();
  rmSync(work, { recursive: true, force: true });
}
