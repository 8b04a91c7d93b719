#!/usr/bin/env node
// `portcullis check` wall time on a large lockfile (default 2,000 packages), cold (empty metadata
// cache) and warm (cache filled, nothing changed), against the local test registry. Prints a markdown
// table and updates the check section of docs/benchmarks.md (other sections are kept).
//
//   node bench/check.mjs [--packages N] [--runs N] [--no-write]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const PACKAGES = option('--packages', 2000);
const RUNS = option('--runs', 7);
const WRITE = !args.includes('--no-write');
const CLI = join(root, 'packages/cli/dist/portcullis.js');
const NPM = join(root, 'packages/e2e/node_modules/npm11/bin/npm-cli.js');

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the workspace first (node scripts/pnpm.mjs build)`);

async function loadTestRegistry() {
  const esbuild = createRequire(join(root, 'packages/test-registry/package.json'))('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const outfile = join(dir, 'registry.mjs');
  await esbuild.build({ entryPoints: [join(root, 'packages/test-registry/src/index.ts')], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' });
  const module = await import(pathToFileURL(outfile).href);
  rmSync(dir, { recursive: true, force: true });
  return module;
}

function run(command, argv, options) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, argv, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const { startRegistry, syntheticGraph } = await loadTestRegistry();
const graph = syntheticGraph({ packages: PACKAGES, seed: 2026 });
const registry = await startRegistry({ packages: graph.packages });
const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-check-'));
const project = join(work, 'project');
const cache = join(work, 'cache');
mkdirSync(project);
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'bench', version: '1.0.0', private: true, dependencies: graph.dependencies }));
writeFileSync(join(project, '.npmrc'), `registry=${registry.url}\n`);
writeFileSync(join(work, 'userconfig'), '');
writeFileSync(join(project, 'portcullis.json'), JSON.stringify({ scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } }));
const env = { ...process.env, PORTCULLIS_CACHE_DIR: cache, npm_config_userconfig: join(work, 'userconfig'), npm_config_cache: join(work, 'npm-cache'), NO_COLOR: '1' };

try {
  const lock = await run(process.execPath, [NPM, 'install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project, env });
  if (lock.code !== 0) throw new Error(`npm could not write the lockfile: ${lock.stderr}`);
  const lockfile = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'));
  const entries = Object.keys(lockfile.packages).filter((k) => k !== '').length;

  const check = () => run(process.execPath, [CLI, 'check', '--format', 'json'], { cwd: project, env });
  const cold = [];
  const warm = [];
  let findings = 0;
  for (let i = 0; i < RUNS; i++) {
    rmSync(cache, { recursive: true, force: true });
    const c = await check();
    if (c.code !== 1 && c.code !== 0) throw new Error(`check failed (exit ${c.code}): ${c.stderr}`);
    cold.push(c.ms);
    const w = await check();
    warm.push(w.ms);
    findings = JSON.parse(w.stdout).findings.length;
  }
  const bare = [];
  for (let i = 0; i < RUNS; i++) bare.push((await run(process.execPath, ['-e', '0'], { cwd: project, env })).ms);

  const row = (label, xs) => `| ${label} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} |`;
  const table = [
    `Lockfile: ${entries} installed packages (npm lockfile v3, synthetic graph of ${PACKAGES} versions, seed 2026), ${findings} findings (its install-script packages). ${RUNS} runs each, alternating cold and warm.`,
    `Machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.versions.node}.`,
    '',
    '| run | median ms | min–max ms |',
    '|---|---:|---:|',
    row('`portcullis check`, cold metadata cache', cold),
    row('`portcullis check`, warm cache (nothing changed)', warm),
    row('`node -e 0` (process start, for scale)', bare),
    '',
    `Target: warm check on 2,000 packages under 1 s — **${median(warm) < 1000 ? 'met' : 'missed'}** (median ${median(warm).toFixed(0)} ms).`,
  ].join('\n');
  process.stdout.write(`${table}\n`);

  if (WRITE) {
    const doc = join(root, 'docs/benchmarks.md');
    const start = '<!-- bench:check:start -->';
    const end = '<!-- bench:check:end -->';
    const section = `${start}\n## \`portcullis check\` on a large lockfile\n\n\`node bench/check.mjs\` (measured ${new Date().toISOString().slice(0, 10)})\n\n${table}\n${end}`;
    let text = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n';
    text = text.includes(start) ? text.replace(new RegExp(`${start}[\\s\\S]*?${end}`), section) : `${text.trimEnd()}\n\n${section}\n`;
    writeFileSync(doc, text);
  }
} finally {
  await registry.close();
  rmSync(work, { recursive: true, force: true });
}
