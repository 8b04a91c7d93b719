#!/usr/bin/env node
// The cooldown and advisories (issue 16): `portcullis check` with `cooldown.minimumReleaseAge`, and with
// `advisories.osv` naming a bundle of 100,000 OSV records (none for the graph's packages), against `check` with both
// off, on npm lockfiles of synthetic graphs (default 1,000 and 3,000 packages): cold (empty cache and state
// directories: publish times need every full packument), warm (the next run: publish times from the
// `published-v1` memo, nothing fetched) and stale (every cached packument older than the cache's 5 minutes: the
// memos answer, nothing is fetched again), the order rotating each round. Counts the
// registry requests of each run from the test registry's log. Prints a markdown table and updates the cooldown
// section of docs/benchmarks.md (other sections are kept).
//
//   node bench/cooldown.mjs [--sizes 1000,3000] [--runs 5] [--quick] [--no-write]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ageMetadata, CLI, expectExit, loadTestRegistry, machine, mb, median, memoryMethod, ms, parseArgs, requireBuilt, rotate, run, spread, today, tool, writeSection } from './lib.mjs';

const args = parseArgs();
const QUICK = args.flag('--quick');
const SIZES = args.list('--sizes', QUICK ? ['200'] : ['1000', '3000']).map(Number);
const RUNS = Math.max(1, args.number('--runs', QUICK ? 2 : 5));
const WRITE = !args.flag('--no-write');
const SEED = 2026;
const AGE = '3d';
const ADVISORY_RECORDS = QUICK ? 5_000 : 100_000;
requireBuilt(CLI);

const started = Date.now();
const npm = tool('npm', 11);
const { startRegistry, syntheticGraph } = await loadTestRegistry();
const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-cooldown-'));

/** Requests of the test registry's log by kind (packument paths do not say abbreviated or full). */
function countRequests(log) {
  const c = { packuments: 0, notModified: 0, other: 0 };
  for (const r of log) {
    if (r.path.startsWith('/-/') || r.path.endsWith('.tgz')) c.other++;
    else if (r.status === 304) c.notModified++;
    else c.packuments++;
  }
  return c;
}
const describeRequests = (c) => {
  const parts = [];
  if (c.packuments) parts.push(`${c.packuments.toLocaleString('en-US')} packuments`);
  if (c.notModified) parts.push(`${c.notModified.toLocaleString('en-US')} × 304`);
  if (c.other) parts.push(`${c.other} other`);
  return parts.length ? parts.join(', ') : '0';
};

