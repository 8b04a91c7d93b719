#!/usr/bin/env node
// Two builds of Portcullis in the same run, alternating: this checkout's and another built checkout's (`--base`, e.g.
// a clone of the previous commit after `node scripts/bootstrap.mjs && node scripts/pnpm.mjs build`), with the trust
// rules on (provenance required of every package, a 3-day cooldown every version passes, an OSV bundle of 100,000
// records naming none of them) or off (`--rules off`). What a change did, measured against what came before it on the
// same machine in the same minutes; the findings in docs/benchmarks.md quote its output. Prints a table; writes nothing.
//
//   install: the bare package manager, this build and the base build rotating each round, on the bench's graph
//   check:   `portcullis check` of a tree pnpm 12 installed, this build and the base build alternating
//
//   node bench/ab.mjs --base ../base [--what install|check] [--pm pnpm12|pnpm11|pnpm10|yarn|npm11|npm12]
//                     [--mode cold|warm|frozen] [--rules on|off] [--packages 1000] [--rounds 3]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expectExit, loadTestRegistry, median, parseArgs, provenancedGraph, requireBuilt, root, run, spread, tool } from './lib.mjs';

const args = parseArgs();
const BASE = args.string('--base', undefined);
if (BASE === undefined) throw new Error('--base <a built checkout of another commit> is required');
const WHAT = args.string('--what', 'install');
const PM = args.string('--pm', 'pnpm12');
const MODE = args.string('--mode', 'cold');
const RULES = args.string('--rules', 'on') === 'on';
const PACKAGES = args.number('--packages', 1000);
const ROUNDS = Math.max(1, args.number('--rounds', 3));
const builds = { new: root, base: resolve(BASE) };
const cliOf = (build) => join(build, 'packages/cli/dist/portcullis.js');
const wrapperOf = (build) => join(build, 'packages/npm/dist/portcullis-npm.js');
requireBuilt(cliOf(builds.new), cliOf(builds.base), wrapperOf(builds.new), wrapperOf(builds.base));

const kind = PM.replace(/\d+$/, '');
const pm = kind === 'yarn' ? tool('yarn') : tool(kind, Number(PM.match(/\d+$/)?.[0]));
const { startRegistry, syntheticGraph, testTrustedRoot } = await loadTestRegistry();
const graph = provenancedGraph(syntheticGraph({ packages: PACKAGES, seed: 2026 }));
const registry = await startRegistry({ packages: graph.packages });
// Every bundle made now (the registry makes them on first request), so no measured run pays for the test Sigstore.
for (const spec of graph.packages) if (!registry.attestations(spec.name, spec.version)) throw new Error(`no provenance served for ${spec.name}@${spec.version}`);
const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-ab-'));

function policy() {
  const base = { scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } };
  if (!RULES) return base;
  const trustedRoot = join(work, 'trusted_root.json');
  const osv = join(work, 'osv.json');
  writeFileSync(trustedRoot, JSON.stringify(testTrustedRoot()));
  writeFileSync(osv, JSON.stringify(Array.from({ length: 100_000 }, (_, i) => ({ schema_version: '1.5.0', id: `MAL-2099-${i}`, modified: '2026-11-30T00:00:00Z', summary: `Malicious code in bench-mal-${i} (npm)`, affected: [{ package: { ecosystem: 'npm', name: `bench-mal-${i}` }, versions: ['1.0.0'] }] }))));
  return { ...base, provenance: { require: ['@bench/*'], trustedRoot }, cooldown: { minimumReleaseAge: '3d' }, advisories: { osv: [osv] } };
}
const POLICY = policy();

function project(which, k = kind) {
  const dir = join(work, which, 'project');
  const home = join(work, which, 'home');
  mkdirSync(dir, { recursive: true });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true, dependencies: graph.dependencies }));
  writeFileSync(join(dir, '.npmrc'), `registry=${registry.url}\n${k === 'npm' ? 'ignore-scripts=true\n' : ''}`);
  writeFileSync(join(home, '.npmrc'), '');
  if (k === 'yarn') {
    writeFileSync(join(dir, '.yarnrc.yml'), [`npmRegistryServer: "${registry.url}"`, 'unsafeHttpWhitelist: ["127.0.0.1"]', 'enableGlobalCache: false', `globalFolder: "${join(home, 'yarn-global')}"`, `cacheFolder: "${join(home, 'yarn-cache')}"`, 'nodeLinker: node-modules', 'enableTelemetry: false', 'enableScripts: false', ''].join('\n'));
    writeFileSync(join(dir, 'yarn.lock'), '');
  }
  const env = { PATH: process.env.PATH, HOME: home, TMPDIR: tmpdir(), PORTCULLIS_CACHE_DIR: join(home, 'portcullis-cache'), PORTCULLIS_STATE_DIR: join(home, 'portcullis-state'), npm_config_userconfig: join(home, '.npmrc'), npm_config_cache: join(home, 'npm-cache'), npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', COREPACK_ENABLE_STRICT: '0', YARN_ENABLE_TELEMETRY: '0', NO_COLOR: '1', CI: 'true' };
  return { which, dir, home, env };
}

