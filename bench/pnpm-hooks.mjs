#!/usr/bin/env node
// What each pnpmfile hook costs pnpm, apart from what Portcullis does in it: the same install (synthetic graph,
// test registry on 127.0.0.1) with no pnpmfile, with an empty pnpmfile (`module.exports = {}`: the no-op
// control), with each hook Portcullis declares alone and doing nothing, with all four doing nothing, on pnpm 12 cold
// with the floor of a signature check (each signature read from pnpm's cache and verified, nothing else; on ci, each
// locked package's, in updateConfig), on pnpm 12 warm and frozen with the floor of a gate on a repeated install (a
// recorded decision's question and files checked again, its answer replayed, a token for the second worker), and with
// Portcullis' pnpmfile. cold (no lockfile, empty store and caches), warm (the same install again), frozen
// (`--frozen-lockfile`, node_modules removed), add (`pnpm add` of a package new to the lockfile on that developer's
// machine, another package each round, package.json and pnpm-lock.yaml put back before each), ci (the same
// `--frozen-lockfile` on a fresh CI runner as docs/ci.md sets one up: the caches restored, Portcullis' older than its 5
// minutes, a new state directory) and ci-key (that runner given the earlier runs' memo key, as a CI secret). The order
// rotates every round; medians. Prints the table and
// updates the pnpm-hooks section of docs/benchmarks.md.
//
//   node bench/pnpm-hooks.mjs [--packages 1000] [--runs 3] [--repeat-runs 3] [--pnpm 12,11,10] [--modes warm,frozen,add,cold,ci,ci-key]
//                             [--all-variants 12] [--every-mode 12] [--short-modes warm,frozen] [--no-write]
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ageMetadata, CLI, discard, expectExit, loadTestRegistry, machine, median, ms, parseArgs, PNPM12_DOCUMENT_OF, PNPMFILE, requireBuilt, rotate, run, scratchNote, spread, today, tool, waitUntilSettled, writeSection } from './lib.mjs';

const args = parseArgs();
const SIZE = args.number('--packages', 1000);
const RUNS = Math.max(1, args.number('--runs', 3));
// Rounds of the warm and frozen installs (a fraction of a cold one's time: more rounds for their medians); `--runs` by default.
const REPEAT_RUNS = Math.max(1, args.number('--repeat-runs', RUNS));
const runsOf = (mode) => (mode === 'cold' ? RUNS : REPEAT_RUNS);
const MAJORS = args.list('--pnpm', ['12', '11', '10']).map(Number);
const MODES = args.list('--modes', ['warm', 'frozen', 'add', 'cold', 'ci', 'ci-key']);
// pnpm majors measured with every hook alone; the others with none / empty / all four / Portcullis only, and
// only in `--short-modes` (their cold installs are the slowest rows of the whole bench).
const ALL_VARIANTS = args.list('--all-variants', ['12']).map(Number);
const SHORT_MODES = args.list('--short-modes', ['warm', 'frozen']);
// pnpm majors measured in every mode of `--modes` (default: those of `--all-variants`); the others in `--short-modes` only.
const EVERY_MODE = args.list('--every-mode', ALL_VARIANTS.map(String)).map(Number);
const WRITE = !args.flag('--no-write');
const SEED = 2026;
// The issue's targets: warm and frozen (ci too) within 5 % of the control, cold within 10 %.
const TARGET = { warm: 1.05, frozen: 1.05, cold: 1.1, ci: 1.05, 'ci-key': 1.05 };
// The memo key of the ci-key rounds (a CI secret in real use): any 64 hex digits.
const CI_KEY = 'c1'.repeat(32);

requireBuilt(CLI, PNPMFILE);

