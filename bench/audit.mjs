#!/usr/bin/env node
// `portcullis check` vs `pnpm audit signatures` (pnpm >= 11.1) on the same installed tree (a pnpm 12
// install of a synthetic graph, default 3,000 packages): wall time and peak memory, the runs rotating in
// every round. `npm audit signatures` cannot run on these machines (it fetches the Sigstore TUF root from
// the internet first). Prints a markdown table and updates the audit section of docs/benchmarks.md.
//
//   node bench/audit.mjs [--packages 3000] [--runs 5] [--pnpm 12,11] [--no-write]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_FLOOR, CLI, discard, expectExit, loadTestRegistry, machine, max, mb, median, memoryMethod, min, ms, parseArgs, pnpm12MetadataDir, requireBuilt, run, scratchNote, spread, today, tool, writeSection } from './lib.mjs';

const args = parseArgs();
const PACKAGES = args.number('--packages', 3000);
const RUNS = Math.max(1, args.number('--runs', 5));
const PNPMS = args.list('--pnpm', ['12']).map(Number);
const WRITE = !args.flag('--no-write');
const SEED = 2026;
requireBuilt(CLI);

const started = Date.now();
const { startRegistry, syntheticGraph } = await loadTestRegistry();
const graph = syntheticGraph({ packages: PACKAGES, seed: SEED });
const registry = await startRegistry({ packages: graph.packages });
const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-audit-'));
const project = join(work, 'project');
const home = join(work, 'home');
mkdirSync(project, { recursive: true });
mkdirSync(home, { recursive: true });
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'bench', version: '1.0.0', private: true, dependencies: graph.dependencies }));
writeFileSync(join(project, '.npmrc'), `registry=${registry.url}\n`);
writeFileSync(join(home, '.npmrc'), '');
// The policy lives outside the project, so the tree is exactly what pnpm installed.
const policyFile = join(work, 'portcullis.json');
writeFileSync(policyFile, JSON.stringify({ scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } }));
const cache = join(home, 'portcullis-cache');
const env = { PATH: process.env.PATH, HOME: home, TMPDIR: tmpdir(), PORTCULLIS_POLICY: policyFile, PORTCULLIS_CACHE_DIR: cache, npm_config_userconfig: join(home, '.npmrc'), NO_COLOR: '1', CI: 'true' };
// pnpm 12 keeps its default cache folder (under HOME), as a user's does: `check` reads the signatures pnpm 12 kept
// there; the other majors get a folder of their own.
const pnpmOwn = (major) => [`--store-dir=${join(home, `pnpm-store-${major}`)}`, ...(major === 12 ? [] : [`--cache-dir=${join(home, `pnpm-cache-${major}`)}`]), '--config.confirmModulesPurge=false', '--config.strict-dep-builds=false'];

