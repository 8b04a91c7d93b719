/**
 * The gate in front of npm: resolve without running anything, decide, and only then install with scripts off
 * and run exactly the allowed packages' scripts, one installed copy at a time. Orchestration only: the verdict
 * and its consequences come from the core's gate, npm's structures from translate.ts, npm's version
 * differences from quirks.ts, and every refusal from refuse.ts.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { digestOf, installedManifestReader, keptCacheTrusted, keptInputs, npmCached, openGate, PortcullisError, strictScripts, type InstalledVerdict, type LockfileInputs, type LockfileVerdict, type PackageNode, type Verdict } from '@portcullis/core';
import type { ResolvedLockfile } from './ask.js';
import { optionOn, type NpmCommand } from './arguments.js';
import type { GateContext, NpmInstall } from './context.js';
import { rootScriptNames, runLifecycle } from './lifecycle.js';
import { installsThroughHeldNpm } from './early-npm.js';
import { holdNpm, quietEnv, runNpm, type HeldNpm } from './npm-process.js';
import { mark } from './timing.js';
import { lockfileIn, ProjectSnapshot } from './project-files.js';
import { findNpmProject } from './project-root.js';
import { asksBeforeInstalling, rootPreinstallFirst, scriptsRunDespiteIgnoreScripts } from './quirks.js';
import { refuse, reportBlocked, reportSkipped, say } from './refuse.js';
import { globalByConfiguration, globalInstall, installPaths, linkedStrategy, lockfileIsCurrent, lockfilePackages, lockfileText, npmSettings, withOwnFlags, type LockfileText, type ReadLockfile } from './translate.js';

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

/**
 * The project npm installs (its root: lockfile, node_modules, .npmrc) and its gate. From inside a workspace
 * member npm installs the workspace root: a portcullis.json nearer to the working directory than the root's is
 * a policy that does not apply, so the gate refuses it (PROJECT_AMBIGUOUS) before npm runs.
 */
async function openInstall(cmd: NpmCommand, ctx: GateContext): Promise<NpmInstall> {
  const npmProject = await findNpmProject(cmd, ctx.cwd, ctx.env, ctx.npm);
  const dir = npmProject.root;
  if (npmProject.via === 'workspace' && ctx.env.PORTCULLIS_DEBUG) say(`portcullis-npm: npm installs the workspace root ${dir} (from ${relative(dir, npmProject.nearest) || '.'})`);
  const { registryConfig, npmCacache, globalFrom, linkedFrom } = await npmSettings(dir, cmd, ctx.env);
  // A global install on the command line was refused before; one set in npm's configuration is found here.
  const global = globalByConfiguration(cmd, globalFrom);
  if (global !== undefined) {
    throw new PortcullisError('USAGE', `npm's configuration makes this a global install (${global}), which is not gated yet; nothing was installed. Remove that setting, or pass --no-global --location=user.`);
  }
  // The installed files are read at the lockfile's install paths, where the linked strategy leaves most packages out.
  const linked = linkedStrategy(cmd, linkedFrom);
  if (linked !== undefined) {
    throw new PortcullisError('USAGE', `npm installs with its linked strategy here (${linked}), which keeps packages under node_modules/.store where portcullis-npm does not read them yet; nothing was installed. Remove that setting, or pass --install-strategy=hoisted.`);
  }
  const options = { dir, start: ctx.cwd, packageManager: 'npm', registryConfig, strict: strictScripts('npm', { env: ctx.env }), env: ctx.env } as const;
  const gate = await openGate({ ...options, ...engine, offline: cmd.options.get('offline') === true });
  let offline: ReturnType<typeof openGate> | undefined;
  return { cmd, ctx, dir, registryConfig, npmCacache, gate, offlineGate: () => (offline ??= openGate({ ...options, offline: true })) };
}

declare const PORTCULLIS_ENGINE_ID: string | undefined;
/** The build judging (a hash of the bundle's sources, from build.mjs): verdicts are remembered for this build only. */
const engine = typeof PORTCULLIS_ENGINE_ID === 'string' ? { engine: `npm:${PORTCULLIS_ENGINE_ID}` } : {};

