// Shared helpers of the bench scripts: argument parsing, esbuild bundling of TypeScript sources (the
// test registry, core), the real package managers, child processes with wall time and peak memory,
// statistics and the docs/benchmarks.md section writer. Node built-ins only (esbuild from the workspace).
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = dirname(dirname(fileURLToPath(import.meta.url)));
export const CLI = join(root, 'packages/cli/dist/portcullis.js');
export const NPM_WRAPPER = join(root, 'packages/npm/dist/portcullis-npm.js');
export const PNPMFILE = join(root, 'packages/pnpm/dist/pnpmfile.cjs');
export const YARN_PLUGIN = join(root, 'packages/yarn-plugin/bundles/@yarnpkg/plugin-portcullis.js');
export const DOC = join(root, 'docs/benchmarks.md');

/** Linux's TMPFS_MAGIC (statfs f_type). */
const TMPFS = 0x01021994;
const isTmpfs = (dir) => {
  try {
    return statfsSync(dir).type === TMPFS;
  } catch {
    return false;
  }
};

/**
 * Where the bench's folders go (projects, stores, caches, the package managers' own temporary files): every script
 * imports this module first, and `os.tmpdir()` answers this folder from then on (TMPDIR), for it and for every
 * process it starts. `PORTCULLIS_BENCH_TMPDIR` if set; else a tmpfs (`/dev/shm`) when there is one with 8 GB free;
 * else the system's temporary folder.
 *
 * Why not the disk: on these machines' file system (ext4 without a journal, mounted with `discard`) deleting is slow,
 * and inodes deleted in the last minutes are skipped when new files are created (the kernel's `recently_deleted`
 * check: 38 % of a cold install's samples in `perf`), so every install that followed a deletion, ours or anyone's,
 * paid for it. Bare pnpm 12 cold installs of 1,000 packages in a row, each after removing the previous one's store,
 * cache and node_modules: 1.2, 1.8, 2.6, 3.9, 4.9, 5.6, 5.6, 6.2 s (system time 1.1 → 10.1 s); in new folders, nothing
 * deleted: 1.2–1.6 s; on tmpfs, deleting between rounds: 1.1–1.4 s. Moving what is removed aside until the script
 * ends (the trash below) kept the measured installs steady on disk, but deleting it then took 5 of the full bench's
 * 27 minutes.
 */
export const scratch = (() => {
  const told = process.env.PORTCULLIS_BENCH_TMPDIR;
  let dir = told !== undefined && told !== '' ? told : undefined;
  if (dir === undefined && process.platform === 'linux' && isTmpfs('/dev/shm')) {
    try {
      accessSync('/dev/shm', constants.W_OK);
      const fs = statfsSync('/dev/shm');
      if (fs.bavail * fs.bsize >= 8 * 1024 ** 3) dir = '/dev/shm';
    } catch {}
  }
  if (dir !== undefined) process.env.TMPDIR = dir;
  const used = tmpdir();
  return { dir: used, tmpfs: isTmpfs(used) };
})();

/** How the bench's files were kept, for the tables' headers. */
export const scratchNote = () => (scratch.tmpfs ? `Projects, stores and caches on a tmpfs (${scratch.dir}; see bench/lib.mjs).` : `Projects, stores and caches in ${scratch.dir} (not a tmpfs; see bench/lib.mjs).`);

/**
 * What a script removes between measured runs: deleted at once on a tmpfs; elsewhere moved to a trash folder, deleted
 * when the script exits (a deletion there slows the installs that follow it: see `scratch`).
 */
let trash;
let discarded = 0;

/** Removes `path` (nothing when it does not exist). */
export function discard(path) {
  if (scratch.tmpfs) return rmSync(path, { recursive: true, force: true });
  trash ??= mkdtempSync(join(tmpdir(), 'portcullis-bench-trash-'));
  try {
    renameSync(path, join(trash, String(discarded++)));
  } catch (error) {
    if (error.code !== 'ENOENT') rmSync(path, { recursive: true, force: true });
  }
}

