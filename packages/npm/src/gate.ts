/**
 * The gate in front of npm: resolve without running anything, decide, and only then install with scripts off
 * and run exactly the allowed packages' scripts, one installed copy at a time. Orchestration only: the verdict
 * and its consequences come from the core's gate, npm's structures from translate.ts, npm's version
 * differences from quirks.ts, and every refusal from refuse.ts.
 */
import { relative } from 'node:path';
import { installedManifestReader, openGate, strictScripts, type Lockfile, type Verdict } from '@portcullis/core';
import type { NpmCommand } from './arguments.js';
import type { GateContext, NpmInstall } from './context.js';
import { runLifecycle } from './lifecycle.js';
import { runNpm } from './npm-process.js';
import { mark } from './timing.js';
import { lockfileIn, ProjectSnapshot } from './project-files.js';
import { findNpmProject } from './project-root.js';
import { rootPreinstallFirst, scriptsRunDespiteIgnoreScripts } from './quirks.js';
import { refuse, reportBlocked, reportSkipped, say } from './refuse.js';
import { globalInstall, lockfileIsCurrent, lockfilePackages, npmRegistryConfig, optionOn, withOwnFlags, type ReadLockfile } from './translate.js';

export type { GateContext } from './context.js';

/**
 * Settings that must never come from anyone's config (or an earlier option) while nothing may run: passed on npm's
 * command line after the user's options. `--package-lock`: with `package-lock=false` (`--no-package-lock`, an .npmrc)
 * npm would ignore the lockfile that was checked and install whatever it resolves.
 */
function quietFlags(cmd: NpmCommand): string[] {
  const flags = ['--ignore-scripts', '--package-lock'];
  // Git dependencies are fetched by a nested npm in the clone, under that repository's own .npmrc.
  if (!cmd.options.has('allow-git')) flags.push('--allow-git=none');
  return flags;
}

/** The environment for npm runs that must run nothing; inherited by nested npm processes (git dependencies). */
function quietEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, npm_config_ignore_scripts: 'true' };
}

/**
 * The project npm installs (its root: lockfile, node_modules, .npmrc) and its gate. From inside a workspace
 * member npm installs the workspace root: a portcullis.json nearer to the working directory than the root's is
 * a policy that does not apply, so the gate refuses it (PROJECT_AMBIGUOUS) before npm runs.
 */
async function openInstall(cmd: NpmCommand, ctx: GateContext): Promise<NpmInstall> {
  const npmProject = await findNpmProject(cmd, ctx.cwd, ctx.env, ctx.npm);
  const dir = npmProject.root;
  if (npmProject.via === 'workspace' && ctx.env.PORTCULLIS_DEBUG) say(`portcullis-npm: npm installs the workspace root ${dir} (from ${relative(dir, npmProject.nearest) || '.'})`);
  const registryConfig = await npmRegistryConfig(dir, cmd, ctx.env);
  const options = { dir, start: ctx.cwd, packageManager: 'npm', registryConfig, strict: strictScripts('npm', { env: ctx.env }), env: ctx.env } as const;
  const gate = await openGate({ ...options, offline: cmd.options.get('offline') === true });
  let offline: ReturnType<typeof openGate> | undefined;
  return { cmd, ctx, dir, registryConfig, gate, offlineGate: () => (offline ??= openGate({ ...options, offline: true })) };
}

/**
 * The cooldown in npm's own terms for a command that resolves packages it names (`install <pkg>`, `update`):
 * `--before` makes npm pick versions published before the cooldown, so resolution and the gate agree. npm's
 * `before` has no exclusions, so with `cooldown.exclude` set it is not passed (the gate still refuses a too-new
 * version); nor when the user gave `--before` (theirs is stricter or an informed choice the gate checks anyway).
 */
function cooldownFlags(install: NpmInstall): string[] {
  const cooldown = install.gate.cooldown;
  const resolving = install.cmd.positionals.length > 0 || install.cmd.command === 'update';
  if (cooldown === null || cooldown.exclude.length > 0 || !resolving || install.cmd.options.has('before')) return [];
  return [`--before=${new Date(Date.now() - cooldown.minimumReleaseAgeMs).toISOString()}`];
}

