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
//                     [--mode cold|warm|frozen|ci] [--rules on|off] [--packages 1000] [--rounds 3] [--patched] [--pnp]
//
//   --patched (pnpm): every project patches one dependency (pnpm's patchedDependencies, a patch that adds a file),
//   as many real projects do.
//   --mode ci (pnpm): `--frozen-lockfile` on a fresh CI runner as docs/ci.md sets one up (pnpm-hooks.mjs's ci mode):
//   node_modules removed, pnpm's store and cache and PORTCULLIS_CACHE_DIR kept from the earlier runs with Portcullis'
//   entries past their 5 minutes, and a new state directory (a new memo secret: nothing remembered is believed).
//   --pnp (Yarn): Yarn's PnP linker instead of node-modules, with every second direct dependency unplugged
//   (`dependenciesMeta.<name>.unplugged`), so that what the plugin checks of `.yarn/unplugged` has folders to check.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ageMetadata, discard, expectExit, loadTestRegistry, median, parseArgs, provenancedGraph, requireBuilt, root, run, spread, waitUntilSettled } from './lib.mjs';
import { benchPolicy, createProject, rulesMaterial, timedInstall, toolFor } from './projects.mjs';

const args = parseArgs();
const BASE = args.string('--base', undefined);
if (BASE === undefined) throw new Error('--base <a built checkout of another commit> is required');
const WHAT = args.string('--what', 'install');
const PM = args.string('--pm', 'pnpm12');
const MODE = args.string('--mode', 'cold');
const RULES = args.string('--rules', 'on') === 'on';
const PACKAGES = args.number('--packages', 1000);
const ROUNDS = Math.max(1, args.number('--rounds', 3));
const PATCHED = args.flag('--patched');
const PNP = args.flag('--pnp');
const builds = { new: root, base: resolve(BASE) };
const cliOf = (build) => join(build, 'packages/cli/dist/portcullis.js');
requireBuilt(...Object.values(builds).flatMap((build) => [cliOf(build), join(build, 'packages/npm/dist/portcullis-npm.js')]));

const pm = toolFor(PM);
const { startRegistry, syntheticGraph, testTrustedRoot } = await loadTestRegistry();
const graph = provenancedGraph(syntheticGraph({ packages: PACKAGES, seed: 2026 }));
const registry = await startRegistry({ packages: graph.packages });
// Every bundle made now (the registry makes them on first request), so no measured run pays for the test Sigstore.
for (const spec of graph.packages) if (!registry.attestations(spec.name, spec.version)) throw new Error(`no provenance served for ${spec.name}@${spec.version}`);
const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-ab-'));
const material = RULES ? rulesMaterial(join(work, 'rules-material'), testTrustedRoot) : null;

/** One `check` of the tree (cold: no Portcullis cache or state). */
async function check(p) {
  if (MODE === 'cold') for (const d of [p.env.PORTCULLIS_CACHE_DIR, p.env.PORTCULLIS_STATE_DIR]) discard(d);
  const r = expectExit(await run(process.execPath, [cliOf(p.build), 'check', '--format', 'json'], { cwd: p.dir, env: p.env }), `${p.which} check`, [0, 1]);
  const unexpected = JSON.parse(r.stdout).findings.filter((f) => ['provenance', 'cooldown', 'advisories'].includes(f.rule));
  if (unexpected.length > 0) throw new Error(`${p.which}: findings on a tree that passes every rule: ${JSON.stringify(unexpected.slice(0, 2))}`);
  return r;
}

