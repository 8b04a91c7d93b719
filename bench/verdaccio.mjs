#!/usr/bin/env node
// The Verdaccio plugin (issue 19). Part 1, in process: filter and sign one packument of 3,000 versions (all signed
// by the upstream) with the plugin's vetter — cold (nothing remembered: 3,000 signatures verified and 3,000 made),
// restarted (a new process over the same cache folder: core's verified-versions memo answers, 3,000 signatures made)
// and warm (the verdict cache answers, nothing verified or signed). Part 2, over HTTP: a real Verdaccio 6.8.0 with
// the plugin against one without it, same upstream, both warmed, requests alternating, medians: the 3,000-version
// packument (full and abbreviated) and a one-version one. Prints a markdown table and updates the verdaccio
// section of docs/benchmarks.md (other sections are kept).
//
//   node bench/verdaccio.mjs [--versions 3000] [--runs 5] [--requests 30] [--quick] [--no-write]
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { importTsModules, machine, median, ms, parseArgs, requireBuilt, root, spread, today, writeSection } from './lib.mjs';

const args = parseArgs();
const QUICK = args.flag('--quick');
const VERSIONS = args.number('--versions', QUICK ? 300 : 3000);
const RUNS = Math.max(1, args.number('--runs', QUICK ? 2 : 5));
const REQUESTS = Math.max(2, args.number('--requests', QUICK ? 6 : 30));
const WRITE = !args.flag('--no-write');
const PLUGINS = join(root, 'packages/verdaccio/dist');
requireBuilt(join(PLUGINS, 'verdaccio-portcullis', 'index.js'));
const BIN = join(dirname(createRequire(join(root, 'packages/e2e/package.json')).resolve('verdaccio/package.json')), 'bin', 'verdaccio');

const started = Date.now();
const mod = await importTsModules(['packages/test-registry/src/index.ts', 'packages/verdaccio/src/vet.ts', 'packages/verdaccio/src/config.ts', 'packages/e2e/src/verdaccio.ts']);
const { startRegistry, cleanPackage, createVetter, readSettings, startVerdaccio } = mod;
const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-verdaccio-'));
const now = () => Number(process.hrtime.bigint()) / 1e6;
const old = new Date(Date.now() - 30 * 86_400_000).toISOString();

const specs = [cleanPackage('small-lib', '1.0.0', { publishedAt: old })];
for (let i = 0; i < VERSIONS; i++) specs.push(cleanPackage('big-lib', `${Math.floor(i / 100)}.${i % 100}.0`, { publishedAt: old }));
const registry = await startRegistry({ packages: specs });
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
writeFileSync(join(work, 'portcullis.json'), JSON.stringify({ registries: { [registry.url]: { keys: registry.keys.keys } } }));
const settingsIn = (dir) => readSettings({ policy: 'portcullis.json', upstream: registry.url, signingKey: { env: 'BENCH_ORG_KEY' }, cacheDir: join(dir, 'cache'), stateDir: join(dir, 'state') }, work, { BENCH_ORG_KEY: pem });
const upstream = await (await fetch(`${registry.url}big-lib`)).json();
const servedCount = (out) => Object.keys(out.versions).length;

