// scratch: pnpm 12 hook cost exploration (not committed)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTestRegistry, median, run, tool } from './lib.mjs';
const major = Number(process.argv[2] ?? 12);
const size = Number(process.argv[3] ?? 1000);
const modes = (process.argv[4] ?? 'warm').split(',');
const only = process.argv[5]?.split(',');
const t = tool('pnpm', major);
const { startRegistry, syntheticGraph } = await loadTestRegistry();
const graph = syntheticGraph({ packages: size, seed: 2026 });
const registry = await startRegistry({ packages: graph.packages });
const work = mkdtempSync(join(tmpdir(), 'hx-'));
const V = {
  none: null,
  emptymod: 'module.exports = {};\n',
  emptyhooks: 'module.exports = { hooks: {} };\n',
  updateConfig: 'module.exports = { hooks: { updateConfig(c) { return c; } } };\n',
  readPackage: 'module.exports = { hooks: { readPackage(m) { return m; } } };\n',
  preResolution: 'module.exports = { hooks: { preResolution() {} } };\n',
  afterAllResolved: 'module.exports = { hooks: { afterAllResolved(l) { return l; } } };\n',
  all4: 'module.exports = { hooks: { updateConfig(c) { return c; }, readPackage(m) { return m; }, preResolution() {}, afterAllResolved(l) { return l; } } };\n',
};
const projects = [];
for (const [name, src] of Object.entries(V)) {
  if (only && !only.includes(name)) continue;
  const dir = join(work, name, 'p'), home = join(work, name, 'h');
  mkdirSync(dir, { recursive: true }); mkdirSync(home, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'b', version: '1.0.0', private: true, dependencies: graph.dependencies }));
  writeFileSync(join(dir, '.npmrc'), `registry=${registry.url}\n`);
  writeFileSync(join(home, '.npmrc'), '');
  if (src) writeFileSync(join(dir, '.pnpmfile.cjs'), src);
  const env = { PATH: process.env.PATH, HOME: home, TMPDIR: tmpdir(), npm_config_userconfig: join(home, '.npmrc'), CI: 'true', NO_COLOR: '1' };
  projects.push({ name, dir, home, env });
}
const own = (p) => [`--store-dir=${join(p.home, 'store')}`, `--cache-dir=${join(p.home, 'cache')}`, '--config.confirmModulesPurge=false', '--config.strict-dep-builds=false'];
async function inst(p, mode) {
  if (mode !== 'warm') rmSync(join(p.dir, 'node_modules'), { recursive: true, force: true });
  if (mode === 'cold') { rmSync(join(p.dir, 'pnpm-lock.yaml'), { force: true }); rmSync(join(p.home, 'store'), { recursive: true, force: true }); rmSync(join(p.home, 'cache'), { recursive: true, force: true }); }
  const argv = mode === 'frozen' ? ['install', '--frozen-lockfile'] : mode === 'cold' ? ['install', '--no-frozen-lockfile'] : ['install'];
  const before = registry.requests?.length;
  const r = await run(t.command, [...t.args, ...argv, ...own(p)], { cwd: p.dir, env: p.env });
  if (r.code !== 0) throw new Error(p.name + ' ' + mode + ' ' + r.stdout + r.stderr);
  return r;
}
for (const p of projects) await inst(p, 'cold');
const RUNS = Number(process.env.RUNS ?? 5);
for (const mode of modes) {
  const res = Object.fromEntries(projects.map((p) => [p.name, []]));
  for (let i = 0; i < RUNS; i++) for (const p of (i % 2 ? [...projects].reverse() : projects)) { const r = await inst(p, mode); res[p.name].push(r.ms); if (i === 0 && process.env.SHOW) console.log(p.name, mode, (r.stdout + r.stderr).slice(-300)); }
  for (const p of projects) console.log(`pnpm ${t.version} ${size} ${mode} ${p.name.padEnd(18)} ${Math.round(median(res[p.name]))} ms  [${res[p.name].map(Math.round).join(', ')}]`);
}
await registry.close();
rmSync(work, { recursive: true, force: true });
