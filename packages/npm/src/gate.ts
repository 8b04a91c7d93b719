/**
 * The gate in front of npm: resolve without running anything, decide, and only then install with
 * scripts off and run exactly the allowed packages' scripts, one installed copy at a time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  decide,
  gateOutcome,
  installedManifestReader,
  isOwnCode,
  loadNpmConfig,
  loadProjectPolicy,
  planBuilds,
  PortcullisError,
  readNpmLockfile,
  scriptEvidence,
  type Decision,
  type Finding,
  type Lockfile,
  type Policy,
  type ScriptEvidence,
} from '@portcullis/core';
import type { NpmCommand } from './arguments.js';
import { runLifecycle } from './lifecycle.js';
import { runNpm, type NpmBinary } from './npm-process.js';
import { lockfileIn, ProjectSnapshot } from './project-files.js';
import { findNpmProject } from './project-root.js';
import { gitPrepareRunsDuringInstall, rootPreinstallFirst } from './quirks.js';
import { reportBlocked, reportSkipped, say } from './report.js';

export interface GateContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  npm: NpmBinary;
}

/** Settings that must never come from anyone's config while nothing may run: passed on npm's command line. */
function quietFlags(cmd: NpmCommand): string[] {
  const flags = ['--ignore-scripts'];
  // Git dependencies are fetched by a nested npm in the clone, under that repository's own .npmrc.
  if (!cmd.options.has('allow-git')) flags.push('--allow-git=none');
  return flags;
}

/** The environment for npm runs that must run nothing; inherited by nested npm processes (git dependencies). */
function quietEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, npm_config_ignore_scripts: 'true' };
}

/** npm config given on the command line that decides where packages come from, for reading the registry settings. */
function configEnv(cmd: NpmCommand, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [key, value] of cmd.options) {
    if (typeof value !== 'string') continue;
    if (key === 'registry' || key === 'userconfig' || key === 'globalconfig' || /^@[^:/]+:registry$/.test(key)) out[`npm_config_${key}`] = value;
  }
  return out;
}

/** `-g`, `--location=global`, or the same from the environment (npm reads `npm_config_*` case-insensitively). */
function globalInstall(cmd: NpmCommand, env: NodeJS.ProcessEnv): boolean {
  if (cmd.options.has('global') || cmd.options.get('location') === 'global') return true;
  for (const [key, value] of Object.entries(env)) {
    const name = key.toLowerCase();
    if (name === 'npm_config_global' && value !== undefined && value !== '' && value !== 'false') return true;
    if (name === 'npm_config_location' && value === 'global') return true;
  }
  return false;
}