interface Judged {
  read: ReadLockfile;
  lockfile: Lockfile;
  verdict: Verdict;
}

/** Judges the lockfile npm wrote before anything is installed. */
async function judgeLockfile(install: NpmInstall): Promise<Judged> {
  const read = lockfilePackages(install.dir, install.registryConfig);
  const { lockfile } = read;
  const verdict = await install.gate.judge(lockfile.packages, { scriptsUnskippable: (pkg) => scriptsRunDespiteIgnoreScripts(install.ctx.npm.version, pkg) });
  return { read, lockfile, verdict };
}

/**
 * Judges what npm installed, from the installed files (the package.json on disk is what runs: manifest confusion).
 * After a first decision on the same lockfile text (npm installed exactly what was checked), that decision's gate
 * judges again: its memo, keys and packuments are already in memory, and every package of the lockfile was just
 * judged by it, so nothing is fetched; only the script facts now come from the installed files. Otherwise the
 * metadata is normally cached after the install; if it is not, the registry is asked.
 */
async function judgeInstalled(install: NpmInstall, before?: Judged): Promise<Judged> {
  const read = lockfilePackages(install.dir, install.registryConfig, before?.read);
  const { lockfile } = read;
  const inputs = { readInstalled: installedManifestReader(lockfile, install.dir) };
  if (before !== undefined && read === before.read) return { read, lockfile, verdict: await install.gate.judge(lockfile.packages, inputs) };
  let verdict = await (await install.offlineGate()).judge(lockfile.packages, inputs);
  if (verdict.exitCode === 3 && install.cmd.options.get('offline') !== true) verdict = await install.gate.judge(lockfile.packages, inputs);
  return { read, lockfile, verdict };
}

/** After npm installed with scripts off: re-decide from the installed files, then run what is allowed. */
async function afterInstall(install: NpmInstall, options: { rootScripts: boolean; only?: string[]; before?: Judged }): Promise<number> {
  const { lockfile, verdict } = await judgeInstalled(install, options.before);
  mark('judged installed');
  if (verdict.blocking.length > 0) return reportBlocked(verdict, lockfile, 'the installed files differ from what was checked; packages are installed but no install script ran.');
  let steps = verdict.buildPlan(installedManifestReader(lockfile, install.dir));
  if (options.only !== undefined) {
    const names = new Set(options.only);
    steps = steps.filter((s) => names.has(s.name) || names.has(`./${s.path}`) || names.has(s.path));
  }
  const { ctx, cmd, dir } = install;
  const code = await runLifecycle(ctx, cmd, dir, steps, { rootScripts: options.rootScripts, rootPreinstallDone: options.rootScripts && rootPreinstallFirst(ctx.npm.version) });
  mark('lifecycle');
  reportSkipped(verdict, options.only);
  return code;
}