const rm = (...parts) => rmSync(join(...parts), { recursive: true, force: true });
const pnpmOwn = (p) => [`--store-dir=${join(p.home, 'pnpm-store')}`, `--cache-dir=${join(p.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false', '--config.strict-dep-builds=false'];

async function install(p, mode) {
  if (mode !== 'warm') {
    rm(p.dir, 'node_modules');
    rm(p.dir, '.yarn', 'install-state.gz');
  }
  if (mode === 'cold') {
    for (const f of ['pnpm-lock.yaml', 'package-lock.json']) rm(p.dir, f);
    for (const f of ['portcullis-cache', 'pnpm-store', 'pnpm-cache', 'npm-cache', 'yarn-cache', 'yarn-global']) rm(p.home, f);
    if (kind === 'yarn') writeFileSync(join(p.dir, 'yarn.lock'), '');
  }
  const argv = kind === 'pnpm' ? ['install', ...(mode === 'frozen' ? ['--frozen-lockfile'] : mode === 'cold' ? ['--no-frozen-lockfile'] : []), ...pnpmOwn(p)] : kind === 'yarn' ? ['install', ...(mode === 'cold' ? ['--no-immutable'] : mode === 'frozen' ? ['--immutable'] : [])] : [mode === 'frozen' ? 'ci' : 'install'];
  if (kind === 'npm' && p.which !== 'bare') return expectExit(await run(pm.command, [wrapperOf(builds[p.which]), ...argv], { cwd: p.dir, env: { ...p.env, PORTCULLIS_NPM: pm.args[0] } }), `${p.which} ${mode}`);
  return expectExit(await run(pm.command, [...pm.args, ...argv], { cwd: p.dir, env: p.env }), `${p.which} ${mode}`);
}

const series = {};
let contenders;
if (WHAT === 'install') {
  contenders = ['bare', 'new', 'base'].map((which) => project(which));
  for (const p of contenders.slice(1)) {
    writeFileSync(join(p.dir, 'portcullis.json'), JSON.stringify(POLICY));
    if (kind !== 'npm') expectExit(await run(process.execPath, [cliOf(builds[p.which]), 'init', kind], { cwd: p.dir, env: p.env }), `portcullis init ${kind}`);
  }
  // warm and frozen start from a lockfile and full caches; warm from the steady state (a first repeat decided).
  if (MODE !== 'cold') for (const p of contenders) await install(p, 'cold');
  if (MODE === 'warm') for (const p of contenders) await install(p, 'warm');
} else if (WHAT === 'check') {
  const tree = project('tree', 'pnpm');
  const pnpm = tool('pnpm', 12);
  expectExit(await run(pnpm.command, [...pnpm.args, 'install', ...pnpmOwn(tree)], { cwd: tree.dir, env: tree.env }), 'pnpm install');
  writeFileSync(join(work, 'portcullis.json'), JSON.stringify(POLICY));
  contenders = ['new', 'base'].map((which) => ({ which, dir: tree.dir, env: { ...tree.env, PORTCULLIS_POLICY: join(work, 'portcullis.json'), PORTCULLIS_CACHE_DIR: join(work, which, 'cache'), PORTCULLIS_STATE_DIR: join(work, which, 'state') } }));
} else throw new Error(`--what ${WHAT}: install or check`);

async function check(p, mode) {
  if (mode === 'cold') for (const d of [p.env.PORTCULLIS_CACHE_DIR, p.env.PORTCULLIS_STATE_DIR]) rmSync(d, { recursive: true, force: true });
  const r = expectExit(await run(process.execPath, [cliOf(builds[p.which]), 'check', '--format', 'json'], { cwd: p.dir, env: p.env }), `${p.which} check`, [0, 1]);
  const unexpected = JSON.parse(r.stdout).findings.filter((f) => ['provenance', 'cooldown', 'advisories'].includes(f.rule));
  if (unexpected.length > 0) throw new Error(`${p.which}: findings on a tree that passes every rule: ${JSON.stringify(unexpected.slice(0, 2))}`);
  return r;
}
const measure = WHAT === 'install' ? install : check;
if (WHAT === 'check') for (const p of contenders) await measure(p, MODE); // unmeasured: fills what warm starts from

try {
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const p = contenders[(k + round) % contenders.length];
      const r = await measure(p, MODE);
      (series[p.which] ??= []).push(r);
      process.stdout.write(`round ${round + 1} ${p.which}: ${r.ms.toFixed(0)} ms, peak ${r.rssMB.toFixed(0)} MB\n`);
    }
  }
} finally {
  await registry.close();
  rmSync(work, { recursive: true, force: true });
}

const med = (which, key) => median(series[which].map((r) => r[key]));
const ref = series.bare !== undefined ? 'bare' : 'base';
const lines = [
  `\`node bench/ab.mjs --what ${WHAT}${WHAT === 'install' ? ` --pm ${PM}` : ''} --mode ${MODE} --rules ${RULES ? 'on' : 'off'} --packages ${PACKAGES} --rounds ${ROUNDS}\`: ${WHAT === 'install' ? `${pm.name} ${pm.version}` : '`check` of a pnpm 12 tree'}, base build ${builds.base}.`,
  '',
  `| build | ms, median (min–max) | peak MB, median |${ref === 'bare' ? ' ÷ bare |' : ''} ÷ base |`,
  `|---|---:|---:|${ref === 'bare' ? '---:|' : ''}---:|`,
  ...Object.keys(series).map((which) => `| ${which} | ${Math.round(med(which, 'ms')).toLocaleString('en-US')} (${spread(series[which].map((r) => r.ms))}) | ${Math.round(med(which, 'rssMB'))} |${ref === 'bare' ? ` ${(med(which, 'ms') / med('bare', 'ms')).toFixed(2)} |` : ''} ${(med(which, 'ms') / med('base', 'ms')).toFixed(2)} |`),
];
process.stdout.write(`\n${lines.join('\n')}\n`);