/** Deletes what `discard` moved aside, when the script exits. */
function emptyTrash() {
  if (trash !== undefined) rmSync(trash, { recursive: true, force: true });
  trash = undefined;
}
process.on('exit', emptyTrash);

/** `--name N` (numbers), `--name a,b` (lists) and bare flags from the command line. */
export function parseArgs(argv = process.argv.slice(2)) {
  const at = (name) => argv.indexOf(name);
  return {
    number: (name, fallback) => (at(name) === -1 ? fallback : Number(argv[at(name) + 1])),
    string: (name, fallback) => (at(name) === -1 ? fallback : argv[at(name) + 1]),
    list: (name, fallback) => (at(name) === -1 ? fallback : argv[at(name) + 1].split(',').filter(Boolean)),
    flag: (name) => argv.includes(name),
  };
}

export function requireBuilt(...files) {
  for (const file of files) if (!existsSync(file)) throw new Error(`${file} is missing: build the workspace first (node scripts/pnpm.mjs build)`);
}

export function loadEsbuild() {
  for (const pkg of ['packages/test-registry', 'packages/cli', 'packages/e2e']) {
    if (existsSync(join(root, pkg, 'node_modules', 'esbuild'))) return createRequire(join(root, pkg, 'package.json'))('esbuild');
  }
  throw new Error('esbuild not found in packages/test-registry, packages/cli or packages/e2e (run the workspace set-up first)');
}

/** Bundles one TypeScript entry point with esbuild and imports it. */
export const importTs = (entry) => importTsModules([entry]);

/**
 * Bundles several TypeScript modules (paths from the repository root) into one ESM bundle that re-exports all
 * of them, and imports it: one copy of every shared dependency (sigstore-js classes stay the same classes).
 */