/** What a remembered verdict is keyed by besides the gate: the lockfile's file and exact text. */
const digestOfText = (text: LockfileText) => digestOf({ file: text.file, text: text.text });

/**
 * The cooldown in npm's own terms for a command that resolves packages it names (`install <pkg>`, `update`):
 * `--before` makes npm pick versions published before the cooldown, so resolution and the gate agree. npm's
 * `before` has no exclusions, so with `cooldown.exclude` set it is not passed (the gate still refuses a too-new
 * version); nor when the user gave `--before` (theirs is stricter or an informed choice the gate checks anyway).
 */
function cooldownFlags(install: NpmInstall): string[] {
  const cooldown = install.gate.cooldown;
  // `uninstall <names>` names what to remove: nothing new is resolved.
  const resolving = (install.cmd.positionals.length > 0 && install.cmd.command !== 'uninstall') || install.cmd.command === 'update';
  if (cooldown === null || cooldown.exclude.length > 0 || !resolving || install.cmd.options.has('before')) return [];
  return [`--before=${new Date(Date.now() - cooldown.minimumReleaseAgeMs).toISOString()}`];
}

/**
 * The npm that installs once the lockfile is let through, held until then (hold.ts): the one the loader started
 * early for this command (early-npm.ts), else one started now. Scripts are off in its environment.
 */
function heldNpm(ctx: GateContext): HeldNpm {
  const early = ctx.early;
  if (early !== undefined) {
    delete ctx.early;
    return early;
  }
  return holdNpm(ctx.npm, { cwd: ctx.cwd, env: quietEnv(ctx.env), holdWith: ctx.holdWith });
}

/** A refusal's whole verdict: refusals are never remembered, so it was decided now. */
function decidedNow(verdict: LockfileVerdict): Verdict {
  if (verdict.verdict === undefined) throw new Error('a refusal came without its report');
  return verdict.verdict;
}

interface Judged {
  text: LockfileText;
  /** The lockfile's packages, when they were translated (not for a remembered verdict). */
  read?: ReadLockfile;
  /** The digest of `text` the verdict is remembered by. */
  digest: ReturnType<typeof digestOfText>;
  verdict: LockfileVerdict;
  /** The install paths `text` names, worked out while npm runs (installPathsWhileNpmRuns). */
  paths?: { value: string[] | undefined };
}

/**
 * Works out the install paths the judged lockfile names once npm has been let go (the wrapper waits idle while npm
 * runs): the stamp of the installed files after the install needs them, and a remembered verdict left them unread.
 * Used only for the same lockfile text (judgeInstalled). Nothing else runs beside npm: taking that stamp once while npm
 * ran, to have V8 compile it, made the stamp after the install no faster on Node 20 and ~1 ms faster on Node 24
 * (docs/benchmarks.md, thirty-fifth round).
 */
function installPathsWhileNpmRuns(judged: Judged): void {
  setImmediate(() => {
    judged.paths ??= { value: installPaths(judged.text) };
  });
}

/**
 * The packuments npm kept in its cache (the lock-only resolution fetched or revalidated every one just now): the version's
 * document for its signature, and its release line for the provenance downgrade check, instead of fetching them again.
 * Only supplied: the gate verifies them like any registry document, against the integrity in the lockfile.
 */
function keptByNpm(install: NpmInstall): NonNullable<LockfileInputs['kept']> {
  // Only a cache outside the project's checkout (core's keptCacheTrusted).
  if (!keptCacheTrusted(install.npmCacache, install.dir)) return {};
  // Each package's document and release line from one read of npm's cache (core's keptInputs).
  return keptInputs((pkg, past) => npmCached([install.npmCacache], pkg.registry, pkg.name, pkg.version, pkg.integrity, past), (pkg) => install.gate.asksReleaseLine(pkg.name, pkg.version));
}

/**
 * Judges the lockfile npm wrote before anything is installed (a verdict that let the same text through is replayed).
 * `npmJustFetched`: npm's lock-only resolution ran in this invocation, so npm's cache holds what the registry answered
 * just now; only then are the packuments read there. A `ci` or an install whose lockfile is current asks the registry
 * (or Portcullis' own cache) as before: a registry that fails then stops the install, whatever npm kept earlier.
 */