const rows = [];
try {
  for (const size of SIZES) {
    const graph = syntheticGraph({ packages: size, seed: SEED });
    const names = new Set(graph.packages.map((p) => p.name)).size;
    const registry = await startRegistry({ packages: graph.packages });
    const base = join(work, `${size}`);
    const project = join(base, 'project');
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'bench', version: '1.0.0', private: true, dependencies: graph.dependencies }));
    writeFileSync(join(project, '.npmrc'), `registry=${registry.url}\n`);
    writeFileSync(join(base, 'userconfig'), '');
    // Policies outside the project, one per variant; the fixtures were published in 2026-06, long before any run.
    const policy = { scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } };
    const policies = { on: policy, off: policy, young: policy, adv: policy };
    policies.on = { ...policy, cooldown: { minimumReleaseAge: AGE } };
    // A bundle file of OSV records (one JSON list, as the docs recommend for the public data set), for packages the graph does not have.
    const osv = join(base, 'osv.json');
    writeFileSync(
      osv,
      JSON.stringify(
        Array.from({ length: ADVISORY_RECORDS }, (_, i) => ({
          schema_version: '1.5.0',
          id: `MAL-2099-${i}`,
          modified: '2026-11-30T00:00:00Z',
          summary: `Malicious code in bench-mal-${i} (npm)`,
          affected: [{ package: { ecosystem: 'npm', name: `bench-mal-${i}` }, versions: ['1.0.0'] }],
        })),
      ),
    );
    policies.adv = { ...policy, advisories: { osv: [osv] } };
    policies.young = { ...policy, cooldown: { minimumReleaseAge: '365d' } };
    for (const [which, p] of Object.entries(policies)) {
      mkdirSync(join(base, which));
      writeFileSync(join(base, which, 'portcullis.json'), JSON.stringify(p));
    }
    const dirs = (which) => ({ cache: join(base, which, 'cache'), state: join(base, which, 'state') });
    const envOf = (which) => ({
      PATH: process.env.PATH,
      HOME: base,
      TMPDIR: tmpdir(),
      PORTCULLIS_POLICY: join(base, which, 'portcullis.json'),
      PORTCULLIS_CACHE_DIR: dirs(which).cache,
      PORTCULLIS_STATE_DIR: dirs(which).state,
      npm_config_userconfig: join(base, 'userconfig'),
      npm_config_cache: join(base, 'npm-cache'),
      NO_COLOR: '1',
    });
    try {
      expectExit(await run(npm.command, [...npm.args, 'install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project, env: envOf('off') }), 'npm install --package-lock-only');
      const entries = Object.keys(JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')).packages).filter((k) => k !== '').length;
      const check = async (which, prepare) => {
        if (prepare === 'cold') for (const d of Object.values(dirs(which))) rmSync(d, { recursive: true, force: true });
        if (prepare === 'stale') ageMetadata(dirs(which).cache);
        registry.requests.length = 0;
        const r = expectExit(await run(process.execPath, [CLI, 'check', '--format', 'json'], { cwd: project, env: envOf(which) }), 'portcullis check', [0, 1]);
        r.requests = countRequests(registry.requests);
        r.findings = JSON.parse(r.stdout).findings;
        const tooNew = r.findings.filter((f) => f.code === 'RELEASE_TOO_NEW' || f.rule === 'cooldown').length;
        if (which !== 'young' && tooNew > 0) throw new Error(`check found ${tooNew} too-new versions in a graph published months ago`);
        if (r.findings.some((f) => f.code === 'KNOWN_MALICIOUS')) throw new Error('check found advisories for packages no record names');
        if (which !== 'young' && r.code !== 0 && r.findings.some((f) => f.code === 'METADATA_UNAVAILABLE')) throw new Error('check could not decide some versions');
        return r;
      };
      // Sanity (not timed): the cooldown is applied — with a limit longer than the fixtures' age every version is too new.
      const young = await check('young', 'cold');
      const flagged = new Set(young.findings.filter((f) => f.code === 'RELEASE_TOO_NEW').map((f) => `${f.package}@${f.version}`));
      const missed = graph.packages.filter((p) => !flagged.has(`${p.name}@${p.version}`));
      if (missed.length > 0) throw new Error(`with minimumReleaseAge 365d, ${missed.length} of ${graph.packages.length} versions were not too new: ${missed.slice(0, 3).map((p) => `${p.name}@${p.version}`).join(', ')}`);
      // One unmeasured run of each (fills the caches the warm and stale runs start from).
      await check('on', 'cold');
      await check('off', 'cold');
      await check('adv', 'cold');
      const variants = [
        ['on', 'cold'],
        ['on', 'warm'],
        ['on', 'stale'],
        ['off', 'cold'],
        ['off', 'warm'],
        ['off', 'stale'],
        ['adv', 'cold'],
        ['adv', 'warm'],
      ];
      const series = await rotate(
        RUNS,
        variants.map(([which, prepare]) => () => check(which, prepare)),
      );
      const get = (which, prepare) => series[variants.findIndex(([w, p]) => w === which && p === prepare)];
      rows.push({ size, entries, names, findings: get('off', 'warm')[0].findings.length, get });
      const med = (which, prepare) => median(get(which, prepare).map((r) => r.ms));
      process.stdout.write(
        `${entries} packages: cooldown cold ${ms(med('on', 'cold'))} / warm ${ms(med('on', 'warm'))} / stale ${ms(med('on', 'stale'))} ms; off cold ${ms(med('off', 'cold'))} / warm ${ms(med('off', 'warm'))} / stale ${ms(med('off', 'stale'))} ms\n`,
      );
    } finally {
      await registry.close();
      rmSync(base, { recursive: true, force: true });
    }
  }

  const cell = (xs) => `${ms(median(xs))} (${spread(xs)})`;
  const table = [
    '| installed packages (names) | run | cooldown off: ms, median (min–max) | cooldown on: ms, median (min–max) | on ÷ off | registry requests per run, off | registry requests per run, on | peak MB off / on |',
    '|---|---|---:|---:|---:|---|---|---:|',
  ];
  for (const r of rows) {
    for (const prepare of ['cold', 'warm', 'stale']) {
      const off = r.get('off', prepare);
      const on = r.get('on', prepare);
      const t = (s) => s.map((x) => x.ms);
      const reqs = (s) => {
        const all = s.map((x) => describeRequests(x.requests));
        return all.every((x) => x === all[0]) ? all[0] : `${all[0]} (varied: ${[...new Set(all)].join('; ')})`;
      };
      table.push(
        `| ${r.entries.toLocaleString('en-US')} (${r.names.toLocaleString('en-US')}) | ${prepare} | ${cell(t(off))} | ${cell(t(on))} | ${(median(t(on)) / median(t(off))).toFixed(2)}× | ${reqs(off)} | ${reqs(on)} | ${mb(median(off.map((x) => x.rssMB)))} / ${mb(median(on.map((x) => x.rssMB)))} |`,
      );
    }
  }
  const advisoryTable = [
    `| installed packages | run | both off: ms, median | advisories on (${ADVISORY_RECORDS.toLocaleString('en-US')} records): ms, median (min–max) | on ÷ off | peak MB off / on |`,
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    for (const prepare of ['cold', 'warm']) {
      const off = r.get('off', prepare).map((x) => x.ms);
      const on = r.get('adv', prepare);
      advisoryTable.push(`| ${r.entries.toLocaleString('en-US')} | ${prepare} | ${ms(median(off))} | ${cell(on.map((x) => x.ms))} | ${(median(on.map((x) => x.ms)) / median(off)).toFixed(2)}× | ${mb(median(r.get('off', prepare).map((x) => x.rssMB)))} / ${mb(median(on.map((x) => x.rssMB)))} |`);
    }
  }
  const notes = [];
  for (const r of rows) {
    const warmOn = r.get('on', 'warm');
    const fetched = Math.max(...warmOn.map((x) => x.requests.packuments + x.requests.notModified + x.requests.other));
    const [on, off] = [median(warmOn.map((x) => x.ms)), median(r.get('off', 'warm').map((x) => x.ms))];
    const [coldOn, coldOff] = [median(r.get('on', 'cold').map((x) => x.ms)), median(r.get('off', 'cold').map((x) => x.ms))];
    notes.push(
      `- ${r.entries.toLocaleString('en-US')} packages: warm with the cooldown fetched **${fetched === 0 ? 'nothing' : `${fetched} documents`}** (median ${ms(on)} ms, ${on >= off ? `${ms(on - off)} ms more` : `${ms(off - on)} ms less`} than without it; see the spread in the table); cold it costs ${ms(coldOn - coldOff)} ms more (${((coldOn - coldOff) / r.names).toFixed(2)} ms per name: each name's full packument, larger than the abbreviated one, is fetched instead of it).`,
    );
  }
  const body = [
    '## Cooldown and advisories: `check` with `cooldown.minimumReleaseAge` and `advisories.osv`',
    '',
    `\`node bench/cooldown.mjs\` (measured ${today()}). npm lockfiles (v3, \`npm install --package-lock-only\` with npm ${npm.version}) of synthetic graphs (seed ${SEED}); the fixtures were published in June 2026, so with \`minimumReleaseAge: "${AGE}"\` nothing is too new and every version's publish time must be known (before measuring, a run with \`"365d"\` checked that the cooldown finds every version too new). Policies outside the project; findings are the graph's postinstall packages (no builds allowed), the same with and without the cooldown. ${RUNS} rounds, the eight runs rotating each round, after one unmeasured run of each: **cold** (empty \`PORTCULLIS_CACHE_DIR\` and \`PORTCULLIS_STATE_DIR\`: each name's abbreviated packument is fetched or, with the cooldown, its full packument instead, which also has the publish times), **warm** (the next run, cache fresh) and **stale** (every cached packument older than the cache's 5 minutes, as on the next working day: versions verified before come from the verified-versions memo, publish times from the \`published-v1\` memo). Requests: what the test registry served during one run (its log does not tell abbreviated from full documents; 304 = revalidated). Peak memory: ${memoryMethod}.`,
    `Machine: ${machine()}.`,
    '',
    ...table,
    '',
    ...notes,
    '',
    `Advisories in the same runs: \`advisories.osv\` names one bundle file of ${ADVISORY_RECORDS.toLocaleString('en-US')} OSV records (none for the graph's packages). **cold** builds the index from the records (empty cache and state directories), **warm** loads the cached index (one \`stat\` for its key, one HMAC check) and looks every installed package up.`,
    '',
    ...advisoryTable,
    '',
    `Wall time of this script: ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  ].join('\n');
  process.stdout.write(`\n${body}\n`);
  if (WRITE) writeSection('cooldown', body);
} finally {
  rmSync(work, { recursive: true, force: true });
}