const NOOP = {
  updateConfig: 'updateConfig(config) { return config; }',
  readPackage: 'readPackage(manifest) { return manifest; }',
  preResolution: 'preResolution() {}',
  afterAllResolved: 'afterAllResolved(lockfile) { return lockfile; }',
};
const hooksFile = (names) => `module.exports = { hooks: { ${names.map((n) => NOOP[n]).join(', ')} } };\n`;
const VARIANTS = [
  ['none', 'no pnpmfile', null],
  ['empty', 'empty pnpmfile (`module.exports = {}`)', 'module.exports = {};\n'],
  ['updateConfig', '`updateConfig` alone', hooksFile(['updateConfig'])],
  ['readPackage', '`readPackage` alone', hooksFile(['readPackage'])],
  ['preResolution', '`preResolution` alone', hooksFile(['preResolution'])],
  ['afterAllResolved', '`afterAllResolved` alone', hooksFile(['afterAllResolved'])],
  ['all4', 'the four, doing nothing', hooksFile(Object.keys(NOOP))],
  // What Portcullis declares to pnpm 12's second worker once updateConfig judged the lockfile (packages/pnpm/src/early.ts).
  ['three', 'the three without `preResolution`, doing nothing', hooksFile(['updateConfig', 'readPackage', 'afterAllResolved'])],
  // The least any pnpmfile that checks registry signatures does on pnpm 12, which hands readPackage manifests without
  // them: each dependency's document read from pnpm's own metadata cache and its signature verified, nothing else (no
  // policy, no provenance, no memo). A floor, not a gate: cold only, pnpm 12 only (pnpm 10 and 11 hand signatures over).
  ['floor', 'the floor of a signature check: each dependency\'s signature read from pnpm\'s cache and verified, nothing else (not a gate)', 'floor'],
  // The same floor where a frozen install is judged, before pnpm installs anything: in updateConfig, once per install,
  // each package of pnpm-lock.yaml (found by a regular expression) verified against the signature in pnpm's metadata
  // cache. A floor, not a gate: ci only (a fresh CI runner, where nothing remembered is believed), pnpm 12 only.
  ['floor-ci', 'the floor of a signature check before a frozen install: each locked package\'s signature read from pnpm\'s cache and verified in updateConfig, once per install, nothing else (not a gate)', 'floor-ci'],
  // What any gate that keeps Portcullis' guarantees must do on a repeated install, and nothing else (floorWarmPnpmfile):
  // warm and frozen only, pnpm 12 only (where the hooks run in two fresh workers).
  ['floor-warm', 'the floor of a gate on a repeated install: the question and the files a recorded decision was made from checked again, its answer replayed, a token left for the second worker, which checks it (not a gate)', 'floor-warm'],
  ['portcullis', 'Portcullis', 'portcullis'],
  // What the engine carried in the file costs: the same pnpmfile cut at the engine's marker, so each worker reads and
  // compiles the loader alone (a repeated install never needs the engine; one that did would take it from the kept
  // copy in the cache folder). Not a way to ship it: warm and frozen only (a cold install has no kept copy).
  ['portcullis-loader', 'Portcullis cut to its loader (the engine not in the file)', 'portcullis'],
];
// The loader alone is a question of installs from a lockfile (warm, frozen, ci): not measured where pnpm resolves (cold, add).
const NOT_RESOLVING = new Set(['portcullis-loader']);
const ONLY_COLD = new Set(['floor']);
const ONLY_CI = new Set(['floor-ci']);
const ONLY_REPEATED = new Set(['floor-warm']);
const measuredIn = (mode, name) =>
  ((mode !== 'cold' && mode !== 'add') || !NOT_RESOLVING.has(name)) && (mode === 'cold' || !ONLY_COLD.has(name)) && (mode === 'ci' || !ONLY_CI.has(name)) && (mode === 'warm' || mode === 'frozen' || !ONLY_REPEATED.has(name));

/**
 * The floor pnpmfile (see VARIANTS): the registry's keys and pnpm's cache folder written into it. It fails the install
 * when a dependency's signature was not found or did not verify, so that a floor that checked nothing cannot pass.
 */
