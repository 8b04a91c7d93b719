/**
 * The gate in front of npm: resolve without running anything, decide, and only then install with
 * scripts off and run exactly the allowed packages' scripts, one installed copy at a time.
 */
import { readFileSync } from 'node:fs';
import {
  decide,
  gateOutcome,
  installedManifestReader,
  isOwnCode,
  loadNpmConfig,
  loadPolicy,
  planBuilds,
  PortcullisError,
  readNpmLockfile,
  scriptEvidence,
  type Decision,
  type Lockfile,
  type Policy,
  type ScriptEvidence,
} from '@portcullis/core';
import type { NpmCommand } from './arguments.js';
import { runLifecycle } from './lifecycle.js';
import { runNpm, versionAtLeast, type NpmBinary } from './npm-process.js';
import { lockfileIn, projectRoot, ProjectSnapshot } from './project-files.js';
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

function strictScripts(env: NodeJS.ProcessEnv): boolean {
  const value = env.PORTCULLIS_STRICT_SCRIPTS;
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
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
  const code = await runLifecycle(ctx, cmd, dir, steps, { rootScripts: options.rootScripts, rootPreinstallDone: options.rootScripts && rootPreinstallFirst(ctx) });
  reportSkipped(gate.skipped.filter((f) => options.only === undefined || options.only.includes(f.package)));
  return code;
}

/** npm 12 runs the root `preinstall` before it installs anything; older npm after. */
function rootPreinstallFirst(ctx: GateContext): boolean {
  return versionAtLeast(ctx.npm.version, 12);
}

function refuse(message: string): number {
  say(`portcullis-npm: ${message}`);
  return 2;
}

/** `install`/`add`/`update`/`dedupe`/`audit fix`: resolve lock-only, decide, then install exactly that lockfile. */
export async function gateResolve(cmd: NpmCommand, ctx: GateContext): Promise<number> {
  if (cmd.options.has('global')) return refuse('global installs are not gated yet; nothing was installed. Use npm directly with --ignore-scripts if you accept that.');
  if (cmd.options.has('no-save') || cmd.options.get('save') === 'false') return refuse('--no-save is not supported: the gate checks the lockfile npm writes. Nothing was installed.');
  if (cmd.options.has('dry-run')) return (await runNpm(ctx.npm, cmd.argv, { cwd: ctx.cwd, env: ctx.env, inherit: true })).code;

  const dir = projectRoot(ctx.cwd, stringOption(cmd, 'prefix'));
  const policy = loadPolicy(dir, ctx.env);
  const snapshot = ProjectSnapshot.take(dir);
  const restore = () => snapshot.restore();
  try {
    const lockOnly = cmd.options.has('package-lock-only');
    const resolved = await runNpm(ctx.npm, [...cmd.argv, ...(lockOnly ? [] : ['--package-lock-only']), ...quietFlags(cmd), '--no-audit', '--no-fund'], {
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
    if (gate.blocking.length > 0) {
      restore();
      reportBlocked(judged.decision, gate.blocking, gate.exitCode, judged.lockfile, policy, 'nothing was installed; package.json and package-lock.json are unchanged.');
      return gate.exitCode;
    }
    if (lockOnly) {
      process.stdout.write(resolved.stdout);
      process.stderr.write(resolved.stderr);
      reportSkipped(gate.skipped);
      return 0;
    }

    const bare = cmd.positionals.length === 0 && (cmd.command === 'install' || cmd.command === 'install-test');
    if (bare && rootPreinstallFirst(ctx)) {
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
  const dir = projectRoot(ctx.cwd, stringOption(cmd, 'prefix'));
  const policy = loadPolicy(dir, ctx.env);
  if (lockfileIn(dir) === undefined) {
    // npm explains that ci needs a lockfile; with scripts off nothing runs.
    return (await runNpm(ctx.npm, [...cmd.argv, ...quietFlags(cmd)], { cwd: ctx.cwd, env: quietEnv(ctx.env), inherit: true })).code;
  }
  const judged = await judge(dir, policy, cmd, ctx, false);
  const gate = gateOutcome(judged.decision.findings, { strictScripts: strictScripts(ctx.env) });
  if (gate.blocking.length > 0) {
    reportBlocked(judged.decision, gate.blocking, gate.exitCode, judged.lockfile, policy, 'nothing was installed.');
    return gate.exitCode;
  }
  if (rootPreinstallFirst(ctx)) {
    const code = await runLifecycle(ctx, cmd, dir, [], { rootScripts: true, onlyPreinstall: true });
    if (code !== 0) return code;
  }
  const installed = await runNpm(ctx.npm, ['ci', ...cmd.optionArgs, ...quietFlags(cmd)], { cwd: ctx.cwd, env: quietEnv(ctx.env), inherit: true });
  if (installed.code !== 0) return installed.code;
  return afterInstall(dir, policy, cmd, ctx, { rootScripts: true });
}

/** `rebuild [names]`: run the allowed scripts of what is installed, nothing else. */
export async function gateRebuild(cmd: NpmCommand, ctx: GateContext): Promise<number> {
  const dir = projectRoot(ctx.cwd, stringOption(cmd, 'prefix'));
  const policy = loadPolicy(dir, ctx.env);
  return afterInstall(dir, policy, cmd, ctx, { rootScripts: false, ...(cmd.positionals.length > 0 ? { only: cmd.positionals } : {}) });
}

function stringOption(cmd: NpmCommand, name: string): string | undefined {
  const value = cmd.options.get(name) ?? (name === 'prefix' ? cmd.options.get('C') : undefined);
  return typeof value === 'string' ? value : undefined;
}