async function judgeLockfile(install: NpmInstall, npmJustFetched = false, resolved?: LockfileText): Promise<Judged> {
  const text = resolved ?? lockfileText(install.dir, install.ctx.npm.version);
  const translated: { read?: ReadLockfile } = {};
  // What npm runs despite --ignore-scripts depends on its version: part of what the verdict is remembered by.
  const unskippable: LockfileInputs = { scriptsUnskippable: { test: (pkg) => scriptsRunDespiteIgnoreScripts(install.ctx.npm.version, pkg), by: `npm@${install.ctx.npm.version ?? 'unknown'}` }, ...(npmJustFetched ? { kept: keptByNpm(install) } : {}) };
  const digest = digestOfText(text);
  const verdict = await install.gate.judgeLockfile(digest, () => (translated.read = lockfilePackages(text, install.registryConfig)).lockfile.packages, unskippable);
  return { text, ...translated, digest, verdict };
}

/**
 * Judges what npm installed, from the installed files (the package.json on disk is what runs: manifest confusion);
 * replayed when nothing on disk changed since the same decision let the same lockfile through (core's
 * `judgeInstalled`). After a first decision that translated the same lockfile text (npm installed exactly what was
 * checked), that decision's gate judges again: its memo, keys and packuments are already in memory, and every package
 * of the lockfile was just judged by it, so nothing is fetched; only the script facts now come from the installed
 * files. Otherwise the metadata is normally cached after the install; if it is not, the registry is asked.
 */
async function judgeInstalled(install: NpmInstall, before?: Judged): Promise<{ text: LockfileText; verdict: InstalledVerdict }> {
  const text = lockfileText(install.dir, install.ctx.npm.version);
  // npm left the lockfile as it was decided (the usual case): its digest and paths are those worked out before.
  const unchanged = before !== undefined && before.text.file === text.file && before.text.text === text.text ? before : undefined;
  let read: ReadLockfile | undefined;
  const translated = () => (read ??= lockfilePackages(text, install.registryConfig, before?.read));
  const verdict = await install.gate.judgeInstalled(unchanged?.digest ?? digestOfText(text), {
    paths: () => (unchanged?.paths !== undefined ? unchanged.paths.value : installPaths(text)),
    packages: () => translated().lockfile.packages,
    reader: (files) => installedManifestReader(translated().lockfile, install.dir, files),
    judge: async (packages, inputs) => {
      if (read !== undefined && read === before?.read) return install.gate.judge(packages, inputs);
      const cached = await (await install.offlineGate()).judge(packages, inputs);
      return cached.exitCode === 3 && install.cmd.options.get('offline') !== true ? install.gate.judge(packages, inputs) : cached;
    },
  });
  return { text, verdict };
}