function floorPnpmfile(keys, cacheDir) {
  return `'use strict';
const { readFileSync, readdirSync } = require('node:fs');
const { createPublicKey, verify } = require('node:crypto');
const { join } = require('node:path');
const KEYS = new Map(${JSON.stringify(keys.map((k) => [k.keyid, k.key]))}.map(([id, der]) => [id, createPublicKey({ key: Buffer.from(der, 'base64'), format: 'der', type: 'spki' })]));
const METADATA = join(${JSON.stringify(cacheDir)}, 'v12', 'metadata');
let seen = 0;
let verified = 0;
${PNPM12_DOCUMENT_OF}
module.exports = {
  hooks: {
    readPackage(manifest) {
      if (typeof manifest.dist?.integrity !== 'string') return manifest;
      seen++;
      const message = Buffer.from(manifest.name + '@' + manifest.version + ':' + manifest.dist.integrity);
      for (const { keyid, sig } of documentOf(METADATA, manifest.name, manifest.version).dist.signatures ?? []) {
        const key = KEYS.get(keyid);
        if (key !== undefined && verify('sha256', message, key, Buffer.from(sig, 'base64'))) {
          verified++;
          break;
        }
      }
      return manifest;
    },
    afterAllResolved(lockfile) {
      if (seen === 0 || verified !== seen) throw new Error('the floor verified ' + verified + ' of ' + seen + ' signatures');
      return lockfile;
    },
  },
};
`;
}
/**
 * The floor-ci pnpmfile (see VARIANTS): the registry's keys, pnpm's cache folder, the lockfile and a folder for its
 * marks written into it. pnpm 12 calls updateConfig in each of its two hook workers and waits for the first one's
 * answer before it installs; the first to write the mark for this pnpm process (its parent) verifies, the other does
 * not. It fails the install when no package was found or one did not verify, and records how many it verified in the
 * mark (timed() reads it back), so that a floor that checked nothing cannot pass.
 */
function floorCiPnpmfile(keys, cacheDir, lockfile, marks) {
  return `'use strict';
const { mkdirSync, readFileSync, readdirSync, writeFileSync } = require('node:fs');
const { createPublicKey, verify } = require('node:crypto');
const { join } = require('node:path');
const KEYS = new Map(${JSON.stringify(keys.map((k) => [k.keyid, k.key]))}.map(([id, der]) => [id, createPublicKey({ key: Buffer.from(der, 'base64'), format: 'der', type: 'spki' })]));
const METADATA = join(${JSON.stringify(cacheDir)}, 'v12', 'metadata');
const LOCKFILE = ${JSON.stringify(lockfile)};
const MARKS = ${JSON.stringify(marks)};
${PNPM12_DOCUMENT_OF}
module.exports = {
  hooks: {
    updateConfig(config) {
      let lock;
      try {
        lock = readFileSync(LOCKFILE, 'utf8');
      } catch {
        return config; // the first install, which writes the lockfile
      }
      mkdirSync(MARKS, { recursive: true });
      const mark = join(MARKS, String(process.ppid));
      try {
        writeFileSync(mark, '', { flag: 'wx' });
      } catch {
        return config; // the other worker verifies
      }
      let seen = 0;
      let verified = 0;
      for (const [, name, version, integrity] of lock.matchAll(/^  '?((?:@[^@\\s/']+\\/)?[^@\\s']+)@([^'\\s(]+)'?:\\n    resolution: \\{integrity: ([^,}\\s]+)/gm)) {
        seen++;
        const message = Buffer.from(name + '@' + version + ':' + integrity);
        for (const { keyid, sig } of documentOf(METADATA, name, version).dist.signatures ?? []) {
          const key = KEYS.get(keyid);
          if (key !== undefined && verify('sha256', message, key, Buffer.from(sig, 'base64'))) {
            verified++;
            break;
          }
        }
      }
      if (seen === 0 || verified !== seen) throw new Error('the floor verified ' + verified + ' of ' + seen + ' signatures');
      writeFileSync(mark, String(verified));
      return config;
    },
  },
};
`;
}
/**
 * The floor-warm pnpmfile (see VARIANTS): what any gate that keeps Portcullis' guarantees must do on pnpm 12's repeated
 * install (warm, frozen), in a file that carries Portcullis' engine as it ships (a self-contained gate carries its
 * engine; `engine`: the built pnpmfile's text from its engine marker on). pnpm 12 loads the file in two fresh workers:
 * - the first one's updateConfig compares the question (the configuration pnpm hands over, maps key-sorted; the
 *   environment; pnpm's command line from /proc; the folder; the file) with the record its decision for that command line
 *   left (this user's own file, not a link), checks each file that decision was made from by a stat (the lockfile, package.json,
 *   pnpm-workspace.yaml, portcullis.json), applies the recorded answer, prints its notice, and leaves the second worker a
 *   token named by pnpm's pid and start time (written whole, then renamed);
 * - the second one, loading, reads that token (its own file, not a link) and checks the lockfile by a stat, and so
 *   declares no preResolution.
 * A decision (no record for that question yet) allows no build, records that and leaves the token too. Each decision,
 * replay and token found leaves a mark: timed() checks that each repeated install left a token found and a replay or a
 * decision, and the measured rounds no decision, so that a floor that skipped the work cannot pass.
 */