function strictScripts(env: NodeJS.ProcessEnv): boolean {
  const value = env.PORTCULLIS_STRICT_SCRIPTS;
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/**
 * npm 10 runs a git dependency's `prepare` while it installs it, even with --ignore-scripts (its pacote
 * ignores the setting there): a git dependency scripts.allow does not cover must be refused before the install.
 */
function gitPrepareRefusals(judged: Judged, ctx: GateContext): Finding[] {
  if (!gitPrepareRunsDuringInstall(ctx.npm.version)) return [];
  const git = new Set(judged.lockfile.packages.filter((p) => p.source === 'git').map((p) => p.id));
  return judged.decision.findings.filter((f) => f.code === 'SCRIPT_NOT_ALLOWED' && f.id !== undefined && git.has(f.id));
}

/** What stops the install before npm runs: the gate's blocking findings, plus npm 10's git `prepare`. */
function blockingBeforeInstall(judged: Judged, ctx: GateContext): { blocking: Finding[]; exitCode: 0 | 1 | 3 } {
  const gate = gateOutcome(judged.decision.findings, { strictScripts: strictScripts(ctx.env) });
  const extra = gitPrepareRefusals(judged, ctx).filter((f) => !gate.blocking.includes(f));
  if (extra.length === 0) return gate;
  return { blocking: [...gate.blocking, ...extra], exitCode: gate.exitCode === 3 ? 3 : 1 };
}

interface Judged {
  lockfile: Lockfile;
  decision: Decision;
}

async function judge(dir: string, policy: Policy, cmd: NpmCommand, ctx: GateContext, installed: boolean): Promise<Judged> {
  const file = lockfileIn(dir);
  if (file === undefined) throw new PortcullisError('LOCKFILE_NOT_FOUND', `npm wrote no lockfile in ${dir}; portcullis-npm needs one (is package-lock=false set?)`);
  const registryConfig = await loadNpmConfig({ projectDir: dir, env: configEnv(cmd, ctx.env) });
  const lockfile = readNpmLockfile(readFileSync(file, 'utf8'), { path: file, projectDir: dir, registryFor: (name) => registryConfig.registryFor(name) });
  const options = {
    policy,
    registryConfig,
    env: ctx.env,
    projectDir: dir,
    ...(installed ? { readInstalled: installedManifestReader(lockfile, dir) } : {}),
  };
  const offline = cmd.options.get('offline') === true;
  let decision = await decide(lockfile.packages, { ...options, offline: offline || installed });
  // After the install the metadata is normally cached; if it is not, ask the registry.
  if (installed && !offline && decision.exitCode === 3) decision = await decide(lockfile.packages, { ...options, offline: false });
  return { lockfile, decision };
}

/** Script evidence for the builds: what was gathered, plus the user's own packages read from disk. */
function buildEvidence(judged: Judged, dir: string): Map<string, ScriptEvidence> {
  const scripts = new Map(judged.decision.evidence.scripts);
  const read = installedManifestReader(judged.lockfile, dir);
  for (const pkg of judged.lockfile.packages) {
    if (!isOwnCode(pkg) || pkg.paths.length === 0) continue;
    const found = scriptEvidence(pkg, undefined, read(pkg));
    if (found !== undefined) scripts.set(pkg.id, found);
  }
  return scripts;
}

/** After npm installed with scripts off: re-decide from the installed files, then run what is allowed. */
async function afterInstall(dir: string, policy: Policy, cmd: NpmCommand, ctx: GateContext, options: { rootScripts: boolean; only?: string[] }): Promise<number> {
  const judged = await judge(dir, policy, cmd, ctx, true);
  // The installed package.json is what runs (manifest confusion): judge scripts from it.
  const gate = gateOutcome(judged.decision.findings, { strictScripts: strictScripts(ctx.env) });
  if (gate.blocking.length > 0) {
    reportBlocked(judged.decision, gate.blocking, gate.exitCode, judged.lockfile, policy, 'the installed files differ from what was checked; packages are installed but no install script ran.');
    return gate.exitCode;
  }
  let steps = planBuilds(policy, judged.lockfile.packages, buildEvidence(judged, dir));
  if (options.only !== undefined) {
    const names = new Set(options.only);
    steps = steps.filter((s) => names.has(s.name) || names.has(`./${s.path}`) || names.has(s.path));
  }
  const code = await runLifecycle(ctx, cmd, dir, steps, { rootScripts: options.rootScripts, rootPreinstallDone: options.rootScripts && rootPreinstallFirst(ctx.npm.version) });
  reportSkipped(gate.skipped.filter((f) => options.only === undefined || options.only.includes(f.package)));
  return code;
}

function refuse(message: string): number {
  say(`portcullis-npm: ${message}`);
  return 2;
}

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const;

/**
 * A bare `npm install` (no packages, no options) in a project whose node_modules npm installed from exactly
 * this package-lock.json (npm's hidden lockfile, node_modules/.package-lock.json, lists the same packages),
 * and whose package.json still asks for what the lockfile's root entry records: npm resolves nothing new, so
 * the lock-only resolution (a whole npm process: ~0.5 s of a ~0.65 s no-op install on 1,000 packages) is
 * skipped. The lockfile is still decided before npm runs; should npm change it anyway, the re-decision
 * after the install judges the new one before any script runs. Anything unusual (workspaces, overrides,
 * bundled dependencies, a shrinkwrap, an unreadable file) takes the full path.
 */
function lockfileIsCurrent(dir: string, cmd: NpmCommand): boolean {
  if (cmd.command !== 'install' || cmd.positionals.length > 0 || cmd.optionArgs.length > 0) return false;
  if (existsSync(join(dir, 'npm-shrinkwrap.json'))) return false;
  try {
    const read = (...parts: string[]) => JSON.parse(readFileSync(join(dir, ...parts), 'utf8')) as Record<string, unknown>;
    const manifest = read('package.json');
    if (['workspaces', 'overrides', 'bundleDependencies', 'bundledDependencies'].some((k) => manifest[k] !== undefined)) return false;
    const lock = read('package-lock.json');
    const hidden = read('node_modules', '.package-lock.json');
    if (typeof lock.lockfileVersion !== 'number' || lock.lockfileVersion < 2 || lock.lockfileVersion !== hidden.lockfileVersion) return false;
    const packages = lock.packages as Record<string, Record<string, unknown>> | undefined;
    if (packages === null || typeof packages !== 'object' || hidden.packages === null || typeof hidden.packages !== 'object') return false;
    const { '': rootEntry, ...installed } = packages;
    if (rootEntry === undefined) return false;
    const same = (a: unknown, b: unknown) => isDeepStrictEqual(a ?? {}, b ?? {});
    if (!DEPENDENCY_FIELDS.every((field) => same(manifest[field], rootEntry[field]))) return false;
    return isDeepStrictEqual(installed, hidden.packages);
  } catch {
    return false;
  }
}

/** `install`/`add`/`update`/`dedupe`/`audit fix`: resolve lock-only, decide, then install exactly that lockfile. */
export async function gateResolve(cmd: NpmCommand, ctx: GateContext): Promise<number> {
  if (globalInstall(cmd, ctx.env)) return refuse('global installs are not gated yet; nothing was installed. Use npm directly with --ignore-scripts if you accept that.');
  if (cmd.options.has('no-save') || cmd.options.get('save') === 'false') return refuse('--no-save is not supported: the gate checks the lockfile npm writes. Nothing was installed.');
  if (cmd.options.has('dry-run')) return (await runNpm(ctx.npm, cmd.argv, { cwd: ctx.cwd, env: ctx.env, inherit: true })).code;

  const { dir, policy } = await project(cmd, ctx);
  const snapshot = ProjectSnapshot.take(dir);
  const restore = () => snapshot.restore();
  try {
    const lockOnly = cmd.options.has('package-lock-only');
    const resolved = lockfileIsCurrent(dir, cmd) ? { code: 0, stdout: '', stderr: '' } : await runNpm(ctx.npm, [...cmd.argv, ...(lockOnly ? [] : ['--package-lock-only']), ...quietFlags(cmd), '--no-audit', '--no-fund'], {
      cwd: ctx.cwd,
      env: quietEnv(ctx.env),
      inherit: false,
    });
    if (resolved.code !== 0) {
      restore();
      process.stdout.write(resolved.stdout);
      process.stderr.write(resolved.stderr);
      return resolved.code;
    }
    const judged = await judge(dir, policy, cmd, ctx, false);
    const gate = gateOutcome(judged.decision.findings, { strictScripts: strictScripts(ctx.env) });
    // Everything gate.blocking holds, plus npm 10's git prepare.
    const before = blockingBeforeInstall(judged, ctx);
    if (before.blocking.length > 0) {
      restore();
      reportBlocked(judged.decision, before.blocking, before.exitCode, judged.lockfile, policy, 'nothing was installed; package.json and package-lock.json are unchanged.');
      return before.exitCode;
    }
    if (lockOnly) {
      process.stdout.write(resolved.stdout);
      process.stderr.write(resolved.stderr);
      reportSkipped(gate.skipped);
      return 0;
    }

    const bare = cmd.positionals.length === 0 && (cmd.command === 'install' || cmd.command === 'install-test');
    if (bare && rootPreinstallFirst(ctx.npm.version)) {
      const code = await runLifecycle(ctx, cmd, dir, [], { rootScripts: true, onlyPreinstall: true });
      if (code !== 0) return code;
    }
    // Install exactly the checked lockfile; npm's normal output is the user's.
    const installed = await runNpm(ctx.npm, ['install', ...cmd.optionArgs.filter((a) => a !== '--package-lock-only'), ...quietFlags(cmd)], { cwd: ctx.cwd, env: quietEnv(ctx.env), inherit: true });
    if (installed.code !== 0) {
      restore();
      return installed.code;
    }
    return await afterInstall(dir, policy, cmd, ctx, { rootScripts: bare });
  } catch (error) {
    restore();
    throw error;
  }
}

/** `ci`: the lockfile is given; decide on it before npm downloads anything. */
export async function gateCi(cmd: NpmCommand, ctx: GateContext): Promise<number> {
  const { dir, policy } = await project(cmd, ctx);
  if (lockfileIn(dir) === undefined) {
    // npm explains that ci needs a lockfile; with scripts off nothing runs.
    return (await runNpm(ctx.npm, [...cmd.argv, ...quietFlags(cmd)], { cwd: ctx.cwd, env: quietEnv(ctx.env), inherit: true })).code;
  }
  const judged = await judge(dir, policy, cmd, ctx, false);
  const gate = blockingBeforeInstall(judged, ctx);
  if (gate.blocking.length > 0) {
    reportBlocked(judged.decision, gate.blocking, gate.exitCode, judged.lockfile, policy, 'nothing was installed.');
    return gate.exitCode;
  }
  if (rootPreinstallFirst(ctx.npm.version)) {
    const code = await runLifecycle(ctx, cmd, dir, [], { rootScripts: true, onlyPreinstall: true });
    if (code !== 0) return code;
  }
  const installed = await runNpm(ctx.npm, ['ci', ...cmd.optionArgs, ...quietFlags(cmd)], { cwd: ctx.cwd, env: quietEnv(ctx.env), inherit: true });
  if (installed.code !== 0) return installed.code;
  return afterInstall(dir, policy, cmd, ctx, { rootScripts: true });
}

/** `rebuild [names]`: run the allowed scripts of what is installed, nothing else. */
export async function gateRebuild(cmd: NpmCommand, ctx: GateContext): Promise<number> {
  const { dir, policy } = await project(cmd, ctx);
  return afterInstall(dir, policy, cmd, ctx, { rootScripts: false, ...(cmd.positionals.length > 0 ? { only: cmd.positionals } : {}) });
}

/**
 * The project npm installs (its root: lockfile, node_modules, .npmrc) and the policy of that root. From
 * inside a workspace member npm installs the workspace root: a portcullis.json nearer to the working
 * directory than the root's would be a policy that does not apply, so that is refused.
 */
async function project(cmd: NpmCommand, ctx: GateContext): Promise<{ dir: string; policy: Policy }> {
  const npmProject = await findNpmProject(cmd, ctx.cwd, ctx.env, ctx.npm);
  const dir = npmProject.root;
  if (npmProject.via === 'workspace' && ctx.env.PORTCULLIS_DEBUG) say(`portcullis-npm: npm installs the workspace root ${dir} (from ${relative(dir, npmProject.nearest) || '.'})`);
  return { dir, policy: loadProjectPolicy(ctx.cwd, dir, ctx.env) };
}
