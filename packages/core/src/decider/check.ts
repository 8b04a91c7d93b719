/** `check` end to end: find and read the project, judge every package through the gate, report. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Env } from '../env.js';
import { findProjectLockfile, readLockfile } from '../lockfile/index.js';
import { installedManifestReader, type InstalledManifest, type InstalledManifestReader } from '../layouts/installed.js';
import { MAX_LOCKFILE_BYTES } from '../lockfile/index.js';
import { digestOf, reportMayBeRemembered } from './remembered.js';
import type { Lockfile, LockfileKind, PackageNode, SourceLocation } from '../model.js';
import { defaultPnpmCacheDirs } from '../layouts/pnpm-metadata-cache.js';
import { keptCacheTrusted } from '../layouts/kept-metadata.js';
import { pnpmKeptInputs } from './kept-inputs.js';
import { pnpmGlobalVirtualStore, pnpmLockfileElsewhere, pnpmNoLockfile, pnpmPerProjectLockfiles, pnpmStoreSettings, pnpmWorkspaceSettingsIn } from '../setup/pnpm.js';
import { pnpmStoreRefusal } from '../layouts/pnpm-store.js';
import { PortcullisError } from '../errors.js';
import type { RegistryConfig } from '../registry/config.js';
import { loadNpmConfig } from '../registry/npmrc.js';
import { loadYarnConfig, YARN_UNPLUGGED_ENTRY, yarnUnpluggedFolder } from '../registry/yarnrc.js';
import { unpackedCopies } from '../layouts/unpacked-copies.js';
import { defaultStateDir } from '../cache/dirs.js';
import type { Surface } from '../report/notices.js';
import type { CheckResult } from '../report/result.js';

import type { Policy } from '../policy/types.js';
import { effectivePolicy, gateFor, type Gate, type Verdict } from './gate.js';
import type { RegistryFetch } from '../registry/client.js';

/** A project as Portcullis sees it: its root, its lockfile and its package manager's registry settings. */
export interface Project {
  dir: string;
  /** The folder the command started in (a member or a sub-folder of `dir`). */
  start: string;
  lockfile: Lockfile;
  registryConfig: RegistryConfig;
}

/**
 * Registry settings the way the project's package manager reads them when started in `from` (default: the
 * project root): npm and pnpm read the root's `.npmrc`; Yarn merges `.yarnrc.yml` files from `from` upwards.
 */
export async function loadRegistryConfig(kind: LockfileKind, dir: string, env: Env, from: string = dir): Promise<RegistryConfig> {
  return kind === 'yarn' ? loadYarnConfig({ projectDir: from, env }) : loadNpmConfig({ projectDir: dir, env });
}

/**
 * Loads the lockfile and registry settings of the project that governs `start`: the folder of its lockfile (a
 * workspace root when `start` is a member or a sub-folder). Its policy is the gate's to load (`openGate`).
 */
export async function loadProject(start: string, options: { env?: Env; kind?: LockfileKind; registryConfig?: RegistryConfig } = {}): Promise<Project> {
  const env = options.env ?? process.env;
  const found = findProjectLockfile(start, options.kind);
  const dir = dirname(found.path);
  const registryConfig = options.registryConfig ?? (await loadRegistryConfig(found.kind, dir, env, start));
  const lockfile = readLockfile(found.path, { projectDir: dir, registryFor: (name) => registryConfig.registryFor(name) });
  return { dir, start, lockfile, registryConfig };
}

export interface CheckOptions {
  env?: Env;
  kind?: LockfileKind;
  /** The registries as the package manager itself read them (the Yarn plugin passes Yarn's); default: read from its files. */
  registryConfig?: RegistryConfig;
  /** Where the report is shown (fixes are spelled for it: `yarn portcullis …` inside Yarn). Default: the CLI. */
  surface?: Surface;
  /** Use only the metadata cache. */
  offline?: boolean;
  cacheDir?: string;
  /** Fetch `/-/npm/v1/keys` of configured registries and add keys they publish (never replacing embedded ones). */
  refreshKeys?: boolean;
  fetch?: RegistryFetch;
  /** Told how many packages have been judged so far (the CLI's progress line on a terminal). */
  onProgress?: (done: number, total: number) => void;
}

