// The bench's install projects, shared by bench/install.mjs and bench/ab.mjs: a project folder with its own caches,
// bare or guarded as a user sets it up (with the trust rules on or off), reset to what a mode starts from, and
// installed by the real package manager. Node built-ins only.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discard, expectExit, root, run, tool } from './lib.mjs';

/** Where a checkout's CLI and npm wrapper are built (lib.mjs's CLI and NPM_WRAPPER, for this checkout). */
const CLI_PATH = 'packages/cli/dist/portcullis.js';
const NPM_WRAPPER_PATH = 'packages/npm/dist/portcullis-npm.js';
/** The no-op wrapper (the control of bench/npm-wrapper.mjs): npm in a Node process of its own, nothing decided. */
const NPM_NOOP_WRAPPER = join(root, 'bench', 'npm-noop-wrapper.cjs');
/** The floor of a gate that vouches for what npm installed (bench/npm-wrapper.mjs): the no-op wrapper and the installed copies' stat after npm. */
const NPM_FLOOR_WRAPPER = join(root, 'bench', 'npm-floor-wrapper.cjs');
/** Records in the rules-on project's OSV bundle (none names a package of the graph). */
const ADVISORY_RECORDS = 100_000;

export const toolFor = (pm) => (pm === 'yarn' ? tool('yarn') : tool(pm.replace(/\d+$/, ''), Number(pm.match(/\d+$/)[0])));

/** The guarded projects' policy: trust rules on with `rules` (rulesMaterial), off with null. */
export function benchPolicy(registry, rules) {
  // Nothing may build (the graph's ~3 % postinstall packages are skipped with a notice, as bare pnpm/Yarn/npm-with-ignore-scripts skip them).
  const policy = { scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } };
  // Rules on: provenance of every package (all are in @bench), a cooldown every version passes, advisories that name none of them.
  if (rules) Object.assign(policy, { provenance: { require: ['@bench/*'], trustedRoot: rules.trustedRoot }, cooldown: { minimumReleaseAge: '3d' }, advisories: { osv: [rules.osv] } });
  return policy;
}

/**
 * One project folder with its own caches: the bare one, or the guarded one set up as a user does (`portcullis init`
 * with the CLI of `build`, a checkout's root; this one by default).
 */
