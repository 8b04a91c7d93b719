#!/usr/bin/env node
// Overhead of `portcullis-npm install` over a bare `npm install` when there is nothing to do (lockfile
// current, node_modules in place), against the local test registry: both in the same run, alternating,
// medians. Prints a markdown table and updates the npm-wrapper section of docs/benchmarks.md.
//
//   node bench/npm-wrapper.mjs [--packages N] [--runs N] [--npm 10|11] [--no-write]
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
const PACKAGES = option('--packages', 200);
const RUNS = Math.max(5, option('--runs', 7));
const NPM_MAJOR = option('--npm', 11);
const WRITE = !args.includes('--no-write');
const WRAPPER = join(root, 'packages/npm/dist/portcullis-npm.js');
const NPM = join(root, `packages/e2e/node_modules/npm${NPM_MAJOR}/bin/npm-cli.js`);

if (!existsSync(WRAPPER)) throw new Error(`${WRAPPER} is missing: build the workspace first (node scripts/pnpm.mjs build)`);
if (NPM_MAJOR === 12) throw new Error('npm 12 needs Node >= 22; run this benchmark with --npm 10 or 11');

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
const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-npm-'));
const project = join(work, 'project');
mkdirSync(project);
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'bench', version: '1.0.0', private: true, dependencies: graph.dependencies }));
// As after `portcullis init npm`: a bare npm runs no dependency scripts either.
writeFileSync(join(project, '.npmrc'), `registry=${registry.url}\nignore-scripts=true\n`);
writeFileSync(join(work, 'userconfig'), '');
writeFileSync(join(project, 'portcullis.json'), JSON.stringify({ scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } }));
const env = {
  ...process.env,
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

  const wrapped = [];
  const bare = [];
  for (let i = 0; i < RUNS; i++) {
    const w = await run(process.execPath, [WRAPPER, 'install'], { cwd: project, env });
    if (w.code !== 0) throw new Error(`portcullis-npm install failed (exit ${w.code}): ${w.stderr}`);
    wrapped.push(w.ms);
    const b = await run(process.execPath, [NPM, 'install'], { cwd: project, env });
    if (b.code !== 0) throw new Error(`npm install failed (exit ${b.code}): ${b.stderr}`);
    bare.push(b.ms);
  }
  const npmVersion = JSON.parse(readFileSync(join(dirname(dirname(NPM)), 'package.json'), 'utf8')).version;
  const row = (label, xs) => `| ${label} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} |`;
  const overhead = median(wrapped) - median(bare);
  const table = [
    `Project: ${entries} installed packages (synthetic graph of ${PACKAGES} versions, seed 2026), lockfile current, node_modules in place, \`ignore-scripts=true\` in .npmrc. npm ${npmVersion}. ${RUNS} runs each, alternating.`,
    `Machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.versions.node}.`,
    '',
    '| run | median ms | min–max ms |',
    '|---|---:|---:|',
    row('`npm install` (bare)', bare),
    row('`portcullis-npm install`', wrapped),
    '',
    `Overhead of the wrapper: **${overhead.toFixed(0)} ms** (${((median(wrapped) / median(bare) - 1) * 100).toFixed(0)}%): a lock-only resolution, two decisions on the lockfile (warm metadata cache) and the npm process that installs.`,
  ].join('\n');
  process.stdout.write(`${table}\n`);

  if (WRITE) {
    const doc = join(root, 'docs/benchmarks.md');
    const start = '<!-- bench:npm-wrapper:start -->';
    const end = '<!-- bench:npm-wrapper:end -->';
    const section = `${start}\n## \`portcullis-npm install\` with nothing to do\n\n\`node bench/npm-wrapper.mjs\` (measured ${new Date().toISOString().slice(0, 10)})\n\n${table}\n${end}`;
    let text = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n';
    text = text.includes(start) ? text.replace(new RegExp(`${start}[\\s\\S]*?${end}`), section) : `${text.trimEnd()}\n\n${section}\n`;
    writeFileSync(doc, text);
  }
} finally {
  await registry.close();
  rmSync(work, { recursive: true, force: true });
}