export async function importTsModules(entries) {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const outfile = join(dir, 'bundle.mjs');
  try {
    // CommonJS dependencies (yaml, in core) call require() for Node built-ins: give the ESM bundle a real one.
    const banner = { js: "import { createRequire as __portcullisCreateRequire } from 'node:module'; const require = __portcullisCreateRequire(import.meta.url);" };
    const build = { outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error', banner };
    if (entries.length === 1) build.entryPoints = [join(root, entries[0])];
    else build.stdin = { contents: entries.map((e) => `export * from ${JSON.stringify(join(root, e))};`).join('\n'), resolveDir: root, loader: 'ts', sourcefile: 'bench-entry.ts' };
    await loadEsbuild().build(build);
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const loadTestRegistry = () => importTs('packages/test-registry/src/index.ts');

// The real package managers, as packages/e2e/src/toolbox.ts finds them (pinned dev dependencies of e2e).
const e2eModules = join(root, 'packages/e2e/node_modules');
const pkgDir = (alias) => realpathSync(join(e2eModules, alias));
const versionOf = (alias) => JSON.parse(readFileSync(join(pkgDir(alias), 'package.json'), 'utf8')).version;
export const node24 = () => join(pkgDir('node24'), 'bin', 'node');

/**
 * `{name, version, command, args}` for npm 10/11/12, pnpm 10/11/12 or Yarn 4 (latest). npm 12 declares Node
 * `^22.22.2 || ^24.15.0 || >=26`: it runs on the e2e's Node 24, as pnpm 11 does (and so does `portcullis-npm`
 * in front of it, which starts npm with its own Node).
 */
export function tool(name, major) {
  if (name === 'npm') {
    return { name, version: versionOf(`npm${major}`), command: major >= 12 ? node24() : process.execPath, args: [join(pkgDir(`npm${major}`), 'bin', 'npm-cli.js')] };
  }
  if (name === 'pnpm') {
    if (major === 10) return { name, version: versionOf('pnpm10'), command: process.execPath, args: [join(pkgDir('pnpm10'), 'bin', 'pnpm.cjs')] };
    if (major === 11) return { name, version: versionOf('pnpm11'), command: node24(), args: [join(pkgDir('pnpm11'), 'bin', 'pnpm.cjs')] };
    const bin = join(dirname(pkgDir('pnpm12')), '@pnpm', 'exe.linux-x64', 'pnpm');
    if (!existsSync(bin)) throw new Error(`pnpm 12 binary missing at ${bin}`);
    return { name, version: versionOf('pnpm12'), command: bin, args: [] };
  }
  if (name === 'yarn') return { name, version: versionOf('yarn4'), command: process.execPath, args: [join(pkgDir('yarn4'), 'bin', 'yarn.js')] };
  throw new Error(`unknown tool ${name}`);
}

/**
 * Source text of `documentOf(metadataDir, name, version)` for the floors' child scripts (audit-floor.mjs, pnpm-hooks.mjs):
 * a version's document from pnpm 12's metadata cache (`<cache>/v12/metadata/<registry folder>/<name>.jsonl`: a first line
 * with the header's and the index's lengths, the header, the index, then each version's document), and nothing else
 * checked: what any signature audit of a pnpm 12 tree must read. Needs `readFileSync`, `readdirSync` and `join` in scope.
 */
export const PNPM12_DOCUMENT_OF = `let pnpm12Folder;
function documentOf(metadataDir, name, version) {
  pnpm12Folder ??= readdirSync(metadataDir)[0];
  const bytes = readFileSync(join(metadataDir, pnpm12Folder, ...name.split('/')) + '.jsonl');
  const newline = bytes.indexOf(10);
  const [, header, index] = /^pnpm-meta-v1 (\\d+) (\\d+)$/.exec(bytes.subarray(0, newline).toString('latin1'));
  const indexStart = newline + 1 + Number(header);
  const indexEnd = indexStart + Number(index);
  const [, offset, length] = JSON.parse(bytes.subarray(indexStart, indexEnd)).versions.find(([v]) => v === version);
  return JSON.parse(bytes.subarray(indexEnd + offset, indexEnd + offset + length));
}`;

/** pnpm 12's metadata cache under `home` when its cache folder is left at its default (bench/audit.mjs, bench/audit-floor.mjs). */
export const pnpm12MetadataDir = (home) => join(home, '.cache', 'pnpm', 'v12', 'metadata');

/**
 * The floor of a signature audit of a pnpm 12 tree (bench/audit-floor.mjs, bench/audit.mjs), as the source of a
 * CommonJS child process: nothing but the work every signature audit of the tree must do. Arguments: the project, pnpm
 * 12's metadata folder, the registry's keys (JSON) and a mode: `verify-only` (Node and the lockfile read), `all` (each
 * version's document read from pnpm's cache and its signature verified), `pool` (the same, the verifications in libuv's
 * thread pool), `installed` (`pool`, and each installed copy's package.json read and its binding.gyp looked for, as
 * any check against manifest confusion must). Prints `{ verified, read, scripted }`.
 */
export const AUDIT_FLOOR = `
const { readFileSync, readdirSync, statSync } = require('node:fs');
const { createPublicKey, verify } = require('node:crypto');
const { join } = require('node:path');
const [project, metadataDir, keysJson, mode] = process.argv.slice(2);
const keys = new Map(JSON.parse(keysJson).map((k) => [k.keyid, createPublicKey({ key: Buffer.from(k.key, 'base64'), format: 'der', type: 'spki' })]));
const lock = readFileSync(join(project, 'pnpm-lock.yaml'), 'utf8');
const packages = lock.slice(lock.indexOf('\\npackages:'), lock.indexOf('\\nsnapshots:'));
const entry = /^  '?((?:@[^/@']+\\/)?[^@']+)@([^':]+)'?:\\n    resolution: \\{integrity: ([^,}]+)/gm;
${PNPM12_DOCUMENT_OF}
let verified = 0, read = 0, pending = 0, scripted = 0;
const done = () => process.stdout.write(JSON.stringify({ verified, read, scripted }));
for (const [, name, version, integrity] of packages.matchAll(entry)) {
  if (mode === 'verify-only') { verified += 1; continue; }
  const doc = documentOf(metadataDir, name, version);
  read++;
  if (mode === 'installed') {
    // What is installed, read as any check against manifest confusion must: the copy's own package.json (its name and
    // version, its scripts) and whether a binding.gyp sits beside it (an implicit node-gyp build).
    const dir = join(project, 'node_modules', '.pnpm', name.replace('/', '+') + '@' + version, 'node_modules', name);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (manifest.name !== name || manifest.version !== version) throw new Error('installed copy differs: ' + name);
    if (typeof manifest.scripts === 'object' && manifest.scripts !== null && Object.keys(manifest.scripts).length > 0) scripted++;
    if (statSync(join(dir, 'binding.gyp'), { throwIfNoEntry: false }) !== undefined) scripted++;
  }
  if (doc.dist.integrity !== integrity) throw new Error('integrity differs: ' + name);
  const sig = doc.dist.signatures[0];
  const data = Buffer.from(name + '@' + version + ':' + integrity);
  if (mode === 'pool' || mode === 'installed') {
    pending++;
    verify('sha256', data, keys.get(sig.keyid), Buffer.from(sig.sig, 'base64'), (error, ok) => {
      if (!error && ok) verified++;
      if (--pending === 0) done();
    });
  } else if (verify('sha256', data, keys.get(sig.keyid), Buffer.from(sig.sig, 'base64'))) verified++;
}
if (pending === 0) done();
`;

/**
 * Ages every packument in a Portcullis cache directory past the cache's 5-minute freshness (`fetchedAt` − 10 min),
 * so the next run revalidates each one (HTTP 304). Finds the cache's `metadata-v*` folder itself, so a format bump
 * does not break the benchmarks; throws when there is none (nothing would be aged). Returns the entries aged.
 */
export function ageMetadata(cacheDir) {
  const folders = readdirSync(cacheDir).filter((f) => /^metadata-v\d+$/.test(f));
  if (folders.length === 0) throw new Error(`no metadata-v* folder in ${cacheDir}: the cache layout changed`);
  let aged = 0;
  for (const folder of folders) {
    const dir = join(cacheDir, folder);
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f))) {
      if (!file.endsWith('.json') || !statSync(file).isFile()) continue;
      const entry = JSON.parse(readFileSync(file, 'utf8'));
      entry.fetchedAt -= 10 * 60_000;
      writeFileSync(file, JSON.stringify(entry));
      aged++;
    }
  }
  return aged;
}