export async function createProject(base, pm, registry, dependencies, guarded, rules = null, build = root) {
  const dir = join(base, 'project');
  const home = join(base, 'home');
  mkdirSync(dir, { recursive: true });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true, dependencies }, null, 2)}\n`);
  const kind = pm.replace(/\d+$/, '');
  if (kind === 'yarn') {
    writeFileSync(
      join(dir, '.yarnrc.yml'),
      [`npmRegistryServer: "${registry.url}"`, 'unsafeHttpWhitelist: ["127.0.0.1"]', 'enableGlobalCache: false', `globalFolder: "${join(home, 'yarn-global')}"`, `cacheFolder: "${join(home, 'yarn-cache')}"`, 'nodeLinker: node-modules', 'enableTelemetry: false', 'enableScripts: false', ''].join('\n'),
    );
    writeFileSync(join(dir, 'yarn.lock'), '');
  } else {
    // npm: as after `portcullis init npm` (a plain npm runs no dependency scripts either); pnpm ignores it.
    writeFileSync(join(dir, '.npmrc'), `registry=${registry.url}\n${kind === 'npm' ? 'ignore-scripts=true\n' : ''}`);
  }
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    TMPDIR: tmpdir(),
    PORTCULLIS_CACHE_DIR: join(home, 'portcullis-cache'),
    npm_config_userconfig: join(home, '.npmrc'),
    npm_config_cache: join(home, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    COREPACK_ENABLE_STRICT: '0',
    YARN_ENABLE_TELEMETRY: '0',
    NO_COLOR: '1',
    CI: 'true',
  };
  writeFileSync(join(home, '.npmrc'), '');
  if (guarded) {
    writeFileSync(join(dir, 'portcullis.json'), `${JSON.stringify(benchPolicy(registry, rules), null, 2)}\n`);
    if (kind !== 'npm') expectExit(await run(process.execPath, [join(build, CLI_PATH), 'init', kind], { cwd: dir, env }), `portcullis init ${kind}`);
  }
  return { dir, home, env, guarded, rules: rules !== null, pm, kind, tool: toolFor(pm), build };
}

/** Removes what a mode starts without. */
export function resetProject(p, mode) {
  // lib.mjs's discard: deleted on a tmpfs, moved aside until the script exits elsewhere.
  const rm = (...parts) => discard(join(...parts));
  if (mode === 'warm') return;
  rm(p.dir, 'node_modules');
  if (p.kind === 'yarn') rm(p.dir, '.yarn', 'install-state.gz');
  if (mode !== 'cold') return;
  rm(p.home, 'portcullis-cache');
  if (p.kind === 'pnpm') {
    rm(p.dir, 'pnpm-lock.yaml');
    rm(p.home, 'pnpm-store');
    rm(p.home, 'pnpm-cache');
  } else if (p.kind === 'yarn') {
    writeFileSync(join(p.dir, 'yarn.lock'), '');
    rm(p.home, 'yarn-cache');
    rm(p.home, 'yarn-global');
  } else {
    rm(p.dir, 'package-lock.json');
    rm(p.home, 'npm-cache');
  }
}

/**
 * A bare npm project run through the no-op wrapper (bench/npm-noop-wrapper.cjs), or with `'floor'` through the floor of
 * a gate that vouches for what npm installed (bench/npm-floor-wrapper.cjs): the same folder, caches and npm.
 */
export const npmControlOf = (p, wrapper = 'noop') => ({ ...p, control: wrapper });

/**
 * The install command of a mode; the guarded npm runs `portcullis-npm` (of the project's build) with the same
 * arguments, an npm control (npmControlOf) the no-op wrapper or the floor.
 */
export function installProject(p, mode) {
  let argv;
  if (p.kind === 'pnpm') {
    // pnpm 11/12 fail on skipped builds by default; the pnpmfile sets strictDepBuilds=false itself, the bare run gets it here.
    const own = [`--store-dir=${join(p.home, 'pnpm-store')}`, `--cache-dir=${join(p.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false', '--config.strict-dep-builds=false'];
    argv = mode === 'frozen' ? ['install', '--frozen-lockfile', ...own] : mode === 'cold' ? ['install', '--no-frozen-lockfile', ...own] : ['install', ...own];
  } else if (p.kind === 'yarn') {
    argv = mode === 'cold' ? ['install', '--no-immutable'] : mode === 'frozen' ? ['install', '--immutable'] : ['install'];
  } else {
    argv = mode === 'frozen' ? ['ci'] : ['install'];
  }
  if (p.kind === 'npm' && (p.guarded || p.control)) return run(p.tool.command, [p.control === 'floor' ? NPM_FLOOR_WRAPPER : p.control ? NPM_NOOP_WRAPPER : join(p.build, NPM_WRAPPER_PATH), ...argv], { cwd: p.dir, env: { ...p.env, PORTCULLIS_NPM: p.tool.args[0] } });
  return run(p.tool.command, [...p.tool.args, ...argv], { cwd: p.dir, env: p.env });
}

/** One measured install of a mode, from what the mode starts with. */
export async function timedInstall(p, mode) {
  resetProject(p, mode);
  const r = expectExit(await installProject(p, mode), `${p.guarded ? 'guarded' : p.control ? `control (${p.control})` : 'bare'} ${p.pm} ${mode}`);
  return { ms: r.ms, rssMB: r.rssMB };
}

/** The test Sigstore's trusted root and an OSV bundle naming none of the graph's packages, for the rules-on project. */
export function rulesMaterial(base, testTrustedRoot) {
  mkdirSync(base, { recursive: true });
  const trustedRoot = join(base, 'trusted_root.json');
  writeFileSync(trustedRoot, JSON.stringify(testTrustedRoot()));
  const osv = join(base, 'osv.json');
  const records = Array.from({ length: ADVISORY_RECORDS }, (_, i) => ({ schema_version: '1.5.0', id: `MAL-2099-${i}`, modified: '2026-11-30T00:00:00Z', summary: `Malicious code in bench-mal-${i} (npm)`, affected: [{ package: { ecosystem: 'npm', name: `bench-mal-${i}` }, versions: ['1.0.0'] }] }));
  writeFileSync(osv, JSON.stringify(records));
  return { trustedRoot, osv };
}