/** `install`/`add`/`update`/`dedupe`/`audit fix`: resolve lock-only, decide, then install exactly that lockfile. */
export async function gateResolve(cmd: NpmCommand, ctx: GateContext): Promise<number> {
  if (globalInstall(cmd, ctx.env)) return refuse('global installs are not gated yet; nothing was installed. Use npm directly with --ignore-scripts if you accept that.');
  if (cmd.options.has('no-save') || cmd.options.get('save') === 'false') return refuse('--no-save is not supported: the gate checks the lockfile npm writes. Nothing was installed.');
  // `--dry-run=false`, `--dry-run --no-dry-run` or `--dry-run --dry=false` is a real install to npm: only a dry run npm
  // surely reads is passed on, with `--dry-run` last so that nothing after it turns it off.
  if (optionOn(cmd, 'dry-run')) return (await runNpm(ctx.npm, withOwnFlags(cmd.argv, ['--dry-run']), { cwd: ctx.cwd, env: ctx.env, inherit: true })).code;

  mark('start');
  const install = await openInstall(cmd, ctx);
  mark('opened');
  const snapshot = ProjectSnapshot.take(install.dir);
  const restore = () => snapshot.restore();
  try {
    const lockOnly = optionOn(cmd, 'package-lock-only');
    // `--package-lock-only` always, last: the user's own may be one npm reads as off (`--package-lock-only=false`).
    const resolved = lockfileIsCurrent(install.dir, cmd)
      ? { code: 0, stdout: '', stderr: '' }
      : await runNpm(ctx.npm, withOwnFlags(cmd.argv, ['--package-lock-only', ...quietFlags(cmd), ...cooldownFlags(install), '--no-audit', '--no-fund']), { cwd: ctx.cwd, env: quietEnv(ctx.env), inherit: false });
    if (resolved.code !== 0) {
      restore();
      process.stdout.write(resolved.stdout);
      process.stderr.write(resolved.stderr);
      return resolved.code;
    }
    // npm's hidden lockfile must keep describing node_modules, or npm skips installing what was just resolved.
    snapshot.restoreHiddenLockfile();
    mark('resolved');
    const judged = await judgeLockfile(install);
    const { lockfile, verdict } = judged;
    mark('judged lockfile');
    if (verdict.blocking.length > 0) {
      restore();
      return reportBlocked(verdict, lockfile, 'nothing was installed; package.json and package-lock.json are unchanged.');
    }
    if (lockOnly) {
      process.stdout.write(resolved.stdout);
      process.stderr.write(resolved.stderr);
      reportSkipped(verdict);
      return 0;
    }

    const bare = cmd.positionals.length === 0 && (cmd.command === 'install' || cmd.command === 'install-test');
    if (bare && rootPreinstallFirst(ctx.npm.version)) {
      const code = await runLifecycle(ctx, cmd, install.dir, [], { rootScripts: true, onlyPreinstall: true });
      if (code !== 0) return code;
    }
    // Install exactly the checked lockfile; npm's normal output is the user's.
    const installed = await runNpm(ctx.npm, ['install', ...cmd.optionArgs.filter((a) => a !== '--package-lock-only'), ...quietFlags(cmd)], { cwd: ctx.cwd, env: quietEnv(ctx.env), inherit: true });
    mark('npm installed');
    if (installed.code !== 0) {
      restore();
      return installed.code;
    }
    return await afterInstall(install, { rootScripts: bare, before: judged });
  } catch (error) {
    restore();
    throw error;
  }
}

/** `ci`: the lockfile is given; decide on it before npm downloads anything. */
export async function gateCi(cmd: NpmCommand, ctx: GateContext): Promise<number> {
  mark('start');
  const install = await openInstall(cmd, ctx);
  mark('opened');
  if (lockfileIn(install.dir) === undefined) {
    // npm explains that ci needs a lockfile; with scripts off nothing runs.
    return (await runNpm(ctx.npm, withOwnFlags(cmd.argv, quietFlags(cmd)), { cwd: ctx.cwd, env: quietEnv(ctx.env), inherit: true })).code;
  }
  const judged = await judgeLockfile(install);
  const { lockfile, verdict } = judged;
  mark('judged lockfile');
  if (verdict.blocking.length > 0) return reportBlocked(verdict, lockfile, 'nothing was installed.');
  if (rootPreinstallFirst(ctx.npm.version)) {
    const code = await runLifecycle(ctx, cmd, install.dir, [], { rootScripts: true, onlyPreinstall: true });
    if (code !== 0) return code;
  }
  const installed = await runNpm(ctx.npm, ['ci', ...cmd.optionArgs, ...quietFlags(cmd)], { cwd: ctx.cwd, env: quietEnv(ctx.env), inherit: true });
  mark('npm installed');
  if (installed.code !== 0) return installed.code;
  return afterInstall(install, { rootScripts: true, before: judged });
}

/** `rebuild [names]`: run the allowed scripts of what is installed, nothing else. */
export async function gateRebuild(cmd: NpmCommand, ctx: GateContext): Promise<number> {
  const install = await openInstall(cmd, ctx);
  return afterInstall(install, { rootScripts: false, ...(cmd.positionals.length > 0 ? { only: cmd.positionals } : {}) });
}
