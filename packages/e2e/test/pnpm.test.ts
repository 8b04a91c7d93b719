/**
 * The pnpm hook with the real pnpm 10, 11 and 12 against the test registry: builds only as
 * portcullis.json allows (ranges honoured exactly), and every signature violation aborts the install
 * before anything is linked or run — on fresh resolution and on --frozen-lockfile with a warm store,
 * set up by `portcullis init pnpm` and as a config dependency.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanPackage, demo, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, markersOf, portcullis, run, type Project, type RunResult } from '../src/project.js';
import { pnpm } from '../src/toolbox.js';

const PLUGIN = '@portcullis/pnpm-plugin-portcullis';
const pnpmfileText = readFileSync(fileURLToPath(new URL('../../pnpm/pnpmfile.cjs', import.meta.url)), 'utf8');

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: [...demo, withPostinstall('fast-compiler', '4.0.0')] });
  // The config-dependency route: the plugin package, published like any other (signed, released long ago).
  registry.add(cleanPackage(PLUGIN, '0.1.0', { files: { 'pnpmfile.cjs': pnpmfileText } }));
});
afterAll(async () => {
  await registry?.close();
});

const trusted = () => ({ [registry.url]: { keys: registry.keys.keys } });
const policy = (extra: object = {}) => ({ scripts: { allow: ['fast-compiler@^3.2.0'] }, registries: trusted(), ...extra });

/** A project with Portcullis set up by `portcullis init pnpm`. */
async function initProject(dependencies: Record<string, string>, projectPolicy: object, workspaceYaml?: string): Promise<Project> {
  const project = createProject('pnpm', registry.url, dependencies, { policy: projectPolicy });
  if (workspaceYaml !== undefined) writeFileSync(join(project.dir, 'pnpm-workspace.yaml'), workspaceYaml);
  const init = await portcullis(project, ['init', 'pnpm']);
  expect(init.code, init.stderr).toBe(0);
  return project;
}