function floorWarmPnpmfile(engine, state) {
  return `'use strict';
const fs = require('node:fs');
const { join } = require('node:path');
const STATE = ${JSON.stringify(state)};
const pnpmOf = (pid) => { const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8'); return { pid, start: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19], argv: fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\\0') }; };
function readOwn(file) {
  let fd;
  try { fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW); } catch { return undefined; }
  try { const s = fs.fstatSync(fd); if (!s.isFile() || s.uid !== process.getuid() || (s.mode & 0o22) !== 0) return undefined; const b = Buffer.allocUnsafe(s.size); fs.readSync(fd, b, 0, s.size, 0); return b.toString('utf8'); } finally { fs.closeSync(fd); }
}
const stamp = (file) => { const s = fs.statSync(file, { bigint: true, throwIfNoEntry: false }); return s === undefined ? null : s.dev + ':' + s.ino + ':' + s.mode + ':' + s.size + ':' + s.mtimeNs + ':' + s.ctimeNs; };
const sorted = (key, value) => (value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]])) : value);
const pnpm = pnpmOf(process.ppid);
const TOKEN = join(STATE, 'token-' + pnpm.pid + '-' + pnpm.start);
let name = 2166136261;
for (const c of pnpm.argv.join('\\0')) name = Math.imul(name ^ c.charCodeAt(0), 16777619) >>> 0;
const RECORD = join(STATE, 'record-' + name.toString(16));
const mark = (what) => fs.writeFileSync(join(STATE, 'marks', what + '-' + pnpm.pid), '');
let judged = false;
const token = readOwn(TOKEN);
if (token !== undefined) {
  const t = JSON.parse(token);
  judged = t.pid === pnpm.pid && t.start === pnpm.start && stamp(t.lockfile) === t.stamp;
  if (judged) mark('judged');
}
function updateConfig(config) {
  const question = JSON.stringify([__filename, process.cwd(), pnpm.argv, process.env, config], sorted);
  const files = ['pnpm-lock.yaml', 'pnpm-workspace.yaml', 'package.json', 'portcullis.json'].map((f) => join(process.cwd(), f));
  const text = readOwn(RECORD);
  const record = text === undefined ? undefined : JSON.parse(text);
  const leaveToken = (state) => {
    fs.writeFileSync(TOKEN + '.tmp', JSON.stringify({ pid: pnpm.pid, start: pnpm.start, lockfile: files[0], stamp: state }), { mode: 0o600 });
    fs.renameSync(TOKEN + '.tmp', TOKEN);
  };
  if (record !== undefined && record.question === question && record.files.every(([file, state]) => stamp(file) === state)) {
    for (const [key, value] of record.set) config[key] = value;
    fs.writeSync(2, record.said);
    leaveToken(record.files[0][1]);
    mark('replayed');
    return config;
  }
  // A decision (none recorded for this question; the cold install has no lockfile yet: nothing recorded): no build allowed.
  const set = [['allowBuilds', {}]];
  for (const [key, value] of set) config[key] = value;
  const states = files.map((file) => [file, stamp(file)]);
  if (states[0][1] !== null) {
    fs.mkdirSync(join(STATE, 'marks'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(RECORD, JSON.stringify({ question, files: states, set, said: 'floor: no build allowed\\n' }), { mode: 0o600 });
    leaveToken(states[0][1]);
    mark('decided');
  }
  return config;
}
module.exports = { hooks: judged
  ? { updateConfig, readPackage(manifest) { return manifest; }, afterAllResolved(lockfile) { return lockfile; } }
  : { updateConfig, preResolution() {}, readPackage(manifest) { return manifest; }, afterAllResolved(lockfile) { return lockfile; } } };
${engine}`;
}
const SHORT = new Set(['none', 'empty', 'all4', 'three', 'portcullis']);