/** After npm installed with scripts off: re-decide from the installed files, then run what is allowed. */
async function afterInstall(install: NpmInstall, options: { rootScripts: boolean; only?: string[]; before?: Judged }): Promise<number> {
  const { text, verdict } = await judgeInstalled(install, options.before);
  mark(verdict.remembered ? 'judged installed (remembered)' : 'judged installed');
  if (verdict.blocking.length > 0) return reportBlocked(decidedNow(verdict), { kind: 'npm', path: text.file }, 'the installed files differ from what was checked; packages are installed but no install script ran.');
  let steps = [...verdict.buildSteps];
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

/**
 * Whether a fresh resolution is judged inside the npm that installs it (ask.ts: npm resolves, asks, and installs only
 * what was let through) instead of a lock-only npm run before it: a bare `install`, whose lockfile npm writes as it
 * resolved it (`install <pkg>` adds to package.json, and so to the lockfile's root entry, after resolving). Not when
 * npm 12 runs a root `preinstall` before it installs: the gate decides before that runs. Only on the npm versions whose
 * Arborist was measured (quirks.ts `asksBeforeInstalling`).
 */
function resolvesInHeldNpm(cmd: NpmCommand, ctx: GateContext, dir: string): boolean {
  if (cmd.command !== 'install' || cmd.positionals.length > 0 || !asksBeforeInstalling(ctx.npm.version)) return false;
  return !(rootPreinstallFirst(ctx.npm.version) && rootScriptNames(dir).preinstall !== undefined);
}

/**
 * The lockfile a held npm asked about, as the gate reads it: it must be the file the gate reads for this npm in the
 * folder the gate opened (lockfileIn; `package-lock.json` when there is none yet).
 */
function projectLockfile(install: NpmInstall, lockfile: ResolvedLockfile): LockfileText {
  const name = basename(lockfile.file);
  const expected = basename(lockfileIn(install.dir, install.ctx.npm.version) ?? 'package-lock.json');
  const sameFolder = (() => {
    try {
      return realpathSync(dirname(lockfile.file)) === realpathSync(install.dir);
    } catch {
      return false;
    }
  })();
  if (name !== expected || !sameFolder) {
    throw new PortcullisError('PROJECT_AMBIGUOUS', `npm resolved a lockfile at ${lockfile.file}, not in ${install.dir} where portcullis-npm decides; nothing was installed. Run the install from the project's folder.`);
  }
  return { file: join(install.dir, name), text: lockfile.text };
}

/**
 * A bare `install` that resolves, in one npm run (resolvesInHeldNpm): npm resolves, the gate judges the lockfile npm is
 * about to write (its packuments from npm's cache, as after a lock-only run), and npm installs it only when nothing is
 * blocked. Undefined when that npm could not ask (it installed nothing): the caller resolves lock-only instead.
 */
async function resolveInHeldNpm(install: NpmInstall, ctx: GateContext, held: HeldNpm, installArgs: string[], restore: () => Promise<void>): Promise<number | undefined> {
  let judged: Judged | undefined;
  const run = await held.goAsking(installArgs, async (lockfile) => {
    mark('resolved (npm asks)');
    judged = await judgeLockfile(install, true, projectLockfile(install, lockfile));
    mark(judged.verdict.remembered ? 'judged lockfile (remembered)' : 'judged lockfile');
    if (judged.verdict.blocking.length > 0) return false;
    installPathsWhileNpmRuns(judged);
    return true;
  });
  if (run.outcome === 'cannot') return undefined;
  if (run.outcome === 'stopped' && judged !== undefined && judged.verdict.blocking.length > 0) {
    await restore();
    return reportBlocked(decidedNow(judged.verdict), { kind: 'npm', path: judged.text.file }, 'nothing was installed; package.json and package-lock.json are unchanged.');
  }
  mark('npm installed');
  if (run.code !== 0) {
    // npm failed (and said why) before it asked, or after the lockfile was let through.
    await restore();
    return run.code;
  }
  if (run.outcome !== 'allowed' || judged === undefined) {
    // ask.ts stops an npm that would install what was not let through: this one ended well without asking.
    await restore();
    say(
      `portcullis-npm: npm ${ctx.npm.version ?? '(version unknown)'} installed without asking about the lockfile it resolved, so what it put in node_modules was never decided (no install script ran). package.json and the lockfile were put back. Remove node_modules and run the install again; if this repeats, report it with npm's version.`,
    );
    return 3;
  }
  return afterInstall(install, { rootScripts: true, before: judged });
}

/**
 * `install`/`add`/`update`/`dedupe`/`audit fix`/`uninstall`/`prune`: the command lock-only, decide, then install exactly
 * that lockfile (`npm install`, which also removes what the lockfile no longer holds).
 */
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
  const lockOnly = optionOn(cmd, 'package-lock-only');
  // The install npm runs once the lockfile is let through: started now, held (hold.ts), so that its Node starts while
  // the gate resolves and decides; it reads nothing until then (a resolution first only makes it wait longer).
  const installArgs = ['install', ...cmd.optionArgs.filter((a) => a !== '--package-lock-only'), ...quietFlags(cmd)];
  const hold = (): HeldNpm | undefined => (installsThroughHeldNpm(cmd) ? heldNpm(ctx) : undefined);
  let held: HeldNpm | undefined;
  const restore = async () => {
    await held?.stop();
    snapshot.restore();
  };
  try {
    held = hold();
    const current = lockfileIsCurrent(install.dir, cmd);
    if (!current && held !== undefined && resolvesInHeldNpm(cmd, ctx, install.dir)) {
      const asking = held;
      held = undefined;
      const code = await resolveInHeldNpm(install, ctx, asking, installArgs, restore);
      if (code !== undefined) return code;
      // That npm could not ask: resolve lock-only, then install through another held npm.
      held = holdNpm(ctx.npm, { cwd: ctx.cwd, env: quietEnv(ctx.env), holdWith: ctx.holdWith });
    }
    // `--package-lock-only` always, last: the user's own may be one npm reads as off (`--package-lock-only=false`).
    const resolved = current
      ? { code: 0, stdout: '', stderr: '' }
      : await runNpm(ctx.npm, withOwnFlags(cmd.argv, ['--package-lock-only', ...quietFlags(cmd), ...cooldownFlags(install), '--no-audit', '--no-fund']), { cwd: ctx.cwd, env: quietEnv(ctx.env), inherit: false });
    if (resolved.code !== 0) {
      await restore();
      process.stdout.write(resolved.stdout);
      process.stderr.write(resolved.stderr);
      return resolved.code;
    }
    // npm's hidden lockfile must keep describing node_modules, or npm skips installing what was just resolved.
    snapshot.restoreHiddenLockfile();
    mark('resolved');
    const judged = await judgeLockfile(install, !current);
    const { verdict } = judged;
    mark(verdict.remembered ? 'judged lockfile (remembered)' : 'judged lockfile');
    if (verdict.blocking.length > 0) {
      await restore();
      return reportBlocked(decidedNow(verdict), { kind: 'npm', path: judged.text.file }, 'nothing was installed; package.json and package-lock.json are unchanged.');
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
      if (code !== 0) {
        await held?.stop();
        return code;
      }
    }
    // Install exactly the checked lockfile; npm's normal output is the user's.
    const installing = held!;
    held = undefined;
    const going = installing.go(installArgs);
    installPathsWhileNpmRuns(judged);
    const installed = await going;
    mark('npm installed');
    if (installed.code !== 0) {
      await restore();
      return installed.code;
    }
    return await afterInstall(install, { rootScripts: bare, before: judged });
  } catch (error) {
    await restore();
    throw error;
  }
}