/** A plain `pnpm <args>` in the project: scripts on, its own store and cache. */
function pnpmIn(major: 10 | 11 | 12, project: Project, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const tool = pnpm(major);
  const own = [`--store-dir=${join(project.home, 'pnpm-store')}`, `--cache-dir=${join(project.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false'];
  return run(tool.command, [...tool.args, ...args, ...own], { cwd: project.dir, env: { ...project.env, ...env } });
}

const ran = markersOf;
const output = (r: RunResult) => `${r.stdout}${r.stderr}`;
const linked = (project: Project, name: string) => existsSync(join(project.dir, 'node_modules', name));

/** Starts over as a fresh clone would: no node_modules, no markers; the store stays warm. */
function freshCheckout(project: Project): void {
  rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
  for (const marker of readdirSync(project.markers)) rmSync(join(project.markers, marker));
}

/**
 * pnpm 12 in `project` with the Portcullis pnpmfile wrapped to record which hooks each worker declares and which pnpm
 * calls: each run's trace, one line each.
 */
function tracedHooks(project: Project): (args: string[], cwd?: string) => Promise<{ r: RunResult; trace: string[] }> {
  const traceFile = join(project.home, 'hook-trace.log');
  const pnpmfile = join(project.dir, '.pnpmfile.cjs');
  writeFileSync(join(project.dir, 'portcullis-hooks.cjs'), readFileSync(pnpmfile));
  writeFileSync(
    pnpmfile,
    `const fs = require('fs');\nconst p = require('./portcullis-hooks.cjs');\nconst trace = (line) => fs.appendFileSync(${JSON.stringify(traceFile)}, line + '\\n');\n` +
      "trace('declared ' + Object.keys(p.hooks).sort().join(','));\nconst hooks = {};\n" +
      'for (const [name, hook] of Object.entries(p.hooks)) hooks[name] = function (...args) { trace(name); return hook.apply(this, args); };\nmodule.exports = { ...p, hooks };\n',
  );
  return async (args, cwd) => {
    writeFileSync(traceFile, '');
    const tool = pnpm(12);
    const own = [`--store-dir=${join(project.home, 'pnpm-store')}`, `--cache-dir=${join(project.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false'];
    const r = cwd === undefined ? await pnpmIn(12, project, args) : await run(tool.command, [...tool.args, ...args, ...own], { cwd, env: project.env });
    return { r, trace: readFileSync(traceFile, 'utf8').trim().split('\n') };
  };
}

/** pnpm-lock.yaml edited: its first integrity replaced by one the registry never signed (the same length). */
function unsignedIntegrityInLockfile(project: Project): void {
  const file = join(project.dir, 'pnpm-lock.yaml');
  const lockfile = readFileSync(file, 'utf8');
  const integrity = /integrity: (sha512-[A-Za-z0-9+/=]+)/.exec(lockfile)?.[1];
  expect(integrity).toBeDefined();
  writeFileSync(file, lockfile.replace(integrity!, `sha512-${Buffer.alloc(64, 7).toString('base64')}`));
}

/** An install after unsignedIntegrityInLockfile: decided again (not replayed), refused, nothing run. */
function refusedAsEdited(project: Project, r: RunResult): void {
  expect(output(r)).not.toContain('portcullis: updateConfig replayed');
  expect(r.code, output(r)).not.toBe(0);
  expect(output(r)).toContain('BAD_SIGNATURE');
  expect(ran(project)).toEqual([]);
}

/** Where the pnpmfile keeps its updateConfig records: this user's state directory (the test HOME's default). */
const replayRecords = (project: Project) => join(project.home, '.local', 'state', 'portcullis', 'pnpm-replay-v3');
/** A record's text edited to let every build of `scriptDeps` run. */
const widenRecord = (text: string) => text.replace(/"allowBuilds",\{[^}]*\}/, '"allowBuilds",{"evil-postinstall":true,"native-addon":true,"fast-compiler@3.2.0":true}');

/**
 * Each record widened: where it is (`state`), or moved to the cache directory, which a CI may restore from elsewhere
 * (`cache`: none left in the state directory).
 */
function widenRecords(project: Project, where: 'state' | 'cache'): void {
  const folder = replayRecords(project);
  const to = where === 'state' ? folder : join(project.home, 'portcullis-cache', 'pnpm-replay-v3');
  mkdirSync(to, { recursive: true });
  const names = readdirSync(folder);
  expect(names.length).toBeGreaterThan(0);
  for (const name of names) {
    const widened = widenRecord(readFileSync(join(folder, name), 'latin1'));
    // The edit found its place (or a record widened before: its allowBuilds is this one already).
    expect(widened).toContain('"allowBuilds",{"evil-postinstall":true,"native-addon":true,"fast-compiler@3.2.0":true}');
    writeFileSync(join(to, name), widened, 'latin1');
    if (where === 'cache') rmSync(join(folder, name));
  }
}

const scriptDeps = { 'evil-postinstall': '1.0.0', 'native-addon': '1.0.0', 'fast-compiler': '^3.2.0', '@acme/logger': '^2.1.0' };
const badSignatures: Array<[string, string]> = [
  ['unsigned-lib', 'UNSIGNED'],
  ['tampered-lib', 'BAD_SIGNATURE'],
  ['rogue-signed', 'UNKNOWN_KEY'],
];

describe.each([10, 11, 12] as const)('pnpm %i with the Portcullis pnpmfile', (major) => {
  it('builds only what scripts.allow covers — a user allowBuilds cannot widen it — fresh and --frozen-lockfile with a warm store', async () => {
    const project = await initProject(scriptDeps, policy(), 'allowBuilds:\n  evil-postinstall: true\n  native-addon: true\ndangerouslyAllowAllBuilds: true\n');
    const fresh = await pnpmIn(major, project, ['install']);
    expect(fresh.code, output(fresh)).toBe(0);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran']);
    expect(output(fresh)).toContain('portcullis approve evil-postinstall@1.0.0 native-addon@1.0.0');

    freshCheckout(project);
    // Without the side-effects cache, pnpm runs the allowed build again instead of restoring its output.
    const frozen = await pnpmIn(major, project, ['install', '--frozen-lockfile', '--config.side-effects-cache=false']);
    expect(frozen.code, output(frozen)).toBe(0);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran']);
    expect(linked(project, 'evil-postinstall')).toBe(true);
  });

  it('a range-pinned approval does not cover another version; strict mode makes the skipped build fail the install', async () => {
    const project = await initProject({ 'fast-compiler': '4.0.0' }, policy());
    const lenient = await pnpmIn(major, project, ['install']);
    expect(lenient.code, output(lenient)).toBe(0);
    expect(ran(project)).toEqual([]);
    expect(output(lenient)).toContain('portcullis approve fast-compiler@4.0.0');

    freshCheckout(project);
    const strict = await pnpmIn(major, project, ['install', '--frozen-lockfile'], { PORTCULLIS_STRICT_BUILDS: '1' });
    expect(strict.code, output(strict)).not.toBe(0);
    expect(ran(project)).toEqual([]);
  });

  it.each(badSignatures)('%s aborts a fresh install with %s: nothing linked, nothing run', async (name, code) => {
    const project = await initProject({ [name]: '1.0.0', 'fast-compiler': '^3.2.0' }, policy());
    const result = await pnpmIn(major, project, ['install']);
    expect(result.code, output(result)).not.toBe(0);
    expect(output(result)).toContain(major === 12 ? 'portcullis blocked' : 'ERR_PNPM_PORTCULLIS_BLOCKED');
    expect(output(result)).toContain(`${code}  ${name}@1.0.0`);
    expect(ran(project)).toEqual([]);
    expect(linked(project, name) || linked(project, 'fast-compiler')).toBe(false);
  });

  it.runIf(major !== 12)(`pnpm ${major}: a fresh resolution is judged in the hooks' own thread, never on pnpm's; an install from pnpm-lock.yaml starts no thread`, async () => {
    const project = await initProject({ '@acme/logger': '^2.1.0', 'fast-compiler': '^3.2.0', 'unsigned-lib': '1.0.0' }, policy());
    // The Portcullis pnpmfile, wrapped to record each signature verified on pnpm's thread and each thread started.
    const traceFile = join(project.home, 'thread-trace.log');
    const pnpmfile = join(project.dir, '.pnpmfile.cjs');
    writeFileSync(join(project.dir, 'portcullis-hooks.cjs'), readFileSync(pnpmfile));
    writeFileSync(
      pnpmfile,
      `const fs = require('fs'); const crypto = require('crypto'); const threads = require('worker_threads');\nconst trace = (line) => fs.appendFileSync(${JSON.stringify(traceFile)}, line + '\\n');\n` +
        "const verify = crypto.verify; crypto.verify = function (...args) { trace('verified on pnpm\\'s thread'); return verify.apply(this, args); };\n" +
        "const Worker = threads.Worker; threads.Worker = class extends Worker { constructor(file, options) { super(file, options); trace('thread ' + JSON.stringify(options && options.workerData && options.workerData.portcullisJudge)); } };\n" +
        "module.exports = require('./portcullis-hooks.cjs');\n",
    );
    const traced = async (args: string[]) => {
      writeFileSync(traceFile, '');
      const r = await pnpmIn(major, project, args);
      // pnpm's own worker threads (no workerData of ours) are not the judge's.
      return { r, trace: readFileSync(traceFile, 'utf8').trim().split('\n').filter((line) => line !== '' && line !== 'thread undefined') };
    };
    // Blocked in the thread: nothing linked, and pnpm's thread verified nothing.
    const blocked = await traced(['install']);
    expect(blocked.r.code, output(blocked.r)).not.toBe(0);
    expect(output(blocked.r)).toContain('UNSIGNED');
    expect(linked(project, 'unsigned-lib')).toBe(false);
    expect(blocked.trace).toEqual(['thread 1']);

    const pkg = JSON.parse(readFileSync(join(project.dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    delete pkg.dependencies['unsigned-lib'];
    writeFileSync(join(project.dir, 'package.json'), JSON.stringify(pkg));
    const fresh = await traced(['install']);
    expect(fresh.r.code, output(fresh.r)).toBe(0);
    expect(fresh.trace).toEqual(['thread 1']);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran']);

    // From the lockfile: judged on pnpm's thread (preResolution), no thread started.
    freshCheckout(project);
    const frozen = await traced(['install', '--frozen-lockfile']);
    expect(frozen.r.code, output(frozen.r)).toBe(0);
    expect(frozen.trace.filter((line) => line.startsWith('thread'))).toEqual([]);
  });

  it('`pnpm add` of a badly signed package to an installed project aborts, and the project stays as it was', async () => {
    const project = await initProject({ '@acme/logger': '^2.1.0' }, policy());
    const first = await pnpmIn(major, project, ['install']);
    expect(first.code, output(first)).toBe(0);
    const manifest = readFileSync(join(project.dir, 'package.json'), 'utf8');
    const added = await pnpmIn(major, project, ['add', 'tampered-lib@1.0.0']);
    expect(added.code, output(added)).not.toBe(0);
    expect(output(added)).toContain('BAD_SIGNATURE  tampered-lib@1.0.0');
    expect(linked(project, 'tampered-lib')).toBe(false);
    expect(readFileSync(join(project.dir, 'package.json'), 'utf8')).toBe(manifest);
  });

  it('--frozen-lockfile with a warm store: each bad signature aborts before anything is linked or run', async () => {
    const deps = { ...Object.fromEntries(badSignatures.map(([name]) => [name, '1.0.0'])), 'fast-compiler': '^3.2.0' };
    // The lockfile and the store are made while signatures are off, as on a machine without Portcullis' keys.
    const project = await initProject(deps, policy({ signatures: { require: 'off' } }));
    const warm = await pnpmIn(major, project, ['install']);
    expect(warm.code, output(warm)).toBe(0);

    writeFileSync(join(project.dir, 'portcullis.json'), JSON.stringify(policy()));
    freshCheckout(project);
    const frozen = await pnpmIn(major, project, ['install', '--frozen-lockfile']);
    expect(frozen.code, output(frozen)).not.toBe(0);
    for (const [name, code] of badSignatures) expect(output(frozen)).toContain(`${code}  ${name}@1.0.0`);
    expect(output(frozen)).toContain(major === 12 ? 'portcullis blocked 3 packages' : 'blocked 3 packages in pnpm-lock.yaml');
    expect(ran(project)).toEqual([]);
    expect(linked(project, 'fast-compiler')).toBe(false);
  });

  it('a verdict remembered on a warm install is decided again when the policy, pnpm-lock.yaml or package.json changes', async () => {
    const project = await initProject({ '@acme/logger': '^2.1.0' }, policy());
    const first = await pnpmIn(major, project, ['install']);
    expect(first.code, output(first)).toBe(0);
    // Let through twice: the second time from the remembered verdict (and pnpm's cache folder handed on).
    const warm = await pnpmIn(major, project, ['install']);
    expect(warm.code, output(warm)).toBe(0);
    const lockfile = readFileSync(join(project.dir, 'pnpm-lock.yaml'), 'utf8');
    const manifest = readFileSync(join(project.dir, 'package.json'), 'utf8');

    // The policy now requires provenance the registry does not serve.
    writeFileSync(join(project.dir, 'portcullis.json'), JSON.stringify(policy({ provenance: { require: ['@acme/logger'] } })));
    // pnpm 11 calls no hook at all when node_modules is already up to date (nothing is installed or run then).
    if (major === 11) freshCheckout(project);
    const stricter = await pnpmIn(major, project, ['install']);
    expect(stricter.code, output(stricter)).not.toBe(0);
    expect(output(stricter)).toContain('PROVENANCE_MISSING');
    writeFileSync(join(project.dir, 'portcullis.json'), JSON.stringify(policy()));
    expect((await pnpmIn(major, project, ['install'])).code).toBe(0);

    // pnpm-lock.yaml edited: another integrity for the same version, which the registry never signed.
    const integrity = /integrity: (sha512-[A-Za-z0-9+/=]+)/.exec(lockfile)?.[1];
    expect(integrity).toBeDefined();
    const forged = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;
    writeFileSync(join(project.dir, 'pnpm-lock.yaml'), lockfile.replace(integrity!, forged));
    const edited = await pnpmIn(major, project, ['install', '--frozen-lockfile']);
    expect(edited.code, output(edited)).not.toBe(0);
    expect(output(edited)).toContain('BAD_SIGNATURE');
    writeFileSync(join(project.dir, 'pnpm-lock.yaml'), lockfile);

    // package.json gains a dependency that is not signed.
    writeFileSync(join(project.dir, 'package.json'), JSON.stringify({ ...JSON.parse(manifest), dependencies: { ...JSON.parse(manifest).dependencies, 'unsigned-lib': '1.0.0' } }));
    const added = await pnpmIn(major, project, ['install', '--no-frozen-lockfile']);
    expect(added.code, output(added)).not.toBe(0);
    expect(output(added)).toContain('UNSIGNED  unsigned-lib@1.0.0');
    expect(linked(project, 'unsigned-lib')).toBe(false);
  });

  it.runIf(major === 12)('a cold install asks the registry for each packument once: signatures and release lines come from pnpm 12\'s cache', async () => {
    // No ranged scripts.allow entry: updateConfig would fetch that name's packument for its versions (by design).
    const project = await initProject({ '@acme/logger': '^2.1.0', 'fast-compiler': '^3.2.0' }, policy({ scripts: { allow: [] } }));
    const from = registry.requests.length;
    const fresh = await pnpmIn(major, project, ['install']);
    expect(fresh.code, output(fresh)).toBe(0);
    const packuments = new Map<string, number>();
    for (const r of registry.requests.slice(from)) if (r.method === 'GET' && !r.path.startsWith('/-/') && !r.path.endsWith('.tgz')) packuments.set(r.path, (packuments.get(r.path) ?? 0) + 1);
    expect(packuments.size).toBeGreaterThanOrEqual(2);
    // pnpm's own request only: no second fetch by the hook worker (signatures, provenance no-downgrade).
    expect([...packuments].filter(([, n]) => n > 1)).toEqual([]);
  });

  it.runIf(major === 12)('a fresh CI runner given the earlier runs\' memo key (written into its new state directory with `echo`, docs/ci.md) believes what they remembered and asks the registry for nothing; one with a key of its own judges every package again, and a lockfile edit is refused either way', async () => {
    // A scripts.allow entry without a version: one with a version or range has updateConfig ask the registry for that
    // name's published versions on every install (by design: the registry's current state).
    const project = await initProject({ '@acme/logger': '^2.1.0', 'fast-compiler': '^3.2.0' }, policy({ scripts: { allow: ['fast-compiler'] } }));
    const resolved = await pnpmIn(12, project, ['install']);
    expect(resolved.code, output(resolved)).toBe(0);
    const built = ran(project);
    expect(built.length, output(resolved)).toBe(1);
    const shared = 'e2'.repeat(32);
    // A new runner: a state directory of its own, with a memo key written into it (or none: a key of its own is made).
    const runner = (tag: string, key?: string) => {
      const state = join(project.home, `state-${tag}`);
      mkdirSync(state, { recursive: true, mode: 0o700 });
      if (key !== undefined) writeFileSync(join(state, 'memo-key'), `${key}\n`, { mode: 0o600 });
      return { PORTCULLIS_STATE_DIR: state };
    };
    // Portcullis' own requests (its User-Agent): pnpm 12 asks for its direct dependencies' documents now and then too.
    const packumentsDuring = async (env: NodeJS.ProcessEnv) => {
      freshCheckout(project);
      const from = registry.requests.length;
      const r = await pnpmIn(12, project, ['install', '--frozen-lockfile'], env);
      const ours = registry.requests.slice(from).filter((q, i) => registry.userAgents[from + i]!.startsWith('portcullis '));
      return { r, packuments: ours.filter((q) => q.method === 'GET' && !q.path.startsWith('/-/') && !q.path.endsWith('.tgz')).map((q) => q.path) };
    };
    // The first CI run with the key judges the lockfile and remembers it under that key.
    const firstRun = await packumentsDuring(runner('first', shared));
    expect(firstRun.r.code, output(firstRun.r)).toBe(0);
    expect(ran(project)).toEqual(built);
    // Later runners restore caches without the registry documents (Portcullis' nor pnpm's, which updateConfig reads
    // first; pnpm's store stays), so what a runner takes from the registry shows.
    const cache = join(project.home, 'portcullis-cache');
    const withoutDocuments = () => {
      for (const entry of readdirSync(cache)) if (/^metadata-v\d+$/.test(entry)) rmSync(join(cache, entry), { recursive: true });
      rmSync(join(project.home, 'pnpm-cache', 'v12', 'metadata'), { recursive: true, force: true });
    };
    withoutDocuments();
    const keyed = await packumentsDuring(runner('keyed', shared));
    expect(keyed.r.code, output(keyed.r)).toBe(0);
    expect(ran(project)).toEqual(built);
    expect(keyed.packuments).toEqual([]);

    withoutDocuments();
    const own = await packumentsDuring(runner('own'));
    expect(own.r.code, output(own.r)).toBe(0);
    expect(ran(project)).toEqual(built);
    expect(own.packuments.length, output(own.r)).toBeGreaterThan(0);

    // An integrity the registry never signed: refused by a runner with the shared key too (nothing remembered covers it).
    unsignedIntegrityInLockfile(project);
    const edited = await packumentsDuring(runner('edited', shared));
    expect(edited.r.code, output(edited.r)).not.toBe(0);
    expect(output(edited.r)).toContain('BAD_SIGNATURE');
    expect(ran(project)).toEqual([]);
  });

  it.runIf(major === 12)("pnpm 12 with the registry on pnpm's command line (a fresh resolution, `add`, `update` twice): the second worker judges with pnpm's registries, told by updateConfig (the .npmrc names another)", async () => {
    const project = await initProject({ '@acme/logger': '^2.1.0' }, policy());
    // The project's .npmrc names a registry nothing listens on; pnpm is told the real one on its command line.
    writeFileSync(join(project.dir, '.npmrc'), 'registry=http://127.0.0.1:9/\n');
    const fresh = await pnpmIn(12, project, ['install', `--registry=${registry.url}`]);
    expect(fresh.code, output(fresh)).toBe(0);
    expect(linked(project, '@acme/logger')).toBe(true);
    // `add` from that lockfile: judged by updateConfig, and the package added by the second worker with the registries told.
    const added = await pnpmIn(12, project, ['add', 'left-pad-lite@1.1.0', `--registry=${registry.url}`]);
    expect(added.code, output(added)).toBe(0);
    expect(linked(project, 'left-pad-lite')).toBe(true);
    // `update` twice with nothing changed in between: pnpm resolves anew each time, so updateConfig is not answered from
    // a record (a replayed one tells the workers nothing), and the second worker judges with pnpm's registries.
    for (const round of [1, 2]) {
      const updated = await pnpmIn(12, project, ['update', `--registry=${registry.url}`], { PORTCULLIS_TIMING: '1' });
      expect(updated.code, `update ${round}: ${output(updated)}`).toBe(0);
      expect(output(updated)).not.toContain('portcullis: updateConfig replayed');
    }
    // A badly signed package from that registry is still refused there, before it is linked.
    const bad = await initProject({ 'unsigned-lib': '1.0.0' }, policy());
    writeFileSync(join(bad.dir, '.npmrc'), 'registry=http://127.0.0.1:9/\n');
    const refused = await pnpmIn(12, bad, ['install', `--registry=${registry.url}`]);
    expect(refused.code, output(refused)).not.toBe(0);
    expect(output(refused)).toContain('UNSIGNED');
    expect(linked(bad, 'unsigned-lib')).toBe(false);
  });

  it.runIf(major === 12)('pnpm 12: updateConfig judges pnpm-lock.yaml (install, add, update, remove, dedupe), or finds none, so pnpm hands it to no preResolution; an edited lockfile is refused there, and with another lockfile folder preResolution judges as before', async () => {
    const project = await initProject({ '@acme/logger': '^2.1.0', 'fast-compiler': '^3.2.0' }, policy());
    const traced = tracedHooks(project);
    const first = await traced(['install']);
    expect(first.r.code, output(first.r)).toBe(0);
    const built = ran(project);
    expect(built.length, output(first.r)).toBe(1);
    // No lockfile yet: updateConfig found none, so the second worker declares no preResolution either (pnpm would hand
    // it an empty lockfile, in an AsyncLocalStorage that slows the rest of the worker); readPackage and afterAllResolved
    // judge the fresh resolution.
    expect(first.trace).toContain('declared afterAllResolved,readPackage,updateConfig');
    expect(first.trace).toContain('readPackage');
    expect(first.trace).toContain('afterAllResolved');
    expect(first.trace).not.toContain('preResolution');

    freshCheckout(project);
    const frozen = await traced(['install', '--frozen-lockfile']);
    expect(frozen.r.code, output(frozen.r)).toBe(0);
    expect(ran(project)).toEqual(built);
    // the first worker (updateConfig) declares all four; the second, told the lockfile was judged, no preResolution
    expect(frozen.trace).toContain('updateConfig');
    expect(frozen.trace).toContain('declared afterAllResolved,readPackage,updateConfig');
    expect(frozen.trace).not.toContain('preResolution');

    // `pnpm add` starts from the same pnpm-lock.yaml: updateConfig judges it, the second worker declares no
    // preResolution, and the package added is judged as pnpm resolves it (readPackage, afterAllResolved).
    // (A version the lockfile does not have yet: one it has is linked from the lockfile, with no resolution hook called.)
    const added = await traced(['add', 'left-pad-lite@1.0.0']);
    expect(added.r.code, output(added.r)).toBe(0);
    expect(JSON.parse(readFileSync(join(project.dir, 'node_modules', 'left-pad-lite', 'package.json'), 'utf8')).version).toBe('1.0.0');
    expect(ran(project)).toEqual(built);
    expect(added.trace).toContain('declared afterAllResolved,readPackage,updateConfig');
    expect(added.trace).toContain('readPackage');
    expect(added.trace).toContain('afterAllResolved');
    expect(added.trace).not.toContain('preResolution');
    // A badly signed package added that way is refused as pnpm resolves it, before it is linked.
    const manifest = readFileSync(join(project.dir, 'package.json'), 'utf8');
    const tampered = await traced(['add', 'tampered-lib@1.0.0']);
    expect(tampered.r.code, output(tampered.r)).not.toBe(0);
    expect(output(tampered.r)).toContain('BAD_SIGNATURE  tampered-lib@1.0.0');
    expect(tampered.trace).not.toContain('preResolution');
    expect(linked(project, 'tampered-lib')).toBe(false);
    expect(readFileSync(join(project.dir, 'package.json'), 'utf8')).toBe(manifest);
    // A version with an install script the policy does not allow, added that way: installed, its script not run, and
    // the notice names it.
    const scripted = await traced(['add', 'fast-compiler@4.0.0']);
    expect(scripted.r.code, output(scripted.r)).toBe(0);
    expect(JSON.parse(readFileSync(join(project.dir, 'node_modules', 'fast-compiler', 'package.json'), 'utf8')).version).toBe('4.0.0');
    expect(ran(project)).toEqual(built);
    expect(output(scripted.r)).toContain('portcullis: skipped the install scripts of fast-compiler@4.0.0');
    expect(scripted.trace).not.toContain('preResolution');
    const manifestNow = readFileSync(join(project.dir, 'package.json'), 'utf8');
    // `dedupe` starts from the same lockfile too.
    const deduped = await traced(['dedupe']);
    expect(deduped.r.code, output(deduped.r)).toBe(0);
    expect(deduped.trace).toContain('updateConfig');
    expect(deduped.trace).not.toContain('preResolution');

    // pnpm-lock.yaml edited: an integrity the registry never signed. Refused by updateConfig, before any download.
    unsignedIntegrityInLockfile(project);
    freshCheckout(project);
    const tarballs = registry.requests.length;
    const edited = await traced(['install', '--frozen-lockfile']);
    expect(edited.r.code, output(edited.r)).not.toBe(0);
    expect(output(edited.r)).toContain('BAD_SIGNATURE');
    expect(edited.trace).toContain('updateConfig');
    expect(edited.trace).not.toContain('preResolution');
    expect(registry.requests.slice(tarballs).filter((r) => r.path.endsWith('.tgz'))).toEqual([]);
    expect(ran(project)).toEqual([]);
    // So are `pnpm add`, `update`, `remove` and `dedupe` from that lockfile: refused by updateConfig, before any
    // download, and package.json as it was.
    for (const command of [['add', 'tiny-colors@0.4.2'], ['update'], ['remove', 'left-pad-lite'], ['dedupe']]) {
      const before = registry.requests.length;
      const changed = await traced(command);
      expect(changed.r.code, output(changed.r)).not.toBe(0);
      expect(output(changed.r)).toContain('BAD_SIGNATURE');
      expect(changed.trace).toContain('updateConfig');
      expect(changed.trace).not.toContain('preResolution');
      expect(registry.requests.slice(before).filter((r) => r.path.endsWith('.tgz'))).toEqual([]);
      expect(readFileSync(join(project.dir, 'package.json'), 'utf8')).toBe(manifestNow);
      expect(ran(project)).toEqual([]);
    }

    // Run from the parent folder with -C: the command line is not a plain install, so updateConfig leaves the
    // lockfile to preResolution, which judges it (and refuses it) as before.
    const fromParent = await traced(['-C', project.dir, 'install', '--frozen-lockfile'], join(project.dir, '..'));
    expect(fromParent.r.code, output(fromParent.r)).not.toBe(0);
    expect(output(fromParent.r)).toContain('BAD_SIGNATURE');
    expect(fromParent.trace).toContain('preResolution');
    expect(ran(project)).toEqual([]);
  });

  it.runIf(major === 12)('pnpm 12 in a workspace, projects selected before the command (`pnpm --filter app install`): updateConfig judges the one pnpm-lock.yaml, so no preResolution; an edited lockfile is refused there', async () => {
    const project = await initProject({ '@acme/logger': '^2.1.0' }, policy(), 'packages:\n  - packages/*\n');
    mkdirSync(join(project.dir, 'packages', 'app'), { recursive: true });
    writeFileSync(join(project.dir, 'packages', 'app', 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: { 'left-pad-lite': '1.0.0' } }));
    const traced = tracedHooks(project);
    const all = await traced(['install']);
    expect(all.r.code, output(all.r)).toBe(0);
    expect(existsSync(join(project.dir, 'packages', 'app', 'node_modules', 'left-pad-lite'))).toBe(true);

    freshCheckout(project);
    rmSync(join(project.dir, 'packages', 'app', 'node_modules'), { recursive: true, force: true });
    const selected = await traced(['--filter', 'app', 'install', '--frozen-lockfile']);
    expect(selected.r.code, output(selected.r)).toBe(0);
    expect(existsSync(join(project.dir, 'packages', 'app', 'node_modules', 'left-pad-lite'))).toBe(true);
    expect(selected.trace).toContain('updateConfig');
    expect(selected.trace).toContain('declared afterAllResolved,readPackage,updateConfig');
    expect(selected.trace).not.toContain('preResolution');

    // An integrity the registry never signed, in the one lockfile: refused by updateConfig before any download.
    unsignedIntegrityInLockfile(project);
    rmSync(join(project.dir, 'packages', 'app', 'node_modules'), { recursive: true, force: true });
    const before = registry.requests.length;
    const edited = await traced(['-F', 'app', 'install', '--frozen-lockfile']);
    expect(edited.r.code, output(edited.r)).not.toBe(0);
    expect(output(edited.r)).toContain('BAD_SIGNATURE');
    expect(edited.trace).toContain('updateConfig');
    expect(edited.trace).not.toContain('preResolution');
    expect(registry.requests.slice(before).filter((r) => r.path.endsWith('.tgz'))).toEqual([]);
    expect(existsSync(join(project.dir, 'packages', 'app', 'node_modules', 'left-pad-lite'))).toBe(false);
  });

  it.runIf(major !== 12)(`pnpm ${major}: a command asked again with nothing changed gets updateConfig's answer replayed in pnpm's process; a hook after it has the engine decide again, and an answer that differs stops pnpm; a changed lockfile or policy, or a record elsewhere, is decided again`, async () => {
    const project = await initProject(scriptDeps, policy());
    const manifest = JSON.parse(readFileSync(join(project.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(project.dir, 'package.json'), JSON.stringify({ ...manifest, scripts: { hello: 'node -e ""' } }));
    // PORTCULLIS_TIMING (the same in every run, so part of every question) makes the loader say when it replayed.
    const timed = { PORTCULLIS_TIMING: '1' };
    // Without the side-effects cache, pnpm runs the allowed build again once node_modules is gone.
    const install = () => pnpmIn(major, project, ['install', '--config.side-effects-cache=false'], timed);
    // Without pnpmIn's store and cache settings: after `run <script>` they would be the script's arguments.
    const hello = () => {
      const tool = pnpm(major);
      return run(tool.command, [...tool.args, 'run', 'hello'], { cwd: project.dir, env: { ...project.env, ...timed } });
    };
    const replayed = (r: RunResult) => output(r).includes('portcullis: updateConfig replayed');
    /** node_modules gone, installed again: it succeeds, was replayed or not, and ran `built`. */
    const reinstalled = async (wasReplayed: boolean, built: string[] = ['fast-compiler@3.2.0.ran']) => {
      freshCheckout(project);
      const r = await install();
      expect(r.code, output(r)).toBe(0);
      expect(replayed(r), output(r)).toBe(wasReplayed);
      expect(ran(project)).toEqual(built);
    };
    expect((await install()).code).toBe(0);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran']);

    // A command that installs nothing: decided and recorded once, then replayed.
    const first = await hello();
    expect(first.code, output(first)).toBe(0);
    expect(replayed(first)).toBe(false);
    const second = await hello();
    expect(second.code, output(second)).toBe(0);
    expect(replayed(second), output(second)).toBe(true);

    // An install: pnpm 10 calls preResolution on every one, so it is never replayed there (the engine loads anyway).
    const decided = await install();
    expect(decided.code, output(decided)).toBe(0);
    expect(replayed(decided)).toBe(false);
    const upToDate = await install();
    expect(upToDate.code, output(upToDate)).toBe(0);
    expect(replayed(upToDate), output(upToDate)).toBe(major === 11);

    // node_modules gone: pnpm installs again, and its preResolution has the engine decide updateConfig again first.
    await reinstalled(major === 11);
    expect(linked(project, 'evil-postinstall')).toBe(true);

    // Each record edited in this user's state folder to let every build run: the hook after updateConfig decides again,
    // finds another answer than the one replayed and stops pnpm before it fetches anything; the engine's answer
    // replaced the record, so the next run goes on with it.
    widenRecords(project, 'state');
    freshCheckout(project);
    const forged = await install();
    if (major === 11) {
      expect(replayed(forged)).toBe(true);
      expect(forged.code, output(forged)).not.toBe(0);
      expect(output(forged)).toContain('differ from what portcullis.json gives now');
      expect(output(forged)).toMatch(/in allowBuilds \([^)]*evil-postinstall/);
      expect(output(forged)).toContain('fix: run the command again');
      expect(ran(project)).toEqual([]);
      expect(linked(project, 'evil-postinstall')).toBe(false);
    }
    const after = await install();
    expect(after.code, output(after)).toBe(0);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran']);

    // Records put in the cache folder, none in the state folder: not read.
    widenRecords(project, 'cache');
    await reinstalled(false);

    // The policy narrowed: decided again.
    writeFileSync(join(project.dir, 'portcullis.json'), JSON.stringify(policy({ scripts: { allow: [] } })));
    expect(replayed(await hello())).toBe(false);
    await reinstalled(false, []);

    // pnpm-lock.yaml edited: an integrity the registry never signed.
    unsignedIntegrityInLockfile(project);
    expect(replayed(await hello())).toBe(false);
    freshCheckout(project);
    refusedAsEdited(project, await install());
  });

  it.runIf(major === 12)("pnpm 12: a repeat install with nothing changed gets updateConfig's answer replayed; a changed lockfile, policy, pnpm setting, command line or environment, or an edited record, is decided again", async () => {
    const project = await initProject(scriptDeps, policy());
    // PORTCULLIS_TIMING (the same in every run, so part of every question) makes the loader say when it replayed.
    const install = (args: string[] = ['install'], env: NodeJS.ProcessEnv = {}) => pnpmIn(12, project, args, { PORTCULLIS_TIMING: '1', ...env });
    const replayed = (r: RunResult) => output(r).includes('portcullis: updateConfig replayed');
    const skippedNotice = 'portcullis approve evil-postinstall@1.0.0 native-addon@1.0.0';

    expect((await install()).code).toBe(0);
    // The second install decides from the lockfile the first one wrote, and leaves the record.
    const second = await install();
    expect(second.code, output(second)).toBe(0);
    expect(replayed(second)).toBe(false);
    freshCheckout(project);
    const third = await install();
    expect(third.code, output(third)).toBe(0);
    expect(replayed(third), output(third)).toBe(true);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran']);
    expect(output(third)).toContain(skippedNotice);

    // pnpm-workspace.yaml allows every build: another configuration, decided again (and overridden).
    const yaml = join(project.dir, 'pnpm-workspace.yaml');
    writeFileSync(yaml, 'allowBuilds:\n  evil-postinstall: true\n  native-addon: true\ndangerouslyAllowAllBuilds: true\n');
    freshCheckout(project);
    const widened = await install();
    expect(widened.code, output(widened)).toBe(0);
    expect(replayed(widened)).toBe(false);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran']);
    rmSync(yaml);

    // The command line and the environment are part of the question too.
    freshCheckout(project);
    const cli = await install(['install', '--config.allow-builds={"evil-postinstall":true}']);
    expect(replayed(cli)).toBe(false);
    expect(cli.code, output(cli)).not.toBe(0);
    expect(ran(project)).toEqual([]);
    const strict = await install(['install'], { PORTCULLIS_STRICT_SCRIPTS: '1' });
    expect(replayed(strict)).toBe(false);
    expect(strict.code, output(strict)).not.toBe(0);
    expect(output(strict)).toContain('SCRIPT_NOT_ALLOWED');

    // The policy: no build allowed any more.
    const policyText = readFileSync(join(project.dir, 'portcullis.json'), 'utf8');
    writeFileSync(join(project.dir, 'portcullis.json'), JSON.stringify(policy({ scripts: { allow: [] } })));
    freshCheckout(project);
    const narrowed = await install();
    expect(narrowed.code, output(narrowed)).toBe(0);
    expect(replayed(narrowed)).toBe(false);
    expect(ran(project)).toEqual([]);
    writeFileSync(join(project.dir, 'portcullis.json'), policyText);

    // Back to the first policy: one record per question, and the last one was made with the narrowed policy, so the
    // engine decides once (from its remembered verdict), then the answer is replayed again.
    freshCheckout(project);
    const back = await install();
    expect(back.code, output(back)).toBe(0);
    expect(replayed(back)).toBe(false);
    freshCheckout(project);
    const again = await install();
    expect(again.code, output(again)).toBe(0);
    expect(replayed(again)).toBe(true);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran']);

    // The record edited to let evil-postinstall build and put in the cache folder (which a CI may restore from another
    // workflow), the real one gone: records are only read from this user's state folder, so the engine decides.
    const folder = replayRecords(project);
    widenRecords(project, 'cache');
    freshCheckout(project);
    const forgedRecord = await install();
    expect(forgedRecord.code, output(forgedRecord)).toBe(0);
    expect(replayed(forgedRecord)).toBe(false);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran']);
    // The record that install left, made writable by others: not this user's word either.
    for (const name of readdirSync(folder)) chmodSync(join(folder, name), 0o666);
    freshCheckout(project);
    const othersRecord = await install();
    expect(othersRecord.code, output(othersRecord)).toBe(0);
    expect(replayed(othersRecord)).toBe(false);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran']);

    // pnpm-lock.yaml edited: an integrity the registry never signed.
    unsignedIntegrityInLockfile(project);
    freshCheckout(project);
    refusedAsEdited(project, await install());
  });

  it.runIf(major === 12)('pnpm 12: with files unchanged for a few seconds, the record and the token keep stat stamps; a lockfile edited to the same size with its times set back is decided again and refused', async () => {
    const project = await initProject(scriptDeps, policy());
    const install = () => pnpmIn(12, project, ['install'], { PORTCULLIS_TIMING: '1' });
    const replayed = (r: RunResult) => output(r).includes('portcullis: updateConfig replayed');
    const state = join(project.home, '.local', 'state', 'portcullis');
    const kept = (folder: string) => readdirSync(join(state, folder)).map((name) => readFileSync(join(state, folder, name), 'latin1'));
    expect((await install()).code).toBe(0);
    // A stat vouches only for a file whose last change is 3 s old or more (the kernel keeps ctime in coarse steps).
    await new Promise((done) => setTimeout(done, 3_200));
    freshCheckout(project);
    const decided = await install();
    expect(decided.code, output(decided)).toBe(0);
    expect(replayed(decided)).toBe(false);
    // What was kept of the files: stamps, not their bytes.
    for (const record of kept('pnpm-replay-v3')) expect(record).not.toContain('lockfileVersion');
    freshCheckout(project);
    const again = await install();
    expect(again.code, output(again)).toBe(0);
    expect(replayed(again), output(again)).toBe(true);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran']);
    // The tokens of the lockfile judged keep its stamp; the first install's (no lockfile then) says there was none.
    const tokens = kept('pnpm-judged-v3');
    const judged = tokens.filter((token) => !token.includes('"absent":true'));
    expect(judged.length).toBeGreaterThan(0);
    for (const token of judged) expect(token).toContain('"stamp":');
    for (const token of tokens) expect(token).not.toContain('lockfileVersion');

    // An integrity the registry never signed, the same length, the file's times set back: its ctime still moved.
    const file = join(project.dir, 'pnpm-lock.yaml');
    const before = statSync(file, { bigint: true });
    const lockfile = readFileSync(file, 'utf8');
    const integrity = /integrity: (sha512-[A-Za-z0-9+/=]+)/.exec(lockfile)?.[1];
    // `touch -r` sets the times to the nanosecond, from a copy that kept them.
    execFileSync('cp', ['--preserve=timestamps', file, join(project.home, 'times')]);
    writeFileSync(file, lockfile.replace(integrity!, `sha512-${Buffer.alloc(64, 7).toString('base64')}`));
    execFileSync('touch', ['-r', join(project.home, 'times'), file]);
    const after = statSync(file, { bigint: true });
    expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
    expect(after.ctimeNs).not.toBe(before.ctimeNs);
    freshCheckout(project);
    const edited = await install();
    expect(replayed(edited)).toBe(false);
    expect(edited.code, output(edited)).not.toBe(0);
    expect(output(edited)).toContain('BAD_SIGNATURE');
    expect(ran(project)).toEqual([]);
  });

  it.runIf(major === 12)('pnpm 12: with advisory sources, replayed while they are untouched; a record added for an installed version is decided again and refused', async () => {
    const project = await initProject({ '@acme/logger': '^2.1.0' }, policy({ advisories: { osv: ['./osv'] } }));
    const osvDir = join(project.dir, 'osv');
    mkdirSync(osvDir);
    writeFileSync(join(osvDir, 'MAL-2026-0100.json'), JSON.stringify({ schema_version: '1.5.0', id: 'MAL-2026-0100', modified: '2026-11-30T00:00:00Z', summary: 'Malicious code in other-lib (npm)', affected: [{ package: { ecosystem: 'npm', name: 'other-lib' }, versions: ['1.0.0'] }] }));
    const install = () => pnpmIn(12, project, ['install'], { PORTCULLIS_TIMING: '1' });
    const replayed = (r: RunResult) => output(r).includes('portcullis: updateConfig replayed');
    expect((await install()).code).toBe(0);
    expect(replayed(await install())).toBe(false);
    freshCheckout(project);
    const third = await install();
    expect(third.code, output(third)).toBe(0);
    expect(replayed(third), output(third)).toBe(true);

    const version = /'?@acme\/logger@(\d+\.\d+\.\d+)'?:/.exec(readFileSync(join(project.dir, 'pnpm-lock.yaml'), 'utf8'))?.[1];
    expect(version).toBeDefined();
    writeFileSync(join(osvDir, 'MAL-2026-0101.json'), JSON.stringify({ schema_version: '1.5.0', id: 'MAL-2026-0101', modified: '2026-11-30T00:00:00Z', summary: 'Malicious code in @acme/logger (npm)', affected: [{ package: { ecosystem: 'npm', name: '@acme/logger' }, versions: [version] }] }));
    freshCheckout(project);
    const listed = await install();
    expect(replayed(listed)).toBe(false);
    expect(listed.code, output(listed)).not.toBe(0);
    expect(output(listed)).toContain('KNOWN_MALICIOUS');
    expect(linked(project, '@acme/logger')).toBe(false);
  });

  it('as a config dependency (`pnpm add --config`), pinned by integrity, it blocks the same way', async () => {
    const project = createProject('pnpm', registry.url, { 'unsigned-lib': '1.0.0', 'fast-compiler': '^3.2.0' }, { policy: policy() });
    const added = await pnpmIn(major, project, ['add', '--config', PLUGIN]);
    expect(added.code, output(added)).toBe(0);
    // pnpm 10 pins the integrity in pnpm-workspace.yaml; 11 and 12 in the first document of pnpm-lock.yaml.
    const pin = major === 10 ? readFileSync(join(project.dir, 'pnpm-workspace.yaml'), 'utf8') : readFileSync(join(project.dir, 'pnpm-lock.yaml'), 'utf8');
    expect(pin).toMatch(major === 10 ? /'@portcullis\/pnpm-plugin-portcullis': 0\.1\.0\+sha512-/ : /'@portcullis\/pnpm-plugin-portcullis@0\.1\.0':\n\s+resolution: \{integrity: sha512-/);
    const result = await pnpmIn(major, project, ['install']);
    expect(result.code, output(result)).not.toBe(0);
    expect(output(result)).toContain('UNSIGNED  unsigned-lib@1.0.0');
    expect(ran(project)).toEqual([]);
    expect(linked(project, 'fast-compiler')).toBe(false);
  });
});