let contenders;
let measure;
if (WHAT === 'install') {
  measure = (p) => timedInstall(p, MODE);
  if (MODE === 'ci') {
    if (!PM.startsWith('pnpm')) throw new Error('--mode ci is for pnpm');
    measure = async (p) => {
      discard(join(p.home, '.local', 'state'));
      const cache = join(p.home, 'portcullis-cache');
      if (existsSync(cache) && readdirSync(cache).some((f) => /^metadata-v\d+$/.test(f))) ageMetadata(cache);
      return timedInstall(p, 'frozen');
    };
  }
  contenders = [];
  for (const which of ['bare', 'new', 'base']) contenders.push({ ...(await createProject(join(work, which), PM, registry, graph.dependencies, which !== 'bare', which === 'bare' ? null : material, builds[which === 'bare' ? 'new' : which])), which });
  if (PATCHED) {
    if (!PM.startsWith('pnpm')) throw new Error('--patched is for pnpm');
    const [name] = Object.keys(graph.dependencies).sort();
    for (const p of contenders) {
      mkdirSync(join(p.dir, 'patches'), { recursive: true });
      writeFileSync(join(p.dir, 'patches', 'bench.patch'), 'diff --git a/patched.txt b/patched.txt\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/patched.txt\n@@ -0,0 +1 @@\n+patched\n');
      appendFileSync(join(p.dir, 'pnpm-workspace.yaml'), `\npatchedDependencies:\n  ${JSON.stringify(name)}: patches/bench.patch\n`);
    }
  }
  if (PNP) {
    if (PM !== 'yarn') throw new Error('--pnp is for Yarn');
    const unplugged = Object.keys(graph.dependencies).sort().filter((_, i) => i % 2 === 0);
    for (const p of contenders) {
      const rc = join(p.dir, '.yarnrc.yml');
      writeFileSync(rc, readFileSync(rc, 'utf8').replace('nodeLinker: node-modules', 'nodeLinker: pnp'));
      const manifest = JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8'));
      manifest.dependenciesMeta = Object.fromEntries(unplugged.map((name) => [name, { unplugged: true }]));
      writeFileSync(join(p.dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    }
  }
  // warm and frozen start from a lockfile and full caches, and from the steady state (a first repeat decided).
  if (MODE !== 'cold') for (const p of contenders) await timedInstall(p, 'cold');
  if (MODE !== 'cold' && (PM.startsWith('npm') || PM === 'pnpm12' || PNP)) await waitUntilSettled();
  // The steady state of a repeat install: the first one after the cold install still decides the lockfile it wrote.
  if (MODE !== 'cold') for (const p of contenders) await timedInstall(p, MODE === 'ci' ? 'frozen' : MODE);
  // The measured installs must have unplugged folders to check: a PnP run without them would measure nothing new.
  if (PNP && MODE !== 'cold') for (const p of contenders) if (readdirSync(join(p.dir, '.yarn', 'unplugged')).length < 20) throw new Error(`${p.which}: Yarn unplugged ${readdirSync(join(p.dir, '.yarn', 'unplugged')).length} folders`);
} else if (WHAT === 'check') {
  measure = check;
  // The tree pnpm 12 installed; the policy (the guarded project's) outside it, so the tree is exactly what pnpm installed.
  const tree = await createProject(join(work, 'tree'), 'pnpm12', registry, graph.dependencies, false);
  await timedInstall(tree, 'cold');
  const policy = join(work, 'portcullis.json');
  writeFileSync(policy, JSON.stringify(benchPolicy(registry, material)));
  contenders = ['new', 'base'].map((which) => ({ which, build: builds[which], dir: tree.dir, env: { ...tree.env, PORTCULLIS_POLICY: policy, PORTCULLIS_CACHE_DIR: join(work, which, 'cache'), PORTCULLIS_STATE_DIR: join(work, which, 'state') } }));
  for (const p of contenders) await measure(p); // unmeasured: fills what warm starts from
} else throw new Error(`--what ${WHAT}: install or check`);

const series = {};
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const p = contenders[(k + round) % contenders.length];
      const r = await measure(p);
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
  `\`node bench/ab.mjs --what ${WHAT}${WHAT === 'install' ? ` --pm ${PM}` : ''} --mode ${MODE} --rules ${RULES ? 'on' : 'off'} --packages ${PACKAGES} --rounds ${ROUNDS}${PATCHED ? ' --patched' : ''}${PNP ? ' --pnp' : ''}\`: ${WHAT === 'install' ? `${pm.name} ${pm.version}` : '`check` of a pnpm 12 tree'}, base build ${builds.base}.`,
  '',
  `| build | ms, median (min–max) | peak MB, median |${ref === 'bare' ? ' ÷ bare |' : ''} ÷ base |`,
  `|---|---:|---:|${ref === 'bare' ? '---:|' : ''}---:|`,
  ...Object.keys(series).map((which) => `| ${which} | ${Math.round(med(which, 'ms')).toLocaleString('en-US')} (${spread(series[which].map((r) => r.ms))}) | ${Math.round(med(which, 'rssMB'))} |${ref === 'bare' ? ` ${(med(which, 'ms') / med('bare', 'ms')).toFixed(2)} |` : ''} ${(med(which, 'ms') / med('base', 'ms')).toFixed(2)} |`),
];
process.stdout.write(`\n${lines.join('\n')}\n`);
