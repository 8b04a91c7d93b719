#!/usr/bin/env node
// The floor under the cold `check` ÷ `pnpm audit signatures` ratio: on the tree bench/audit.mjs builds (a pnpm 12
// install of the synthetic graph, pnpm 12's metadata cache full), how long the bare minimum of the registry-signature
// work takes in a Node process — start Node, read pnpm-lock.yaml, read each version's document from pnpm 12's cache,
// one crypto.verify per package — against `pnpm audit signatures` (which does that work) and `portcullis check`
// (which does it plus the rest of its rules). If the floor alone is more than a third of pnpm's time, "check ≥ 3×
// faster than pnpm's audit, cold" cannot be met by any code that verifies the same signatures.
//
//   node bench/audit-floor.mjs [--packages 3000] [--runs 5]      (prints only; never writes docs/)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_FLOOR, CLI, expectExit, loadTestRegistry, machine, median, ms, parseArgs, pnpm12MetadataDir, requireBuilt, rotate, run, spread, tool } from './lib.mjs';

const args = parseArgs();
const PACKAGES = args.number('--packages', 3000);
const RUNS = Math.max(1, args.number('--runs', 5));
requireBuilt(CLI);


const { startRegistry, syntheticGraph } = await loadTestRegistry();
const graph = syntheticGraph({ packages: PACKAGES, seed: 2026 });
const registry = await startRegistry({ packages: graph.packages });
const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-floor-'));
const project = join(work, 'project');
const home = join(work, 'home');
mkdirSync(project, { recursive: true });
mkdirSync(home, { recursive: true });
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'bench', version: '1.0.0', private: true, dependencies: graph.dependencies }));
writeFileSync(join(project, '.npmrc'), `registry=${registry.url}\n`);
writeFileSync(join(home, '.npmrc'), '');
const policyFile = join(work, 'portcullis.json');
writeFileSync(policyFile, JSON.stringify({ scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } }));
const floorFile = join(work, 'floor.cjs');
writeFileSync(floorFile, AUDIT_FLOOR);
const cache = join(home, 'portcullis-cache');
const env = { PATH: process.env.PATH, HOME: home, TMPDIR: tmpdir(), PORTCULLIS_POLICY: policyFile, PORTCULLIS_CACHE_DIR: cache, npm_config_userconfig: join(home, '.npmrc'), NO_COLOR: '1', CI: 'true' };
const pnpmOwn = [`--store-dir=${join(home, 'pnpm-store-12')}`, '--config.confirmModulesPurge=false', '--config.strict-dep-builds=false'];
const metadataDir = pnpm12MetadataDir(home);

try {
  const pnpm = tool('pnpm', 12);
  expectExit(await run(pnpm.command, [...pnpm.args, 'install', ...pnpmOwn], { cwd: project, env }), 'pnpm install');
  const floor = (mode) => async () => {
    const r = expectExit(await run(process.execPath, [floorFile, project, metadataDir, JSON.stringify(registry.keys.keys), mode], { cwd: project, env }), 'floor');
    const { verified } = JSON.parse(r.stdout);
    if (verified !== PACKAGES) throw new Error(`the floor verified ${verified} of ${PACKAGES}`);
    return r;
  };
  const contenders = [
    { label: '`node -e 0` (Node starts and exits)', go: async () => expectExit(await run(process.execPath, ['-e', '0'], { cwd: project, env }), 'node') },
    { label: 'floor: Node + read pnpm-lock.yaml (no parse beyond a regex)', go: floor('verify-only') },
    { label: `floor: the above + read ${PACKAGES.toLocaleString('en-US')} cached documents + ${PACKAGES.toLocaleString('en-US')} crypto.verify`, go: floor('all') },
    { label: `floor with the ${PACKAGES.toLocaleString('en-US')} verifications in libuv's thread pool (asynchronous \`crypto.verify\`)`, go: floor('pool') },
    { label: `the same floor + each installed copy's \`package.json\` read and parsed (name, version, scripts) and its \`binding.gyp\` looked for: what a check against manifest confusion must read`, go: floor('installed') },
    {
      label: `\`pnpm audit signatures\` (pnpm ${pnpm.version})`,
      go: async () => expectExit(await run(pnpm.command, [...pnpm.args, 'audit', 'signatures', ...pnpmOwn], { cwd: project, env }), 'pnpm audit signatures'),
    },
    {
      label: '`portcullis check`, Portcullis cache emptied (cold)',
      go: async () => {
        rmSync(cache, { recursive: true, force: true });
        return expectExit(await run(process.execPath, [CLI, 'check', '--format', 'json'], { cwd: project, env }), 'portcullis check', [0, 1]);
      },
    },
    { label: '`portcullis check`, warm', go: async () => expectExit(await run(process.execPath, [CLI, 'check', '--format', 'json'], { cwd: project, env }), 'portcullis check', [0, 1]) },
  ];
  for (const c of contenders) await c.go();
  const series = await rotate(RUNS, contenders.map((c) => c.go));
  const times = series.map((rs) => rs.map((r) => r.ms));
  const med = times.map(median);
  const audit = med[5];
  const lines = [
    `${PACKAGES.toLocaleString('en-US')} packages, ${RUNS} rounds rotating. Machine: ${machine()}.`,
    '',
    '| run | ms, median (min–max) | pnpm audit ÷ this |',
    '|---|---:|---:|',
    ...contenders.map((c, i) => `| ${c.label} | ${ms(med[i])} (${spread(times[i])}) | ${(audit / med[i]).toFixed(2)} |`),
    '',
    `- Floor of any audit of this tree in Node (the faster of the two floors, ${med[3] < med[2] ? 'the thread pool' : 'the main thread'}): ${ms(Math.min(med[2], med[3]))} ms, pnpm's audit ÷ floor **${(audit / Math.min(med[2], med[3])).toFixed(2)}** (≥ 3 is needed for a cold check to reach 3×).`,
    `- With what is installed read as well (a check that guards against manifest confusion, as \`check\` does): ${ms(med[4])} ms, pnpm's audit ÷ that floor **${(audit / med[4]).toFixed(2)}**; \`check\` cold ÷ that floor **${(med[6] / med[4]).toFixed(2)}**.`,
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
} finally {
  await registry.close();
  rmSync(work, { recursive: true, force: true });
}