/** `ci`: the lockfile is given; decide on it before npm downloads anything. */
export async function gateCi(cmd: NpmCommand, ctx: GateContext): Promise<number> {
  mark('start');
  const install = await openInstall(cmd, ctx);
  mark('opened');
  if (lockfileIn(install.dir, ctx.npm.version) === undefined) {
    // npm explains that ci needs a lockfile; with scripts off nothing runs.
    return (await runNpm(ctx.npm, withOwnFlags(cmd.argv, quietFlags(cmd)), { cwd: ctx.cwd, env: quietEnv(ctx.env), inherit: true })).code;
  }
  // npm ci starts now, held until the lockfile is let through (hold.ts): its Node starts while the gate decides.
  const held = heldNpm(ctx);
  try {
    const judged = await judgeLockfile(install);
    const { verdict } = judged;
    mark(verdict.remembered ? 'judged lockfile (remembered)' : 'judged lockfile');
    if (verdict.blocking.length > 0) {
      await held.stop();
      return reportBlocked(decidedNow(verdict), { kind: 'npm', path: judged.text.file }, 'nothing was installed.');
    }
    if (rootPreinstallFirst(ctx.npm.version)) {
      const code = await runLifecycle(ctx, cmd, install.dir, [], { rootScripts: true, onlyPreinstall: true });
      if (code !== 0) {
        await held.stop();
        return code;
      }
    }
    const going = held.go(['ci', ...cmd.optionArgs, ...quietFlags(cmd)]);
    installPathsWhileNpmRuns(judged);
    const installed = await going;
    mark('npm installed');
    if (installed.code !== 0) return installed.code;
    return afterInstall(install, { rootScripts: true, before: judged });
  } catch (error) {
    await held.stop();
    throw error;
  }
}

/** `rebuild [names]`: run the allowed scripts of what is installed, nothing else. */
export async function gateRebuild(cmd: NpmCommand, ctx: GateContext): Promise<number> {
  const install = await openInstall(cmd, ctx);
  return afterInstall(install, { rootScripts: false, ...(cmd.positionals.length > 0 ? { only: cmd.positionals } : {}) });
}