try {
  const installer = tool('pnpm', 12);
  expectExit(await run(installer.command, [...installer.args, 'install', ...pnpmOwn(12)], { cwd: project, env }), 'pnpm install');
  const lock = readFileSync(join(project, 'pnpm-lock.yaml'), 'utf8');
  const entries = (lock.split(/^snapshots:$/m)[1] ?? '').split('\n').filter((l) => /^ {2}\S/.test(l)).length;

  // The floor (bench/audit-floor.mjs): what any signature audit of this tree in Node that also reads what is installed
  // must do, nothing more. Measured in the same rounds, it tells whether 3× pnpm's audit is within reach of any such
  // check, and how far above it `check` is.
  const floorFile = join(work, 'floor.cjs');
  writeFileSync(floorFile, AUDIT_FLOOR);
  const metadataDir = pnpm12MetadataDir(home);
  const contenders = [
    {
      label: '`portcullis check`, cold metadata cache',
      go: async () => {
        discard(cache);
        return expectExit(await run(process.execPath, [CLI, 'check', '--format', 'json'], { cwd: project, env }), 'portcullis check', [0, 1]);
      },
    },
    { label: '`portcullis check`, warm cache', go: async () => expectExit(await run(process.execPath, [CLI, 'check', '--format', 'json'], { cwd: project, env }), 'portcullis check', [0, 1]) },
    {
      label: "the floor: Node, the lockfile, each version's document from pnpm's cache and its signature verified (libuv's thread pool), each installed `package.json` read and its `binding.gyp` looked for",
      floor: true,
      go: async () => {
        const r = expectExit(await run(process.execPath, [floorFile, project, metadataDir, JSON.stringify(registry.keys.keys), 'installed'], { cwd: project, env }), 'the audit floor');
        const { verified } = JSON.parse(r.stdout);
        if (verified !== entries) throw new Error(`the audit floor verified ${verified} of ${entries} packages`);
        return r;
      },
    },
  ];
  const versions = [];
  for (const major of PNPMS) {
    const t = tool('pnpm', major);
    versions.push(`pnpm ${t.version}`);
    contenders.push({
      label: `\`pnpm audit signatures\` (pnpm ${t.version})`,
      pnpm: true,
      go: async () => {
        const r = await run(t.command, [...t.args, 'audit', 'signatures', ...pnpmOwn(major)], { cwd: project, env });
        if (r.code !== 0 || !/verified/i.test(r.stdout + r.stderr)) throw new Error(`pnpm audit signatures failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-2000)}`);
        return r;
      },
    });
  }
  // One unmeasured run each (fills pnpm's metadata cache as a second audit would find it; checks the commands work).
  let auditSays = '';
  for (const c of contenders) {
    const r = await c.go();
    if (c.pnpm && !auditSays) auditSays = (r.stdout + r.stderr).trim().split('\n').find((l) => /verified/i.test(l)) ?? '';
  }
  const series = contenders.map(() => []);
  for (let round = 0; round < RUNS; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + round) % contenders.length;
      series[i].push(await contenders[i].go());
    }
  }
  const med = (i) => median(series[i].map((r) => r.ms));
  const rows = contenders.map((c, i) => {
    const t = series[i].map((r) => r.ms);
    const m = series[i].map((r) => r.rssMB);
    return `| ${c.label} | ${ms(med(i))} (${spread(t)}) | ${mb(median(m))} (${mb(min(m))}–${mb(max(m))}) |`;
  });
  const notes = [];
  const floor = contenders.findIndex((c) => c.floor);
  contenders.forEach((c, i) => {
    if (!c.pnpm) return;
    notes.push(`- ${c.label} time ÷ check time (speed-up of check; ≥ 3 wanted): cold **${(med(i) / med(0)).toFixed(2)}**, warm **${(med(i) / med(1)).toFixed(2)}**; peak memory ${mb(median(series[0].map((r) => r.rssMB)))} / ${mb(median(series[1].map((r) => r.rssMB)))} MB vs ${mb(median(series[i].map((r) => r.rssMB)))} MB.`);
    notes.push(`- The floor in the same rounds: ${c.label} time ÷ the floor's **${(med(i) / med(floor)).toFixed(2)}** (under 3, no check that reads what is installed could reach 3× cold in Node); \`check\` cold ÷ the floor **${(med(0) / med(floor)).toFixed(2)}**.`);
  });
  const body = [
    '## `portcullis check` vs the audit commands',
    '',
    `\`node bench/audit.mjs\` (measured ${today()}). One tree: ${entries.toLocaleString('en-US')} packages installed by pnpm ${installer.version} from a synthetic graph of ${PACKAGES.toLocaleString('en-US')} versions (seed ${SEED}), all signed by the test registry, which serves \`/-/npm/v1/keys\`. \`portcullis check\` reads pnpm-lock.yaml (policy outside the project, trusting the registry's keys); pnpm 12 uses its default cache folder, and \`check\` reads the documents pnpm 12 kept there (signatures included) instead of fetching packuments: "cold" empties Portcullis' own cache only, as right after an install. ${RUNS} rounds, the order rotating each round, after one unmeasured run of each. Peak memory: ${memoryMethod}.`,
    `Machine: ${machine()}. ${scratchNote()}${auditSays ? ` pnpm said: “${auditSays.replace(/\s+/g, ' ')}”.` : ''}`,
    '',
    '| run | ms, median (min–max) | peak MB, median (min–max) |',
    '|---|---:|---:|',
    ...rows,
    '| `npm audit signatures` | cannot run here | — |',
    '',
    ...notes,
    `- \`npm audit signatures\` cannot run on these machines: before checking anything it fetches the Sigstore TUF root from the internet (tuf-repo-cdn.sigstore.dev), even against a local registry, and fails after about 70 s of retries. The target “check ≥ 3× faster than \`npm audit signatures\`” is therefore **not measurable here**; \`pnpm audit signatures\` (same registry-signature check, no provenance) stands in: target ≥ 3× — **${contenders.some((c, i) => c.pnpm && med(i) / med(1) >= 3) ? 'met' : 'missed'}** with a warm cache, **${contenders.some((c, i) => c.pnpm && med(i) / med(0) >= 3) ? 'met' : 'missed'}** with a cold one.`,
    '',
    `Wall time of this script: ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  ].join('\n');
  process.stdout.write(`\n${body}\n`);
  if (WRITE) writeSection('audit', body);
} finally {
  await registry.close();
  rmSync(work, { recursive: true, force: true });
}