const TIME = '/usr/bin/time';
export const memoryMethod = existsSync(TIME) ? 'GNU time `%M`: peak RSS of the largest process in the tree' : '`process.resourceUsage().maxRSS` of the command';

/**
 * Runs a command (never blocking the event loop: the registry may live in this process). Resolves with
 * `{code, stdout, stderr, ms, rssMB}`; `rssMB` is the peak resident set of the largest process of the tree.
 */
export function run(command, argv, { cwd, env, timeoutMs = 600_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-rss-'));
  const rssFile = join(dir, 'rss');
  const [cmd, args] = existsSync(TIME) ? [TIME, ['-f', '%M', '-o', rssFile, command, ...argv]] : [command, argv];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      let rssMB = NaN;
      try {
        const kb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
        if (Number.isFinite(kb)) rssMB = kb / 1024;
      } catch {}
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, ms, rssMB });
    });
  });
}

/** Throws with the output when a run did not exit with one of `ok`. */
export function expectExit(result, what, ok = [0]) {
  if (!ok.includes(result.code)) throw new Error(`${what} failed (exit ${result.code}):\n${(result.stdout + result.stderr).slice(-3000)}`);
  return result;
}

/**
 * Waits until files written now are "settled": portcullis-npm vouches for installed files, and pnpm 12's loader for the
 * lockfile and the files a replayed answer came from, by their stat only once they are 3 s old (core's
 * STAMP_SETTLED_MS; younger ones by their bytes). A repeat install in use comes later than that after the install that
 * wrote them, so the bench's repeat installs start from that steady state too.
 */