const rows = [];
const http = [];
const instances = [];
try {
  // Part 1: the vetter in process.
  const cold = [];
  const restarted = [];
  const warm = [];
  for (let run = 0; run < RUNS; run++) {
    const dir = join(work, `vet-${run}`);
    const first = createVetter(settingsIn(dir));
    let t = now();
    const out = await first.vet(structuredClone(upstream));
    cold.push(now() - t);
    if (servedCount(out) !== VERSIONS) throw new Error(`cold: served ${servedCount(out)} of ${VERSIONS}`);
    t = now();
    if (servedCount(await first.vet(structuredClone(upstream))) !== VERSIONS) throw new Error('warm: not every version served');
    warm.push(now() - t);
    const second = createVetter(settingsIn(dir));
    t = now();
    if (servedCount(await second.vet(structuredClone(upstream))) !== VERSIONS) throw new Error('restarted: not every version served');
    restarted.push(now() - t);
  }
  rows.push(['cold: nothing remembered (verify and sign every version)', cold], ['restarted: same cache folder, empty memory (sign every version)', restarted], ['warm: verdicts and signatures remembered', warm]);

  // Part 2: request cost through a real Verdaccio, with and without the plugin.
  const plugin = { policy: join(work, 'portcullis.json'), upstream: registry.url, signingKey: { env: 'BENCH_ORG_KEY' }, cacheDir: join(work, 'http', 'cache'), stateDir: join(work, 'http', 'state') };
  const withPlugin = await startVerdaccio({ dir: join(work, 'with'), storage: join(work, 'with', 'storage'), uplink: registry.url, plugin, env: { BENCH_ORG_KEY: pem }, bin: BIN, plugins: PLUGINS });
  instances.push(withPlugin);
  const without = await startVerdaccio({ dir: join(work, 'without'), storage: join(work, 'without', 'storage'), uplink: registry.url, env: {}, bin: BIN, plugins: PLUGINS });
  instances.push(without);
  const get = async (v, name, abbreviated) => {
    const t = now();
    const res = await fetch(`${v.url}${name}`, abbreviated ? { headers: { accept: 'application/vnd.npm.install-v1+json' } } : {});
    const body = await res.json();
    const elapsed = now() - t;
    if (res.status !== 200 || typeof body.versions !== 'object') throw new Error(`${name} from ${v.url}: ${res.status}`);
    return { elapsed, versions: Object.keys(body.versions).length };
  };
  for (const [label, name, abbreviated] of [[`${VERSIONS.toLocaleString('en-US')}-version packument, full`, 'big-lib', false], [`${VERSIONS.toLocaleString('en-US')}-version packument, abbreviated`, 'big-lib', true], ['1-version packument, full', 'small-lib', false]]) {
    // Warm both (uplink fetched and stored, verdicts made), then alternate.
    for (const v of [withPlugin, without]) for (let i = 0; i < 2; i++) await get(v, name, abbreviated);
    const a = [];
    const b = [];
    for (let i = 0; i < REQUESTS; i++) {
      const order = i % 2 === 0 ? [[withPlugin, a], [without, b]] : [[without, b], [withPlugin, a]];
      for (const [v, into] of order) into.push((await get(v, name, abbreviated)).elapsed);
    }
    http.push([label, a, b]);
  }
} finally {
  for (const v of instances) await v.close();
  await registry.close();
  rmSync(work, { recursive: true, force: true });
}

const table = [
  `| filter + sign one packument of ${VERSIONS.toLocaleString('en-US')} versions (${RUNS} runs) | median ms | range ms |`,
  '|---|---:|---:|',
  ...rows.map(([what, xs]) => `| ${what} | ${ms(median(xs))} | ${spread(xs)} |`),
  '',
  `| one request through Verdaccio 6.8.0 (${REQUESTS} each, alternating, warm) | with the plugin, median ms | without, median ms | cost of the plugin, ms |`,
  '|---|---:|---:|---:|',
  ...http.map(([what, a, b]) => `| ${what} | ${median(a).toFixed(1)} | ${median(b).toFixed(1)} | ${(median(a) - median(b)).toFixed(1)} |`),
].join('\n');
const body = [
  '## Verdaccio plugin: filter and sign (`bench/verdaccio.mjs`)',
  '',
  `${today()}, ${machine()}. The plugin's vetter (packages/verdaccio/src/vet.ts, core's gate under it) on one packument whose ${VERSIONS.toLocaleString('en-US')} versions the upstream (the test registry) signed; then a real Verdaccio with the plugin pair against one without it, same upstream, each request timed by the client (fetch and JSON parse).`,
  '',
  table,
  '',
  'Cold is the first request for a package after an instance starts with an empty cache folder; restarted is a new instance over a cache folder another run filled (core remembers verified versions per integrity and key set, so only the signing is redone); warm is every later request within `recheckMinutes` (default 10): the verdict cache holds the signature too, so serving costs a copy of the packument.',
].join('\n');
process.stdout.write(`\n${body}\n\nwall time ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
if (WRITE) writeSection('verdaccio', body);