/** Everything a check produced, for reports and for `explain`. */
export interface CheckRun {
  project: Project;
  gate: Gate;
  /** The policy the gate judged by (for `explain`: which line decided). */
  policy: Policy;
  verdict: Verdict;
  result: CheckResult;
  locations: Map<string, SourceLocation>;
}

/** pnpm's cache folders for a project: its pnpm-workspace.yaml `cacheDir`, the environment, the default. */
function pnpmCacheDirsOf(dir: string, env: Env): string[] {
  const configured = pnpmWorkspaceSettingsIn(dir).cacheDir;
  return [...(typeof configured === 'string' && configured !== '' ? [resolve(dir, configured)] : []), ...defaultPnpmCacheDirs(env)];
}

/**
 * A pnpm project whose store or virtual store is set to a folder inside its checkout (pnpm-workspace.yaml, .npmrc, the
 * environment; layouts/pnpm-store.ts) is a configuration error: pnpm would install what that folder holds for each
 * package, whatever the check verified.
 */
export function refuseStoreInCheckout(kind: LockfileKind, dir: string, env: Env): void {
  if (kind === 'yarn') return refuseUnvouchedUnplugged(dir, env);
  if (kind !== 'pnpm') return;
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  const globalVirtualStore = pnpmGlobalVirtualStore(dir, env);
  for (const setting of pnpmStoreSettings(dir, env)) {
    const refusal = pnpmStoreRefusal(setting, dir, home, { globalVirtualStore });
    if (refusal !== undefined) throw new PortcullisError('STORE_IN_CHECKOUT', `${refusal.message}. Fix: ${refusal.fix}`);
  }
}

/**
 * A Yarn PnP project whose unplugged folder holds a package folder that no install checked by Portcullis left as it is
 * (layouts/unpacked-copies.ts: committed, or changed since) is a configuration error: Yarn would use its files as they
 * are, whatever the check verified. The plugin removes such folders before Yarn links; the check can only say so.
 */
function refuseUnvouchedUnplugged(dir: string, env: Env): void {
  const folder = yarnUnpluggedFolder({ projectDir: dir, env });
  if (folder === undefined) return;
  const unvouched = unpackedCopies({ folder, stateDir: defaultStateDir(env), entry: YARN_UNPLUGGED_ENTRY }).unvouched();
  if (unvouched.length === 0) return;
  const shown = unvouched.slice(0, 3).join(', ') + (unvouched.length > 3 ? ` and ${unvouched.length - 3} more` : '');
  throw new PortcullisError(
    'STORE_IN_CHECKOUT',
    `${shown}: Yarn's PnP linker would use these unpacked package folders as they are, and no install checked by portcullis left them so (committed, or changed since). Fix: remove them (rm -rf ${unvouched.map((f) => JSON.stringify(f)).join(' ')}) and run yarn install with the portcullis plugin, which unpacks the verified packages again`,
  );
}

/**
 * A pnpm project whose lockfile pnpm does not read where this check does: no lockfile at all (`lockfile: false`: pnpm
 * resolves anew each time, and the check said "all allowed" of a stale one), `lockfileDir` set to another folder (pnpm
 * installs from that folder's lockfile, and loads no pnpmfile from here: the check said "all allowed" while pnpm linked a
 * badly signed package from there), or a workspace that keeps one lockfile per project (`sharedWorkspaceLockfile: false`:
 * pnpm installs each project from its own, and a check of the root read the root's alone). Refused, naming the setting.
 */
export function refusePnpmLockfileElsewhere(kind: LockfileKind, dir: string, env: Env): void {
  if (kind !== 'pnpm') return;
  // pnpm reads no lockfile at all: it resolves package.json anew at every install (the pnpmfile judges that resolution).
  const none = pnpmNoLockfile(dir, env);
  if (none !== undefined) {
    throw new PortcullisError(
      'USAGE',
      `${none}: pnpm reads no pnpm-lock.yaml and resolves package.json anew at every install, so ${join(dir, 'pnpm-lock.yaml')} is not what it installs. Fix: remove the setting (pnpm writes and installs from its lockfile), then check again`,
    );
  }
  // pnpm installs from another folder's lockfile, and loads no pnpmfile from here: the check must not judge this one.
  const elsewhere = pnpmLockfileElsewhere(dir, env);
  if (elsewhere !== undefined) {
    throw new PortcullisError(
      'USAGE',
      `${elsewhere.setting} is ${elsewhere.folder}: pnpm installs from ${join(elsewhere.folder, 'pnpm-lock.yaml')} and looks for the pnpmfile there, and this check reads ${join(dir, 'pnpm-lock.yaml')}. Fix: remove the setting (keep the lockfile beside the project), or check that folder (portcullis check --dir ${elsewhere.folder})`,
    );
  }
  if (!existsSync(join(dir, 'pnpm-workspace.yaml'))) return;
  const setting = pnpmPerProjectLockfiles(dir, env);
  if (setting === undefined) return;
  throw new PortcullisError(
    'USAGE',
    `${setting}: pnpm installs each workspace project from its own pnpm-lock.yaml, and this check reads only ${join(dir, 'pnpm-lock.yaml')}. Fix: check each project where its lockfile is (portcullis check --dir <project>), or remove the setting to keep one lockfile for the workspace`,
  );
}