async function createProject(base, major, registry, dependencies, variant) {
  const dir = join(base, 'project');
  const home = join(base, 'home');
  mkdirSync(dir, { recursive: true });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true, dependencies }, null, 2)}\n`);
  writeFileSync(join(dir, '.npmrc'), `registry=${registry.url}\n`);
  writeFileSync(join(home, '.npmrc'), '');
  const env = { PATH: process.env.PATH, HOME: home, TMPDIR: tmpdir(), PORTCULLIS_CACHE_DIR: join(home, 'portcullis-cache'), npm_config_userconfig: join(home, '.npmrc'), COREPACK_ENABLE_STRICT: '0', NO_COLOR: '1', CI: 'true' };
  const [, , source] = variant;
  if (source === 'portcullis') {
    writeFileSync(join(dir, 'portcullis.json'), `${JSON.stringify({ scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } }, null, 2)}\n`);
    expectExit(await run(process.execPath, [CLI, 'init', 'pnpm'], { cwd: dir, env }), 'portcullis init pnpm');
  } else if (source === 'floor') {
    writeFileSync(join(dir, '.pnpmfile.cjs'), floorPnpmfile(registry.keys.keys, join(home, 'pnpm-cache')));
  } else if (source === 'floor-warm') {
    const shipped = readFileSync(PNPMFILE, 'utf8');
    const at = shipped.indexOf('\n//# portcullis-engine ');
    if (at < 0) throw new Error(`no engine marker in ${PNPMFILE}`);
    writeFileSync(join(dir, '.pnpmfile.cjs'), floorWarmPnpmfile(shipped.slice(at + 1), join(home, 'floor-warm-state')));
  } else if (source === 'floor-ci') {
    writeFileSync(join(dir, '.pnpmfile.cjs'), floorCiPnpmfile(registry.keys.keys, join(home, 'pnpm-cache'), join(dir, 'pnpm-lock.yaml'), join(home, 'floor-ci-marks')));
  } else if (source !== null) {
    writeFileSync(join(dir, '.pnpmfile.cjs'), source);
  }
  return { dir, home, env, tool: tool('pnpm', major), name: variant[0] };
}

function reset(p, mode) {
  const rm = (...parts) => discard(join(...parts)); // lib.mjs: deleted on a tmpfs, moved aside elsewhere
  if (mode === 'warm') return;
  if (mode === 'add') {
    // The project as the cold install left it (node_modules as the last round left it: pnpm removes what it added).
    writeFileSync(join(p.dir, 'package.json'), p.installed.manifest);
    writeFileSync(join(p.dir, 'pnpm-lock.yaml'), p.installed.lockfile);
    return;
  }
  rm(p.dir, 'node_modules');
  if (mode === 'ci' || mode === 'ci-key') {
    // A fresh CI runner: pnpm's store and cache and PORTCULLIS_CACHE_DIR restored from an earlier run, so Portcullis'
    // entries are older than their 5 minutes (lib.mjs ageMetadata), and a new state directory (a new memo secret:
    // nothing remembered is believed), as docs/ci.md says to set one up. ci-key: the same runner given the memo key the
    // earlier runs had, kept as a CI secret and written into the new state directory as docs/ci.md shows (with the
    // line ending `echo` leaves), so what they remembered is believed.
    rm(p.home, '.local', 'state');
    rm(p.home, 'floor-ci-marks');
    if (mode === 'ci-key') {
      const state = join(p.home, '.local', 'state', 'portcullis');
      mkdirSync(state, { recursive: true, mode: 0o700 });
      writeFileSync(join(state, 'memo-key'), `${CI_KEY}\n`, { mode: 0o600 });
    }
    const cache = join(p.home, 'portcullis-cache');
    if (existsSync(cache) && readdirSync(cache).some((f) => /^metadata-v\d+$/.test(f))) ageMetadata(cache);
    return;
  }
  if (mode !== 'cold') return;
  rm(p.dir, 'pnpm-lock.yaml');
  rm(p.home, 'pnpm-store');
  rm(p.home, 'pnpm-cache');
  rm(p.home, 'portcullis-cache');
}

const ownArgs = (p) => [`--store-dir=${join(p.home, 'pnpm-store')}`, `--cache-dir=${join(p.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false', '--config.strict-dep-builds=false'];

async function timed(p, mode) {
  reset(p, mode);
  const own = ownArgs(p);
  // Each round of add asks for another package (a new command line: no answer of an earlier round is replayed); every
  // variant gets the same one in the same round.
  const adding = mode === 'add' ? ADDED[(p.added = (p.added ?? -1) + 1) % ADDED.length] : undefined;
  const argv =
    adding !== undefined ? ['add', `${adding.name}@${adding.version}`, ...own] : mode === 'frozen' || mode === 'ci' || mode === 'ci-key' ? ['install', '--frozen-lockfile', ...own] : mode === 'cold' ? ['install', '--no-frozen-lockfile', ...own] : ['install', ...own];
  const marks = join(p.home, 'floor-warm-state', 'marks');
  if (p.name === 'floor-warm') for (const f of existsSync(marks) ? readdirSync(marks) : []) rmSync(join(marks, f));
  const r = expectExit(await run(p.tool.command, [...p.tool.args, ...argv], { cwd: p.dir, env: p.env }), `pnpm ${p.tool.version} ${p.name} ${mode}`);
  if (p.name === 'floor-warm' && mode !== 'cold') {
    // The first worker replayed (or, the first time for this command line, decided), the second found its token: one
    // install, one pnpm process.
    const left = readdirSync(marks).map((f) => f.split('-')[0]).sort();
    if (!['judged,replayed', 'decided,judged'].includes(left.join(',')) || new Set(readdirSync(marks).map((f) => f.split('-')[1])).size !== 1) throw new Error(`the repeated-install floor left marks ${JSON.stringify(readdirSync(marks))}`);
    if (left[0] === 'decided') p.decided = (p.decided ?? 0) + 1;
  }
  if (p.name === 'floor-ci' && mode === 'ci') {
    // Exactly one worker verified, every locked package.
    const marks = readdirSync(join(p.home, 'floor-ci-marks')).map((f) => readFileSync(join(p.home, 'floor-ci-marks', f), 'utf8'));
    if (marks.length !== 1 || !(Number(marks[0]) > 0)) throw new Error(`the ci floor left marks ${JSON.stringify(marks)}`);
  }
  return r.ms;
}

const started = Date.now();
const { startRegistry, syntheticGraph } = await loadTestRegistry();
const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-hooks-'));
const rows = [];
const graph = syntheticGraph({ packages: SIZE, seed: SEED });
// The packages `add` adds: new to the project (a copy of one of the graph's leaves under another name), signed like the rest.
const ADDED = graph.packages.filter((p) => Object.keys(p.dependencies ?? {}).length === 0).slice(0, 60).map((p) => ({ ...p, name: `${p.name}-added` }));
const registry = await startRegistry({ packages: [...graph.packages, ...ADDED] });
try {
  for (const major of MAJORS) {
    // The loader alone is measured on pnpm 12 only: pnpm 10 and 11 load the pnpmfile once, in their own process.
    const variants = VARIANTS.filter(([name]) => ALL_VARIANTS.includes(major) || SHORT.has(name) || ((name === 'portcullis-loader' || name.startsWith('floor')) && major >= 12));
    const projects = [];
    for (const variant of variants) projects.push(await createProject(join(work, `${major}`, variant[0]), major, registry, graph.dependencies, variant));
    // warm and frozen need a lockfile and full caches.
    for (const p of projects) await timed(p, 'cold');
    // What `add` starts from in each round.
    for (const p of projects) p.installed = { manifest: readFileSync(join(p.dir, 'package.json')), lockfile: readFileSync(join(p.dir, 'pnpm-lock.yaml')) };
    for (const p of projects.filter((p) => p.name === 'portcullis-loader')) {
      const file = join(p.dir, '.pnpmfile.cjs');
      const text = readFileSync(file, 'utf8');
      // The marker line packages/pnpm/src/embed.ts writes before the engine.
      const cut = text.indexOf('\n//# portcullis-engine ');
      if (cut < 0) throw new Error(`no engine marker in ${file}`);
      writeFileSync(file, text.slice(0, cut + 1));
      // pnpm-lock.yaml records the pnpmfile's checksum: let pnpm write the new one (the engine comes from the kept copy).
      expectExit(await run(p.tool.command, [...p.tool.args, 'install', '--no-frozen-lockfile', ...ownArgs(p)], { cwd: p.dir, env: p.env }), 'pnpm install (the loader alone)');
    }
    // Once after the install that wrote the files (lib.mjs waitUntilSettled).
    let settled = false;
    for (const mode of MODES.filter((m) => EVERY_MODE.includes(major) || SHORT_MODES.includes(m))) {
      if (mode === 'cold') settled = false;
      else if (!settled && major >= 12) {
        await waitUntilSettled();
        settled = true;
      }
      const measured = projects.filter((p) => measuredIn(mode, p.name));
      const named = variants.filter(([name]) => measured.some((p) => p.name === name));
      // The steady state of a repeat install: the first one after the cold install still decides the new lockfile (and,
      // on pnpm 12, a frozen install's first answer is decided and recorded: its command line is another question).
      // A ci round reads Portcullis' cache as an earlier run left it: the first one fills it.
      // A first add unmeasured too, as a first repeated install.
      if (mode === 'warm' || mode === 'add' || mode === 'ci' || mode === 'ci-key' || (mode === 'frozen' && major >= 12)) for (const p of measured) await timed(p, mode);
      const decided = measured.map((p) => p.decided ?? 0);
      const times = await rotate(runsOf(mode), measured.map((p) => () => timed(p, mode)));
      // The repeated-install floor decided nothing in the measured rounds: each replayed.
      if (measured.some((p, i) => (p.decided ?? 0) !== decided[i])) throw new Error(`the repeated-install floor decided again in a measured ${mode} round`);
      const byName = Object.fromEntries(measured.map((p, i) => [p.name, times[i]]));
      // The modes after it start from the project as installed.
      if (mode === 'add') for (const p of measured) reset(p, 'add');
      rows.push({ version: projects[0].tool.version, mode, variants: named, byName });
      const m = (name) => median(byName[name]);
      process.stdout.write(`pnpm ${projects[0].tool.version} ${mode}: ${named.map(([name]) => `${name} ${ms(m(name))}`).join(', ')} ms; Portcullis/empty ${(m('portcullis') / m('empty')).toFixed(2)}\n`);
    }
    discard(join(work, `${major}`));
  }
} finally {
  await registry.close();
  rmSync(work, { recursive: true, force: true });
}

const lines = [];
for (const row of rows) {
  const m = (name) => (row.byName[name] === undefined ? undefined : median(row.byName[name]));
  const ratio = m('portcullis') / m('empty');
  lines.push(`### pnpm ${row.version}, ${row.mode}`, '');
  lines.push('| pnpmfile | ms, median (min–max) | ÷ no pnpmfile | ÷ empty pnpmfile |');
  lines.push('|---|---:|---:|---:|');
  for (const [name, label] of row.variants) {
    const xs = row.byName[name];
    lines.push(`| ${name === 'portcullis' ? '**Portcullis**' : label} | ${ms(median(xs))} (${spread(xs)}) | ${(median(xs) / m('none')).toFixed(2)} | ${name === 'portcullis' ? `**${ratio.toFixed(2)}**` : (median(xs) / m('empty')).toFixed(2)} |`);
  }
  const declared = m('three') === undefined ? '' : ` Portcullis ÷ the hooks it declares, doing nothing (${row.version.startsWith('12.') ? 'the three without `preResolution`' : 'the three without `preResolution`; pnpm 10 and 11 get all four'}): ${(m('portcullis') / m('three')).toFixed(2)}; ÷ all four doing nothing: ${(m('portcullis') / m('all4')).toFixed(2)}.`;
  const target = TARGET[row.mode];
  const fl = m('floor') ?? m('floor-ci') ?? m('floor-warm');
  const what = m('floor-warm') !== undefined ? 'The floor of a gate on a repeated install' : 'The floor of a signature check';
  const floor = fl === undefined ? '' : ` ${what} ÷ the empty pnpmfile: **${(fl / m('empty')).toFixed(2)}** (${fl / m('empty') <= target ? 'within' : 'over'} the target by itself); Portcullis ÷ the floor: **${(m('portcullis') / fl).toFixed(2)}**.`;
  const verdict = target === undefined ? 'no target of its own (a developer\'s daily command, not one of the rows the targets name)' : `target ≤ ${target.toFixed(2)}: **${ratio <= target ? 'met' : 'missed'}**`;
  lines.push('', `Portcullis ÷ the empty pnpmfile (the no-op control): **${ratio.toFixed(2)}** — ${verdict}.${declared}${floor}`, '');
}
const body = [
  '## pnpm: what each hook costs, and what is ours',
  '',
  `\`node bench/pnpm-hooks.mjs\` (measured ${today()}). ${SIZE.toLocaleString('en-US')} packages (synthetic graph, seed ${SEED}), test registry on 127.0.0.1. The same install with no pnpmfile, an empty pnpmfile (\`module.exports = {}\`), each hook Portcullis declares alone and doing nothing, all four doing nothing, the three Portcullis declares to pnpm 12's second worker once updateConfig judged the lockfile (no \`preResolution\`), on pnpm 12 cold the floor of a signature check (a pnpmfile that reads each dependency's signature from pnpm's metadata cache and verifies it with the registry's key, nothing else, and fails the install if one did not verify: what any gate checking signatures costs there, since pnpm 12 hands readPackage manifests without them), on pnpm 12 ci the same floor where a frozen install is judged (in updateConfig, once per install, before pnpm installs anything: each package of pnpm-lock.yaml, found by a regular expression, verified against the signature in pnpm's metadata cache, and the install failed if one did not verify), on pnpm 12 warm and frozen the floor of a gate on a repeated install (a pnpmfile carrying Portcullis' engine text as it ships, whose first worker compares the question — the configuration with its maps sorted, the environment, pnpm's command line, the folder — with the record its decision for that command line left, checks each file that decision was made from by a stat, replays the answer and leaves a token, and whose second worker checks that token and the lockfile and so declares no \`preResolution\`: what any gate that keeps the guarantees of a remembered decision does there; each measured round checked to have replayed), and Portcullis' own pnpmfile (policy allowing no builds, signatures checked), and, on pnpm 12 warm and frozen, that pnpmfile cut to its loader (the engine carried after it, compressed, in comment lines, removed: what reading and skimming the engine's text costs each hook worker; not a shipped form). Modes: cold (no lockfile, store and caches emptied), warm (the same install again), frozen (\`--frozen-lockfile\`, \`node_modules\` removed: a developer's machine, where Portcullis' state directory remembers the verdict), add (\`pnpm add\` of a package new to the lockfile on that machine, another one each round, \`package.json\` and \`pnpm-lock.yaml\` put back before each: pnpm resolves it, fetches its metadata and tarball and links it) and ci (the same \`--frozen-lockfile\` on a fresh CI runner set up as docs/ci.md says: pnpm's store and cache and \`PORTCULLIS_CACHE_DIR\` restored from an earlier run, its entries past their 5 minutes, and a new state directory, so nothing remembered is believed and the lockfile is judged in full) and ci-key (the same runner, with the memo key of the earlier runs kept as a CI secret and written into its new state directory, as docs/ci.md shows: what they remembered is believed). ${REPEAT_RUNS === RUNS ? `${RUNS} rounds` : `${RUNS} rounds cold, ${REPEAT_RUNS} warm, frozen, add, ci and ci-key`}, the order rotating; medians.`,
  '**Any pnpmfile at all, even an empty one, turns off pnpm 12\'s "Already up to date" shortcut** (pnpm records the pnpmfiles in `node_modules/.pnpm-workspace-state-v1.json` and takes the full install path with a hook worker): that is pnpm\'s price for a pnpmfile, outside our code. The empty pnpmfile is therefore the control Portcullis is held to (targets: ≤ 1.05 of it warm, frozen, ci and ci-key, ≤ 1.10 cold).',
  `Machine: ${machine()}. ${scratchNote()}`,
  '',
  ...lines,
  `Wall time of this script: ${((Date.now() - started) / 1000).toFixed(0)} s.`,
].join('\n');
process.stdout.write(`\n${body}\n`);
if (WRITE) writeSection('pnpm-hooks', body);