export const waitUntilSettled = () => new Promise((resolve) => setTimeout(resolve, 3_100));

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const min = (xs) => Math.min(...xs);
export const max = (xs) => Math.max(...xs);
export const ms = (x) => Math.round(x).toLocaleString('en-US');
export const spread = (xs, f = ms) => `${f(min(xs))}–${f(max(xs))}`;
export const mb = (x) => (Number.isFinite(x) ? Math.round(x).toString() : 'n/a');

export function machine() {
  const model = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return `${model}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.versions.node}, ${process.platform}-${process.arch}`;
}

export const today = () => new Date().toISOString().slice(0, 10);

/** Replaces (or appends) the section between `<!-- bench:KEY:start -->` and `<!-- bench:KEY:end -->`. */
export function writeSection(key, body) {
  const start = `<!-- bench:${key}:start -->`;
  const end = `<!-- bench:${key}:end -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  let text = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  text = from !== -1 && to > from ? `${text.slice(0, from)}${section}${text.slice(to + end.length)}` : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(DOC, text);
}

/** Alternates `a` and `b` `runs` times (a first on even rounds, b first on odd ones); returns both series. */
export async function alternate(runs, a, b) {
  const as = [];
  const bs = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      as.push(await a(i));
      bs.push(await b(i));
    } else {
      bs.push(await b(i));
      as.push(await a(i));
    }
  }
  return [as, bs];
}

/** Runs each of `fns` once per round, `runs` rounds, the order rotating every round; returns one series per function. */
export async function rotate(runs, fns) {
  const out = fns.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < fns.length; k++) {
      const i = (k + round) % fns.length;
      out[i].push(await fns[i](round));
    }
  }
  return out;
}

/**
 * A graph of the test registry's generator (`syntheticGraph(...)`) with every package moved into one scope (`array-lite` →
 * `@bench/array-lite`, `@acme/url-kit` → `@bench/acme-url-kit`, dependencies renamed alike) and a provenance spec
 * on every version (one repository per name), so that the policy can require provenance of all of them with one
 * `@bench/*` entry, or by listing every name.
 */
export function provenancedGraph(graph, scope = 'bench') {
  const rename = (name) => `@${scope}/${name.replace(/^@/, '').replace('/', '-')}`;
  const renamed = new Map();
  for (const spec of graph.packages) {
    if (renamed.has(spec.name)) continue;
    const to = rename(spec.name);
    if ([...renamed.values()].includes(to)) throw new Error(`two names become ${to}`);
    renamed.set(spec.name, to);
  }
  const renameAll = (deps) => (deps ? Object.fromEntries(Object.entries(deps).map(([name, range]) => [renamed.get(name) ?? rename(name), range])) : deps);
  const ids = new Map();
  const withProvenance = graph.packages.map((spec) => {
    const name = renamed.get(spec.name);
    if (!ids.has(name)) ids.set(name, ids.size + 1);
    return {
      ...spec,
      name,
      ...(spec.dependencies ? { dependencies: renameAll(spec.dependencies) } : {}),
      provenance: {
        repository: `github.com/bench/${name.slice(scope.length + 2)}`,
        repositoryId: String(100_000 + ids.get(name)),
        ownerId: '4242',
        workflow: '.github/workflows/release.yml',
        ref: `refs/tags/v${spec.version}`,
        trigger: 'push',
        runnerEnvironment: 'github-hosted',
      },
    };
  });
  return { packages: withProvenance, dependencies: renameAll(graph.dependencies), names: [...ids.keys()] };
}