/** The gate a check judges through (purpose `check`). */
function checkGate(policy: Policy, at: { dir: string; start: string; kind: LockfileKind; registryConfig: RegistryConfig }, options: CheckOptions & { engine?: string }, env: Env): Gate {
  return gateFor(policy, {
    dir: at.dir,
    start: at.start,
    packageManager: at.kind,
    surface: options.surface ?? 'cli',
    purpose: 'check',
    registryConfig: at.registryConfig,
    env,
    ...(options.offline !== undefined ? { offline: options.offline } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.refreshKeys !== undefined ? { refreshKeys: options.refreshKeys } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    ...(options.engine !== undefined ? { engine: options.engine } : {}),
  });
}

/** The policy a check obeys (merged with the organisation policy it extends), loaded once. */
function checkPolicy(at: { dir: string; start: string; registryConfig: RegistryConfig }, options: CheckOptions, env: Env): Promise<Policy> {
  return effectivePolicy(
    {
      dir: at.dir,
      start: at.start,
      registryConfig: at.registryConfig,
      ...(options.offline !== undefined ? { offline: options.offline } : {}),
      ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
      ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    },
    env,
  );
}

/** Runs a whole check of the project that governs `start`. */
export async function runCheck(start: string, options: CheckOptions = {}): Promise<CheckRun> {
  const env = options.env ?? process.env;
  const project = await loadProject(start, { env, ...(options.kind ? { kind: options.kind } : {}), ...(options.registryConfig ? { registryConfig: options.registryConfig } : {}) });
  refuseStoreInCheckout(project.lockfile.kind, project.dir, env);
  refusePnpmLockfileElsewhere(project.lockfile.kind, project.dir, env);
  const policy = await checkPolicy(project, options, env);
  const gate = checkGate(policy, { ...project, kind: project.lockfile.kind }, options, env);
  return checkProject(project, policy, gate, installedManifestReader(project.lockfile, project.dir), options, env);
}

async function checkProject(project: Project, policy: Policy, gate: Gate, readInstalled: InstalledManifestReader, options: CheckOptions, env: Env): Promise<CheckRun> {
  // A pnpm project: pnpm kept the registry's documents (signatures included) in its own cache (pnpm 10's layout or
  // pnpm 11 and 12's); reading them there saves fetching each packument (they are only supplied, and verified like any
  // registry document). The provenance downgrade check reads a version's release line there too (the attestation
  // claims of earlier versions), so only a cache folder outside the project's checkout is read (keptCacheTrusted).
  const pnpmCaches = project.lockfile.kind === 'pnpm' ? pnpmCacheDirsOf(project.dir, env).filter((dir) => keptCacheTrusted(dir, project.dir)) : [];
  const { supplied, suppliedPackument } = pnpmKeptInputs(pnpmCaches, (pkg) => gate.asksReleaseLine(pkg.name, pkg.version));
  const verdict = await gate.judge(project.lockfile.packages, {
    readInstalled,
    ...(supplied ? { supplied } : {}),
    ...(suppliedPackument ? { suppliedPackument } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const locations = new Map<string, SourceLocation>();
  for (const pkg of project.lockfile.packages) if (pkg.location) locations.set(pkg.id, pkg.location);
  return { project, gate, policy, verdict, result: verdict.report({ kind: project.lockfile.kind, path: project.lockfile.path }), locations };
}

/** What `check` prints from: the report, where its packages are in the lockfile, and whether it was remembered. */
export interface CheckReport {
  /** The project's root (the lockfile's folder). */
  dir: string;
  result: CheckResult;
  locations: Map<string, SourceLocation>;
  /** Replayed from an earlier check of the same tree (see `checkReport`). */
  remembered: boolean;
}

/** The lockfile's text for the remembered report's key, when it is a file of a size the reader would read; else undefined. */
function lockfileText(path: string): string | undefined {
  try {
    if (statSync(path).size > MAX_LOCKFILE_BYTES) return undefined;
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** What the installed copies a check read hold now, as one digest (the same reads, the same order). */
function installedDigest(found: ReadonlyArray<InstalledManifest | null>): string {
  return digestOf(found);
}

/**
 * `check` for its report: with an engine build (the CLI's), a check of a tree whose lockfile (its exact text), policy,
 * registries, keys, trusted root, advisory sources, settings and installed files are what an earlier check of this
 * project saw replays that check's report (a day at most, authenticated with the per-user secret: see
 * `Gate.recallReport`). The installed copies that check read are read again, and any difference — a package.json,
 * a binding.gyp, a copy gone or added at one of its paths — decides again. Otherwise the same as `runCheck`.
 */
export async function checkReport(start: string, options: CheckOptions & { engine?: string } = {}): Promise<CheckReport> {
  const env = options.env ?? process.env;
  if (options.engine === undefined) {
    const run = await runCheck(start, options);
    return { dir: run.project.dir, result: run.result, locations: run.locations, remembered: false };
  }
  const found = findProjectLockfile(start, options.kind);
  const dir = dirname(found.path);
  refuseStoreInCheckout(found.kind, dir, env);
  refusePnpmLockfileElsewhere(found.kind, dir, env);
  const registryConfig = options.registryConfig ?? (await loadRegistryConfig(found.kind, dir, env, start));
  const at = { dir, start, kind: found.kind, registryConfig };
  const policy = await checkPolicy(at, options, env);
  const gate = checkGate(policy, at, options, env);
  const reader = installedManifestReader({ kind: found.kind } as Lockfile, dir);
  const keyOf = (text: string) =>
    digestOf({ lockfile: createHash('sha256').update(text).digest('base64'), path: found.path, kind: found.kind, pnpmCaches: found.kind === 'pnpm' ? pnpmCacheDirsOf(dir, env) : [] });

  const current = lockfileText(found.path);
  const hit = current !== undefined ? await gate.recallReport(keyOf(current)) : undefined;
  if (hit !== undefined) {
    const now = hit.reads.map(([name, version, paths, aliases]) => reader({ id: `${name}@${version}`, name, version, paths, aliases } as unknown as PackageNode));
    if (installedDigest(now) === hit.installed) return { dir, result: hit.result, locations: new Map(hit.locations), remembered: true };
  }

  // Decided again: the whole check, noting the text it parsed and every installed copy it read.
  let parsed: string | undefined;
  const lockfile = readLockfile(found.path, { projectDir: dir, registryFor: (name) => registryConfig.registryFor(name), onText: (text) => (parsed = text) });
  const read = new Map<string, InstalledManifest | null>();
  let unstable = false;
  const recording: InstalledManifestReader = (pkg) => {
    const manifest = reader(pkg);
    // Read twice with two answers (changing under the check): nothing to remember.
    if (read.has(pkg.id) && JSON.stringify(read.get(pkg.id)) !== JSON.stringify(manifest)) unstable = true;
    read.set(pkg.id, manifest);
    return manifest;
  };
  if (reader.at !== undefined) recording.at = reader.at;
  const run = await checkProject({ dir, start, lockfile, registryConfig }, policy, gate, recording, options, env);
  if (parsed !== undefined && !unstable && reportMayBeRemembered(run.result)) {
    const copies = lockfile.packages.filter((pkg) => read.has(pkg.id));
    const named = new Set(run.result.findings.map((f) => f.id).filter((id): id is string => id !== undefined));
    await gate.rememberReport(keyOf(parsed), {
      result: run.result,
      locations: [...run.locations].filter(([id]) => named.has(id)),
      reads: copies.map((pkg) => [pkg.name, pkg.version, [...pkg.paths], [...pkg.aliases]]),
      installed: installedDigest(copies.map((pkg) => read.get(pkg.id) ?? null)),
    });
  }
  return { dir, result: run.result, locations: run.locations, remembered: false };
}
