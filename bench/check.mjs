#!/usr/bin/env node
// The scaling curve of `portcullis check`: wall time and peak memory on npm lockfiles of growing
// synthetic graphs (default 100 → 5,000 packages), cold (empty metadata cache), warm (cache filled,
// nothing changed), stale (every cached packument older than the cache's 5 minutes, as on the next working
// day) and stale without the verified-versions memo (what every such run cost before the memo), the order
// rotating each round, against the local test registry. Prints a markdown table and updates the
// check section of docs/benchmarks.md (other sections are kept).
//
//   node bench/check.mjs [--sizes 100,300,1000,3000,5000] [--runs 5] [--no-write]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ageMetadata, CLI, discard, expectExit, loadTestRegistry, machine, mb, median, memoryMethod, ms, parseArgs, requireBuilt, rotate, run, spread, today, tool, writeSection } from './lib.mjs';

const args = parseArgs();
const SIZES = args.list('--sizes', ['100', '300', '1000', '3000', '5000']).map(Number);
const RUNS = Math.max(1, args.number('--runs', 5));
const WRITE = !args.flag('--no-write');
const SEED = 2026;
requireBuilt(CLI);

const started = Date.now();
const npm = tool('npm', 11);
const { startRegistry, syntheticGraph } = await loadTestRegistry();
const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-check-'));
const rows = [];
try {
  for (const size of SIZES) {
    const graph = syntheticGraph({ packages: size, seed: SEED });
    const registry = await startRegistry({ packages: graph.packages });
    const base = join(work, `${size}`);
    const project = join(base, 'project');
    const cache = join(base, 'cache');
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'bench', version: '1.0.0', private: true, dependencies: graph.dependencies }));
    writeFileSync(join(project, '.npmrc'), `registry=${registry.url}\n`);
    writeFileSync(join(base, 'userconfig'), '');
    writeFileSync(join(project, 'portcullis.json'), JSON.stringify({ scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } }));
    const env = { PATH: process.env.PATH, HOME: base, PORTCULLIS_CACHE_DIR: cache, npm_config_userconfig: join(base, 'userconfig'), npm_config_cache: join(base, 'npm-cache'), NO_COLOR: '1' };
    try {
      expectExit(await run(npm.command, [...npm.args, 'install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project, env }), 'npm install --package-lock-only');
      const entries = Object.keys(JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')).packages).filter((k) => k !== '').length;
      const check = async () => expectExit(await run(process.execPath, [CLI, 'check', '--format', 'json'], { cwd: project, env }), 'portcullis check', [0, 1]);
      let findings = 0;
      /** Ages every cached packument past the cache's 5-minute freshness: the next run revalidates it (HTTP 304). */
      const age = () => ageMetadata(cache);
      const [cold, warm, stale, staleNoMemo] = await rotate(RUNS, [
        async () => {
          discard(cache);
          return check();
        },
        async () => {
          const r = await check();
          findings = JSON.parse(r.stdout).findings.length;
          return r;
        },
        async () => {
          age();
          return check();
        },
        async () => {
          age();
          discard(join(cache, 'verified-v2'));
          return check();
        },
      ]);
      // Every run leaves the cache full and the memo written, so each variant sets up only what it needs.
      rows.push({ size, entries, findings, cold, warm, stale, staleNoMemo });
      process.stdout.write(`${entries} packages: cold ${ms(median(cold.map((r) => r.ms)))} ms, warm ${ms(median(warm.map((r) => r.ms)))} ms, stale ${ms(median(stale.map((r) => r.ms)))} ms, stale without memo ${ms(median(staleNoMemo.map((r) => r.ms)))} ms\n`);
    } finally {
      await registry.close();
      discard(base);
    }
  }
  const bare = [];
  for (let i = 0; i < RUNS; i++) bare.push((await run(process.execPath, ['-e', '0'], { cwd: work })).ms);

  const base = rows.find((r) => r.entries >= 900) ?? rows[0];
  const perK = (r, which) => (median(r[which].map((x) => x.ms)) / r.entries) * 1000;
  const cell = (xs) => `${ms(median(xs))} (${spread(xs)})`;
  const table = [
    '| installed packages | findings | cold ms, median (min–max) | warm ms, median (min–max) | warm ms per 1,000 packages | stale cache ms | stale cache, no memo ms | peak MB cold / warm / stale |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const times = (k) => r[k].map((x) => x.ms);
      const peak = (k) => mb(median(r[k].map((x) => x.rssMB)));
      return `| ${r.entries.toLocaleString('en-US')} | ${r.findings} | ${cell(times('cold'))} | ${cell(times('warm'))} | ${ms(perK(r, 'warm'))} | ${cell(times('stale'))} | ${cell(times('staleNoMemo'))} | ${peak('cold')} / ${peak('warm')} / ${peak('stale')} |`;
    }),
    `| \`node -e 0\` (process start) | | | ${cell(bare)} | | | | |`,
  ];
  const at3k = rows.find((r) => r.size === 3000);
  const largest = rows.at(-1);
  const notes = [];
  if (at3k) {
    const w = median(at3k.warm.map((x) => x.ms));
    notes.push(`Target: \`check\` on 3,000 packages with a warm cache under 1 s — **${w < 1000 ? 'met' : 'missed'}** (median ${ms(w)} ms for ${at3k.entries.toLocaleString('en-US')} installed packages).`);
  }
  if (largest && base && largest !== base) {
    const growth = perK(largest, 'warm') / perK(base, 'warm');
    const growthCold = perK(largest, 'cold') / perK(base, 'cold');
    notes.push(`Scaling: warm time per package at ${largest.entries.toLocaleString('en-US')} packages is ${growth.toFixed(2)}× the per-package time at ${base.entries.toLocaleString('en-US')} (cold ${growthCold.toFixed(2)}×) — ${growth <= 1.15 && growthCold <= 1.15 ? 'linear or better' : 'worse than linear'}.`);
  }
  const body = [
    '## `portcullis check`: scaling curve',
    '',
    `\`node bench/check.mjs\` (measured ${today()}). npm lockfiles (v3, \`npm install --package-lock-only\` with npm ${npm.version}) of synthetic graphs (seed ${SEED}); findings are the graph's postinstall packages (no builds allowed). ${RUNS} runs per size, the order rotating each round: **cold** (metadata cache emptied), **warm** (nothing changed, cache fresh), **stale** (every cached packument older than the cache's 5 minutes, as after a coffee break; versions verified before come from the verified-versions memo) and **stale, no memo** (the same with the memo deleted: every packument revalidated by a conditional request, as every such run did before the memo). Peak memory: ${memoryMethod}.`,
    `Machine: ${machine()}.`,
    '',
    ...table,
    '',
    ...notes,
    '',
    `Wall time of this script: ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  ].join('\n');
  process.stdout.write(`\n${body}\n`);
  if (WRITE) writeSection('check', body);
} finally {
  rmSync(work, { recursive: true, force: true });
}
